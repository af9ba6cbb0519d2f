// Requests answered byte for byte as `opa run --server` answers them, both serving the same Rego source
// (Verdict compiles it itself): numbers kept exact, duplicate keys, nesting at and over Go's limit, the
// parameters Verdict refuses by name, and what the decision log keeps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { send, startOpa, startVerdict, writeTree, type OpaServer, type RawResponse } from './harness.js';
import type { RunningServer } from '../../src/server/start.js';
import type { DecisionEvent } from '../../src/server/context.js';
import { writeJson } from '../../src/json/writer.js';

const policy = `package t

echo := input

exact if input.n == 123456789012345678901234567890

conflict := x if some x in input.xs
`;

let opa: OpaServer;
/** OPA with its decision log on (console), so its answers carry a decision_id as Verdict's do. */
let opaLogging: OpaServer;
let verdict: RunningServer;
const events: DecisionEvent[] = [];

before(async () => {
  const dir = writeTree({ '.manifest': JSON.stringify({ roots: ['t'] }), 't/policy.rego': policy, 'config.yaml': '{}\n', 'logging.yaml': 'decision_logs:\n  console: true\n' });
  [opa, opaLogging, verdict] = await Promise.all([startOpa(`${dir}/config.yaml`, [dir]), startOpa(`${dir}/logging.yaml`, [dir]), startVerdict('{}', [dir], (e) => void events.push(e))]);
});

after(async () => {
  await Promise.all([opa?.stop(), opaLogging?.stop(), verdict?.close()]);
});

/** The body with the decision id (Verdict's, random) taken out; everything else must be the same bytes. */
const withoutDecisionId = (res: RawResponse) => res.body.toString('utf8').replace(/"decision_id":"[^"]*",?/, '');
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
// Keys in sorted order: OPA writes objects sorted, whatever order they were sent in.
const exactNumbers = '{"exp":1E2,"half":1.50,"huge":1e400,"int":7,"n":123456789012345678901234567890,"negzero":-0,"one":1.0,"small":0.1,"tiny":1e-400}';

