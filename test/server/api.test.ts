// Verdict's own API behaviour beyond what the differential test can compare: bad input that OPA itself
// mishandles, evaluation errors, the decision hook, gzip responses, metrics and the Policy API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { buildWasmBundle } from '../engine/opa-fixture.js';
import { send, startVerdict, writeTree } from './harness.js';
import type { RunningServer } from '../../src/server/start.js';
import type { DecisionEvent } from '../../src/server/context.js';

let verdict: RunningServer;
const events: DecisionEvent[] = [];

before(async () => {
  const dir = writeTree({
    '.manifest': JSON.stringify({ revision: 'api-1', roots: ['p'] }),
    'p/p.rego': 'package p\nx := v if { some v in input.vs }\nallow if input.user == "alice"\nbig := [i | some i in numbers.range(1, 500)]\n',
  });
  const bundle = buildWasmBundle(dir, ['p/x', 'p/allow', 'p/big']);
  verdict = await startVerdict('server:\n  decoding:\n    max_length: 2048\n', [bundle], (e) => events.push(e));
});

after(() => verdict?.close());

const alive = async () => assert.deepEqual(JSON.parse((await send(verdict.url, 'POST', '/v1/data/p/allow', '{"input":{"user":"alice"}}')).body.toString()).result, true);

test('an evaluation error is a 500 with the detail, and the next decision is fine', async () => {
  const res = await send(verdict.url, 'POST', '/v1/data/p/x', '{"input":{"vs":[1,2]}}');
  assert.equal(res.status, 500);
  const body = JSON.parse(res.body.toString());
  assert.equal(body.code, 'internal_error');
  assert.equal(body.message, 'error(s) occurred while evaluating query');
  assert.equal(body.errors[0].code, 'eval_conflict_error');
  // The location is split out of the runtime's `file:row:col: message`, as OPA reports it apart.
  assert.match(body.errors[0].location.file, /p\/p\.rego$/);
  assert.equal(body.errors[0].location.row, 2);
  // The event keeps the evaluation's own error, as OPA stores it, not the envelope's summary.
  assert.deepEqual(events.at(-1)!.error, { code: 'eval_conflict_error', message: body.errors[0].message, location: body.errors[0].location });
  assert.deepEqual(JSON.parse((await send(verdict.url, 'POST', '/v1/data/p/x', '{"input":{"vs":[7]}}')).body.toString()), { decision_id: events.at(-1)!.decision_id, result: 7 });
});

test('a chunked body over the limit is refused while streaming', async () => {
  const res = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(verdict.url).port), '127.0.0.1');
    let out = '';
    socket.on('data', (c) => (out += c.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    const chunk = 'x'.repeat(1000);
    socket.write('POST /v1/data/p/allow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
    for (let i = 0; i < 4; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    socket.end('0\r\n\r\n');
  });
  assert.match(res, /^HTTP\/1\.1 400/);
  assert.match(res, /request body too large: .* exceeds limit of 2048 bytes \(server\.decoding\.max_length\)/);
  await alive();
});

test('a client that disconnects mid-body does not disturb the server', async () => {
  await new Promise<void>((resolve) => {
    const socket = connect(Number(new URL(verdict.url).port), '127.0.0.1', () => {
      socket.write('POST /v1/data/p/allow HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"input":');
      socket.destroy();
      resolve();
    });
  });
  await alive();
});

test('a decision path with broken percent-encoding is a plain 400, as from Go\'s HTTP server', async () => {
  const res = await send(verdict.url, 'POST', '/v1/data/p/%zz', '{}');
  assert.equal(res.status, 400);
  assert.equal(res.body.toString(), '400 Bad Request');
  await alive();
});

test('decisions reach the hook with OPA EventV1 fields, and the response carries the decision id', async () => {
  events.length = 0;
  const res = JSON.parse((await send(verdict.url, 'POST', '/v1/data/p/allow', '{"input":{"user":"alice"}}')).body.toString());
  const [event] = events;
  assert.equal(res.decision_id, event.decision_id);
  assert.equal(event.path, 'p/allow');
  assert.deepEqual(event.input, { user: 'alice' });
  assert.equal(event.result, true);
  assert.deepEqual(Object.values(event.bundles ?? {}), [{ revision: 'api-1' }]);
  assert.match(event.requested_by ?? "", /^127\.0\.0\.1:\d+$/);
  assert.ok(!Number.isNaN(Date.parse(event.timestamp)));
  assert.equal(event.labels.version, '0.1.0');
});

