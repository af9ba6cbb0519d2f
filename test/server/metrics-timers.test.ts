// ?metrics and ?instrument compared with `opa run --server`: the same timer and counter names for each
// endpoint (Data API POST and GET on rules, base data, packages and missing paths, the Query API by GET and
// POST), every value an honest non-negative integer. Each request is sent twice to each server: the first is a
// prepared-query cache miss (OPA compiles the query, Verdict works out how the path is answered, both report
// timer_rego_query_compile_ns), the second a hit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';

const policy = `package t

allow if input.user == "alice"

deny if input.user == "mallory"

k := data.base.k if input.user != "alice"
`;

// The ?instrument cases ask for paths of their own: the first request for a path is a cache miss in both.
const instrumented = `package u

v if input.user == "alice"

w := data.base.k if input.user != "alice"
`;

const servers = useOpaAndVerdict({ files: { '.manifest': JSON.stringify({ roots: ['t', 'u', 'base'] }), 't/policy.rego': policy, 'u/policy.rego': instrumented, 'base/data.json': '{"k":1}' } });

const cases: { name: string; method: string; path: string; body?: string }[] = [
  { name: 'POST /v1/data on a rule', method: 'POST', path: '/v1/data/t/allow?metrics', body: '{"input":{"user":"alice"}}' },
  { name: 'GET /v1/data on a rule', method: 'GET', path: `/v1/data/t/deny?metrics&input=${encodeURIComponent('{"user":"alice"}')}` },
  { name: 'GET /v1/data on base data (external resolve)', method: 'GET', path: '/v1/data/base?metrics' },
  { name: 'POST /v1/data on a missing path (external resolve)', method: 'POST', path: '/v1/data/nothing/here?metrics', body: '{"input":{}}' },
  { name: 'GET /v1/data on a package (external resolve)', method: 'GET', path: '/v1/data/t?metrics' },
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
    for (const request of ['first (cache miss)', 'second (cache hit)']) {
      const theirs = await metricsOf(servers.opa.url, c);
      const ours = await metricsOf(servers.verdict.url, c);
      assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), request);
      for (const [name, value] of Object.entries(ours)) assert.ok(Number.isInteger(value) && value >= 0, `${name}: ${value}`);
      if ('counter_server_query_cache_hit' in theirs) assert.equal(ours.counter_server_query_cache_hit, theirs.counter_server_query_cache_hit, request);
    }
  });
}

// ?instrument=true: OPA's names for the evaluator's operations, measured on the interpreter (docs/server.md).
// The request's own timers and counters are OPA's for the same request. The evaluator-operation figures come
// from another evaluator, so which operations occur differs with the policy: every one Verdict reports is a
// name OPA uses, each histogram has OPA's fields and its timer. Names OPA gives that Verdict has no honest value
// for: its query compile stages (Verdict compiles no query per request) and its base-document cache (the
// interpreter has none).
const notMeasured = [/^timer_(query_)?compile_stage_/, /^counter_eval_op_base_cache_/];
const evalOps = /^(histogram_eval_op_(plug|resolve|rule_index|builtin_call)|timer_eval_op_(plug|resolve|rule_index|builtin_call)_ns|counter_eval_op_virtual_cache_(hit|miss))$/;
const histogramFields = ['75%', '90%', '95%', '99%', '99.9%', '99.99%', 'count', 'max', 'mean', 'median', 'min', 'stddev'];

/** `missing`: names OPA reports that Verdict does not for the request (docs/server.md, "?metrics"). */
const instrumentCases: { name: string; method: string; path: string; body?: string; missing?: string[] }[] = [
  { name: 'POST /v1/data on a package', method: 'POST', path: '/v1/data/u?instrument=true', body: '{"input":{"user":"alice"}}' },
  { name: 'POST /v1/data on a rule, with ?metrics', method: 'POST', path: '/v1/data/u/v?instrument=true&metrics=true', body: '{"input":{"user":"alice"}}' },
  // A rule reads base data inside its module: no external resolve.
  { name: 'GET /v1/data on a rule reading base data', method: 'GET', path: `/v1/data/u/w?instrument&input=${encodeURIComponent('{"user":"bob"}')}`, missing: ['timer_rego_external_resolve_ns'] },
  { name: 'GET /v1/query', method: 'GET', path: `/v1/query?instrument=true&q=${encodeURIComponent('data.u.v')}` },
  // The Query API reads base data inside the query's module: no external resolve.
  { name: 'POST /v1/query', method: 'POST', path: '/v1/query?instrument=true', body: '{"query":"x = data.u.w; y = input.a","input":{"a":1}}', missing: ['timer_rego_external_resolve_ns'] },
];

const answerOf = async (base: string, c: { method: string; path: string; body?: string }) => {
  const res = await send(base, c.method, c.path, c.body);
  assert.equal(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString()) as { metrics: Record<string, unknown>; result?: unknown };
};

for (const c of instrumentCases) {
  test(`?instrument names and shapes as OPA's: ${c.name}`, async () => {
    const theirs = await answerOf(servers.opa.url, c);
    const ours = await answerOf(servers.verdict.url, c);
    assert.deepEqual(ours.result, theirs.result);
    const request = (names: string[]) => names.filter((name) => !evalOps.test(name) && !notMeasured.some((re) => re.test(name))).sort();
    for (const name of c.missing ?? []) assert.ok(name in theirs.metrics, `OPA no longer reports ${name}: drop it from the expected differences`);
    const theirRequest = request(Object.keys(theirs.metrics)).filter((name) => !c.missing?.includes(name));
    assert.deepEqual(request(Object.keys(ours.metrics)), theirRequest);
    const ourOps = Object.keys(ours.metrics).filter((name) => evalOps.test(name));
    assert.ok(ourOps.some((name) => name.startsWith('histogram_')), `no evaluator operation timed: ${ourOps.join(', ')}`);
    for (const name of Object.keys(theirs.metrics).filter((n) => n.startsWith('histogram_'))) assert.deepEqual(Object.keys(theirs.metrics[name] as object), histogramFields, `OPA's ${name}`);
    for (const [name, value] of Object.entries(ours.metrics)) {
      if (name.startsWith('histogram_')) {
        assert.deepEqual(Object.keys(value as object), histogramFields, name);
        const h = value as Record<string, number>;
        assert.ok(h.count >= 1 && h.min <= h.median && h.median <= h.max && h.stddev >= 0, `${name}: ${JSON.stringify(h)}`);
        assert.equal(ours.metrics[name.replace(/^histogram_(.*)$/, 'timer_$1_ns')] as number >= h.max, true, `${name}: the timer is the sum of the samples`);
      } else assert.ok(Number.isInteger(value) && (value as number) >= 0, `${name}: ${value}`);
    }
  });
}

test('?instrument on the v0 Data API is ignored, as OPA ignores it', async () => {
  const c = { method: 'POST', path: '/v0/data/t/allow?instrument=true', body: '{"user":"alice"}' };
  const theirs = await send(servers.opa.url, c.method, c.path, c.body);
  const ours = await send(servers.verdict.url, c.method, c.path, c.body);
  assert.equal(ours.status, theirs.status);
  assert.deepEqual(JSON.parse(ours.body.toString()), JSON.parse(theirs.body.toString()));
});