const cases: { name: string; method: string; path: string; body?: string }[] = [
  { name: 'numbers come back exactly as sent', method: 'POST', path: '/v1/data/t/echo', body: `{"input":${exactNumbers}}` },
  { name: 'a policy compares a 30-digit integer exactly', method: 'POST', path: '/v1/data/t/exact', body: '{"input":{"n":123456789012345678901234567890}}' },
  { name: 'a near miss of it stays a miss', method: 'POST', path: '/v1/data/t/exact', body: '{"input":{"n":123456789012345678901234567891}}' },
  { name: 'exact numbers with other keys around the input', method: 'POST', path: '/v1/data/t/echo', body: `{"a":1,"input":${exactNumbers},"b":[2]}` },
  { name: 'exact numbers in a GET input parameter', method: 'GET', path: `/v1/data/t/echo?input=${encodeURIComponent(exactNumbers)}` },
  { name: 'exact numbers in a v0 body', method: 'POST', path: '/v0/data/t/echo', body: exactNumbers },
  { name: 'the input key given twice: the last one wins', method: 'POST', path: '/v1/data/t/echo', body: '{"input":{"a":1},"input":{"b":2}}' },
  { name: 'a key given twice inside the input', method: 'POST', path: '/v1/data/t/echo', body: '{"input":{"a":1,"a":2}}' },
  { name: 'unicode escapes, pairs and lone surrogates', method: 'POST', path: '/v1/data/t/echo', body: '{"input":["\\ud83d\\ude00","é","\\u00e9","a\\ud800b","\\u2028","<a&b>","\\u0000\\u001f\\u007f"]}' },
  { name: 'trailing text after the body is ignored, as Go\'s decoder does', method: 'POST', path: '/v1/data/t/echo', body: '{"input":1} trailing' },
  { name: 'a 5,000-deep array input is answered', method: 'POST', path: '/v1/data/t/echo', body: `{"input":${nested(5_000)}}` },
  { name: 'nesting at the limit (10,000 levels with the envelope)', method: 'POST', path: '/v1/data/t/exact', body: `{"input":${nested(9_999)}}` },
  { name: 'one level over the limit is a 400', method: 'POST', path: '/v1/data/t/exact', body: `{"input":${nested(10_000)}}` },
  { name: 'a 100,000-deep array input is a 400', method: 'POST', path: '/v1/data/t/echo', body: `{"input":${nested(100_000)}}` },
  { name: 'a 100,000-deep v0 body is a 400', method: 'POST', path: '/v0/data/t/echo', body: nested(100_000) },
  { name: 'a 100,000-deep Data API write is a 400', method: 'PUT', path: '/v1/data/deep', body: nested(100_000) },
  { name: 'a Data API write keeps its numbers', method: 'PUT', path: '/v1/data/numbers', body: exactNumbers },
  { name: 'and reads them back exactly', method: 'GET', path: '/v1/data/numbers' },
  { name: 'a patch next to exact numbers keeps them', method: 'PATCH', path: '/v1/data/numbers', body: '[{"op":"add","path":"/added","value":1.10}]' },
  { name: 'and reads back both', method: 'GET', path: '/v1/data/numbers' },
  { name: 'unexpected end of the body', method: 'POST', path: '/v1/data/t/echo', body: '{"input":[1,' },
  { name: 'numbers at the edge of OPA\'s range are kept', method: 'POST', path: '/v1/data/t/echo', body: '{"input":[9.99e30102,1e-30103,0e-99999999,123456789012345678901234567890e-30103]}' },
  { name: 'an input number beyond OPA\'s range is a 400', method: 'POST', path: '/v1/data/t/echo', body: '{"input":{"n":12e30102}}' },
  { name: 'and a tiny one too', method: 'POST', path: '/v1/data/t/echo', body: '{"input":[5e-30104]}' },
  { name: 'beyond the range outside the input is no matter', method: 'POST', path: '/v1/data/t/echo', body: '{"input":1,"other":1e999999}' },
  { name: 'beyond the range in a v0 body', method: 'POST', path: '/v0/data/t/echo', body: '{"n":1e999999}' },
  { name: 'beyond the range in a GET input parameter', method: 'GET', path: '/v1/data/t/echo?input=1e999999' },
  { name: 'beyond the range in a Query API input', method: 'POST', path: '/v1/query', body: '{"query":"x := input","input":1e999999}' },
  { name: 'a bad character, in Go\'s words', method: 'POST', path: '/v1/data/t/echo', body: '{"input":[1 2]}' },
];

for (const c of cases) {
  test(`same bytes as OPA: ${c.name}`, async () => {
    const theirs = await send(opa.url, c.method, c.path, c.body);
    const ours = await send(verdict.url, c.method, c.path, c.body);
    assert.equal(ours.status, theirs.status, `OPA said ${theirs.status} ${theirs.body.toString().slice(0, 300)}`);
    assert.equal(withoutDecisionId(ours), withoutDecisionId(theirs));
  });
}

test('the decision id leads the answer as in OPA\'s, compact and ?pretty, with and without a result', async () => {
  const requests: [string, string, string?][] = [
    ['POST', '/v1/data/t/exact', '{"input":{"n":123456789012345678901234567890}}'],
    ['POST', '/v1/data/t/missing', '{"input":{}}'],
    ['POST', '/v1/data/t/echo?pretty', '{"input":{"a":[1,{"b":"<&>"}]}}'],
    ['POST', '/v1/data/t/missing?pretty=true', '{"input":{}}'],
    ['POST', '/v1/data/t/echo', '{}'],
    ['POST', '/v1/data/t/echo?pretty', '{}'],
    ['GET', '/v1/data/t/echo?pretty&input=%7B%22x%22%3A1%7D'],
  ];
  for (const [method, path, body] of requests) {
    const theirs = (await send(opaLogging.url, method, path, body)).body.toString('utf8');
    const ours = (await send(verdict.url, method, path, body)).body.toString('utf8');
    const ourId = (JSON.parse(ours) as { decision_id: string }).decision_id;
    const theirId = (JSON.parse(theirs) as { decision_id: string }).decision_id;
    assert.equal(ourId, events.at(-1)!.decision_id, `${method} ${path}`);
    assert.equal(ours, theirs.replace(theirId, ourId), `${method} ${path}`);
  }
});