test('large responses are gzipped when the client accepts gzip', async () => {
  const res = await send(verdict.url, 'GET', '/v1/data/p/big', undefined, { 'Accept-Encoding': 'gzip' });
  assert.equal(res.headers['content-encoding'], 'gzip');
  assert.equal(JSON.parse(gunzipSync(res.body).toString()).result.length, 500);
});

test('/metrics exposes OPA\'s request histogram by handler, bundle counters and evaluation latency', async () => {
  const text = (await send(verdict.url, 'GET', '/metrics')).body.toString();
  assert.match(text, /http_request_duration_seconds_count\{code="200",handler="v1\/data",method="post"\} \d+/);
  assert.match(text, /verdict_evaluation_duration_seconds_count [1-9]\d*/);
  assert.match(text, /bundle_loaded_counter\{name="[^"]+bundle\.tar\.gz"\} 1/);
});

test('the Policy API adds, lists, compiles and removes modules through the compiler', async () => {
  assert.equal((await send(verdict.url, 'PUT', '/v1/policies/extra.rego', 'package extra\nanswer := 42\n')).status, 200);
  assert.deepEqual(JSON.parse((await send(verdict.url, 'GET', '/v1/data/extra/answer')).body.toString()), { decision_id: events.at(-1)!.decision_id, result: 42 });
  const listed = JSON.parse((await send(verdict.url, 'GET', '/v1/policies')).body.toString());
  assert.ok(listed.result.some((p: { id: string }) => p.id === 'extra.rego'));
  const bad = await send(verdict.url, 'PUT', '/v1/policies/broken', 'package broken\np := \n');
  assert.equal(bad.status, 400);
  const err = JSON.parse(bad.body.toString());
  assert.equal(err.message, 'error(s) occurred while compiling module(s)');
  assert.equal(err.errors[0].code, 'rego_parse_error');
  assert.equal(err.errors[0].location.file, 'broken');
  const owned = await send(verdict.url, 'PUT', '/v1/policies/x', 'package p.q\nr := 1\n');
  assert.equal(JSON.parse(owned.body.toString()).message.startsWith('path p/q is owned by bundle'), true);
  assert.equal((await send(verdict.url, 'DELETE', '/v1/policies/extra.rego')).status, 200);
  assert.equal((await send(verdict.url, 'GET', '/v1/policies/extra.rego')).status, 404);
  await alive();
});

test('the Decide contract for other front ends evaluates and records like the REST API', async () => {
  events.length = 0;
  const decision = await verdict.decide('p/allow', { user: 'alice' });
  assert.equal(decision.result, true);
  assert.equal(decision.decisionId, events[0].decision_id);
  assert.equal(events[0].path, 'p/allow');
  assert.deepEqual(await verdict.decide('p/nothing', {}), { decisionId: events[1].decision_id });
  await assert.rejects(verdict.decide('p/x', { vs: [1, 2] }));
  assert.ok(events[2].error);
});

test('random garbage requests never crash the server and always get an answer', async () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(xs: T[]) => xs[rand(xs.length)];
  const fragments = ['{', '}', '[', ']', '"input"', ':', ',', '1', 'null', '"x"', 'true', '\u00ff', '\\u', '- ', '\n', '  ', '{"input":', '&', '#'];
  for (let i = 0; i < 300; i++) {
    const body = Buffer.from(Array.from({ length: rand(30) }, () => pick(fragments)).join(''));
    const method = pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
    const path = pick(['/v1/data', '/v1/data/p/allow', '/v1/data/p', '/v0/data/p/allow', '/', '/v1/policies/x', '/v1/data/q/r?input=' + encodeURIComponent(body.toString()), '/health?bundles']);
    const headers: Record<string, string> = {};
    if (rand(4) === 0) headers['Content-Type'] = 'application/yaml';
    if (rand(6) === 0) headers['Content-Encoding'] = 'gzip';
    const res = await send(verdict.url, method, path, body, headers);
    // None of these paths can fail evaluation, so a 5xx would be a bug in request handling.
    assert.ok(res.status < 500, `${method} ${path} ${body}: ${res.status} ${res.body}`);
  }
  await alive();
});
