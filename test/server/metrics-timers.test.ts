// ?metrics compared with `opa run --server`: the same timer and counter names for each endpoint (Data API
// POST and GET on rules, base data and missing paths, the Query API by GET and POST), every value an honest
// non-negative integer. Requests are sent twice first, so OPA's prepared-query cache is warm: Verdict compiles
// entrypoints with the policy and is always a cache hit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { send, startOpaAndVerdict, type OpaServer } from './harness.js';
import type { RunningServer } from '../../src/server/start.js';

const policy = `package t

allow if input.user == "alice"
`;

let opa: OpaServer;
let verdict: RunningServer;

before(async () => {
  ({ opa, verdict } = await startOpaAndVerdict({ '.manifest': JSON.stringify({ roots: ['t', 'base'] }), 't/policy.rego': policy, 'base/data.json': '{"k":1}' }));
});

after(async () => {
  await Promise.all([opa?.stop(), verdict?.close()]);
});

/** `missing`: names OPA reports that Verdict has no honest value for (docs/server.md, "?metrics"). */
const cases: { name: string; method: string; path: string; body?: string; missing?: string[] }[] = [
  { name: 'POST /v1/data on a rule', method: 'POST', path: '/v1/data/t/allow?metrics', body: '{"input":{"user":"alice"}}' },
  { name: 'GET /v1/data on a rule', method: 'GET', path: `/v1/data/t/allow?metrics&input=${encodeURIComponent('{"user":"alice"}')}` },
  { name: 'GET /v1/data on base data (external resolve)', method: 'GET', path: '/v1/data/base?metrics' },
  { name: 'POST /v1/data on a missing path (external resolve)', method: 'POST', path: '/v1/data/nothing/here?metrics', body: '{"input":{}}' },
  // A package is one evaluation of its compiled entrypoint: nothing is resolved outside the module.
  { name: 'GET /v1/data on a package', method: 'GET', path: '/v1/data/t?metrics', missing: ['timer_rego_external_resolve_ns'] },
  { name: 'GET /v1/query (no handler timer, as OPA)', method: 'GET', path: `/v1/query?metrics&q=${encodeURIComponent('x := 1')}` },
  { name: 'POST /v1/query (with the handler timer)', method: 'POST', path: '/v1/query?metrics', body: '{"query":"x := input.a","input":{"a":1}}' },
];

const metricsOf = async (base: string, c: (typeof cases)[number]) => {
  const res = await send(base, c.method, c.path, c.body);
  assert.equal(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString()).metrics as Record<string, number>;
};

for (const c of cases) {
  test(`?metrics names as OPA's: ${c.name}`, async () => {
    await metricsOf(opa.url, c);
    const theirs = await metricsOf(opa.url, c);
    const ours = await metricsOf(verdict.url, c);
    for (const name of c.missing ?? []) assert.ok(name in theirs, `OPA no longer reports ${name}: drop it from the expected differences`);
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).filter((name) => !c.missing?.includes(name)).sort());
    for (const [name, value] of Object.entries(ours)) assert.ok(Number.isInteger(value) && value >= 0, `${name}: ${value}`);
    if ('counter_server_query_cache_hit' in ours) assert.equal(ours.counter_server_query_cache_hit, 1);
  });
}

test('?instrument is refused with the reason: no evaluator operations to time', async () => {
  for (const path of ['/v1/data/t/allow?instrument', `/v1/query?instrument&q=${encodeURIComponent('x := 1')}`]) {
    const res = await send(verdict.url, 'GET', path);
    assert.equal(res.status, 400);
    const error = JSON.parse(res.body.toString());
    assert.equal(error.code, 'invalid_parameter');
    assert.match(error.message, /parameter "instrument" is not supported: .*evaluator's operations/);
  }
});