test('the server keeps serving after the deep and malformed bodies', async () => {
  const res = await send(verdict.url, 'POST', '/v1/data/t/exact', '{"input":{"n":123456789012345678901234567890}}');
  assert.equal(withoutDecisionId(res), '{"result":true}\n');
});

test('decision-log events keep the numbers as sent, in the input and the result', async () => {
  await send(verdict.url, 'POST', '/v1/data/t/echo', `{"input":${exactNumbers}}`);
  const event = events.at(-1)!;
  assert.equal(writeJson(event.input), exactNumbers);
  assert.equal(writeJson(event.result), exactNumbers);
});

test('a failed evaluation: the decision-log event keeps the evaluation\'s own error', async () => {
  const res = await send(verdict.url, 'POST', '/v1/data/t/conflict', '{"input":{"xs":[1,2]}}');
  assert.equal(res.status, 500);
  const detail = JSON.parse(res.body.toString()).errors[0];
  assert.equal(detail.code, 'eval_conflict_error');
  assert.deepEqual(events.at(-1)!.error, { code: 'eval_conflict_error', message: detail.message, location: detail.location });
  assert.notEqual(events.at(-1)!.error!.message, 'error(s) occurred while evaluating query');
});

test('?metrics gives the names OPA gives for a prepared query', async () => {
  const path = '/v1/data/t/exact?metrics';
  const body = '{"input":{"n":1}}';
  await send(opa.url, 'POST', path, body);
  const theirs = JSON.parse((await send(opa.url, 'POST', path, body)).body.toString()).metrics as Record<string, number>;
  await send(verdict.url, 'POST', path, body);
  const ours = JSON.parse((await send(verdict.url, 'POST', path, body)).body.toString()).metrics as Record<string, number>;
  // OPA adds timer_rego_external_resolve_ns only when the query reads data through a resolver.
  delete theirs.timer_rego_external_resolve_ns;
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
  assert.equal(ours.counter_server_query_cache_hit, 1);
  for (const [name, value] of Object.entries(ours)) assert.ok(Number.isInteger(value) && value >= 0, `${name}: ${value}`);
});

test('?instrument=true answers with OPA\'s evaluator figures, never ignored (names: test/server/metrics-timers.test.ts)', async () => {
  for (const param of ['instrument', 'instrument=true']) {
    for (const [method, body] of [['POST', '{"input":{}}'], ['GET', undefined]] as const) {
      const res = await send(verdict.url, method, `/v1/data/t/exact?${param}`, body);
      assert.equal(res.status, 200, `${method} ?${param}`);
      const metrics = JSON.parse(res.body.toString()).metrics as Record<string, unknown>;
      assert.ok(Object.keys(metrics).some((name) => name.startsWith('timer_eval_op_')), Object.keys(metrics).join(', '));
    }
  }
  for (const param of ['explain=off', 'instrument=false', 'strict-builtin-errors=false']) {
    const res = await send(verdict.url, 'POST', `/v1/data/t/exact?${param}`, '{"input":{}}');
    assert.equal(res.status, 200, param);
    assert.equal(JSON.parse(res.body.toString()).metrics, undefined, param);
  }
});

test('concurrent policy PUTs that all answer 200 all survive', async () => {
  const ids = ['c1', 'c2', 'c3', 'c4', 'c5'];
  const answers = await Promise.all(ids.map((id) => send(verdict.url, 'PUT', `/v1/policies/${id}`, `package ${id}\n\nvalue := "${id}"\n`)));
  assert.deepEqual(answers.map((a) => a.status), ids.map(() => 200));
  const listed = (JSON.parse((await send(verdict.url, 'GET', '/v1/policies')).body.toString()).result as { id: string }[]).map((p) => p.id);
  for (const id of ids) {
    assert.ok(listed.includes(id), `${id} in ${listed.join(', ')}`);
    assert.equal(withoutDecisionId(await send(verdict.url, 'POST', `/v1/data/${id}/value`, '{"input":{}}')), `{"result":"${id}"}\n`);
  }
  // Deletes racing with puts keep to arrival order as well.
  const mixed = await Promise.all([send(verdict.url, 'DELETE', '/v1/policies/c1'), send(verdict.url, 'PUT', '/v1/policies/c6', 'package c6\n\nvalue := 6\n'), send(verdict.url, 'DELETE', '/v1/policies/c2')]);
  assert.deepEqual(mixed.map((a) => a.status), [200, 200, 200]);
  const after = (JSON.parse((await send(verdict.url, 'GET', '/v1/policies')).body.toString()).result as { id: string }[]).map((p) => p.id).filter((id) => /^c\d$/.test(id)).sort();
  assert.deepEqual(after, ['c3', 'c4', 'c5', 'c6']);
});

const q = (query: string) => `/v1/query?q=${encodeURIComponent(query)}`;
const queryCases: { name: string; method: string; path: string; body?: string; codeOnly?: boolean }[] = [
  { name: 'query bindings', method: 'GET', path: q('x := 1; y = x + 1') },
  { name: 'query over a rule and base data', method: 'GET', path: q('x := data.t.echo') },
  { name: 'query with no solution', method: 'GET', path: q('1 = 2') },
  { name: 'query that holds without bindings', method: 'GET', path: q('true') },
  { name: 'query without q', method: 'GET', path: '/v1/query' },
  { name: 'query that does not parse', method: 'GET', path: q('[') },
  { name: 'query with an unknown function', method: 'GET', path: q('x = nofn(1)'), codeOnly: true },
  { name: 'query POST with input, numbers exact', method: 'POST', path: '/v1/query', body: '{"query":"x := input.xs[_]","input":{"xs":[1,2e400,1.0]}}' },
  { name: 'query POST with an empty query', method: 'POST', path: '/v1/query', body: '{}' },
  { name: 'query POST that is not JSON', method: 'POST', path: '/v1/query', body: 'bad' },
  { name: 'query with the wrong method', method: 'PUT', path: '/v1/query', body: '{}' },
  { name: 'query metrics are OPA\'s names', method: 'GET', path: `${q('x := 1')}&metrics`, codeOnly: true },
  { name: 'health rule true', method: 'GET', path: '/health/live' },
  { name: 'health rule false', method: 'GET', path: '/health/ready' },
  { name: 'health rule on the plugin input', method: 'GET', path: '/health/plugins_ok' },
  { name: 'health rule undefined, nested path', method: 'GET', path: '/health/a/b' },
  { name: 'health rule with the wrong method', method: 'POST', path: '/health/live', body: '{}' },
];

test('health rules are installed on both servers', async () => {
  const source = 'package system.health\n\nlive := true\n\nready := false\n\nplugins_ok if input.plugins_ready == true\n';
  for (const server of [opa.url, verdict.url]) assert.equal((await send(server, 'PUT', '/v1/policies/health', source)).status, 200);
});

for (const c of queryCases) {
  test(`same answer as OPA: ${c.name}`, async () => {
    const theirs = await send(opa.url, c.method, c.path, c.body);
    const ours = await send(verdict.url, c.method, c.path, c.body);
    assert.equal(ours.status, theirs.status, `OPA said ${theirs.status} ${theirs.body.toString().slice(0, 300)}`);
    assert.equal(String(ours.headers['content-type']).split(';')[0], String(theirs.headers['content-type']).split(';')[0]);
    if (!c.codeOnly) return assert.equal(withoutDecisionId(ours), withoutDecisionId(theirs));
    const [o, t] = [JSON.parse(ours.body.toString()), JSON.parse(theirs.body.toString())];
    assert.deepEqual(Object.keys(o.metrics ?? {}).sort(), Object.keys(t.metrics ?? {}).sort());
    assert.equal(o.code, t.code);
    assert.deepEqual(o.errors?.map((e: { code: string }) => e.code), t.errors?.map((e: { code: string }) => e.code));
  });
}

test('GET / is a query page with a form that posts to the Query API', async () => {
  const res = await send(verdict.url, 'GET', '/');
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  const html = res.body.toString();
  assert.match(html, /<form id="query">/);
  assert.match(html, /fetch\('v1\/query\?pretty', \{ method: 'POST'/);
  assert.equal((await send(verdict.url, 'PUT', '/', '{}')).status, 405);
});
