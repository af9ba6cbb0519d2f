// http.send through the server: the inter-query cache (cache / force_cache) compared with `opa run --server`
// by counting the requests each server sends over three decisions; every decision route (POST and GET
// /v1/data, v0 data) answering from the same engine loop; the verdict.http_send allow-list (compared with
// OPA's allow_net capability under `opa eval`, and applied to redirects); and the per-decision request cap.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseBundle } from '../../src/bundle/bundle.js';
import { HttpSendClient } from '../../src/builtins/http-send/client.js';
import { PlanningCompiler } from '../../src/engine/compiler.js';
import { Engine } from '../../src/engine/engine.js';
import { OpaCliPlanner } from '../../src/engine/opa-compiler.js';
import { EvaluationError } from '../../src/engine/program.js';
import type { RunningServer } from '../../src/server/start.js';
import { referenceOpa } from '../engine/opa-fixture.js';
import { sendJson, startFixtureService, type FixtureService } from '../pip/fixtures/http-service.js';
import { send, startOpa, startVerdict, writeTree } from '../server/harness.js';

let svc: FixtureService;
const counters = new Map<string, number>();

function counting(path: string, headers: Record<string, string>, status = 200): void {
  svc.route('GET', path, (_req, res) => {
    const n = (counters.get(path) ?? 0) + 1;
    counters.set(path, n);
    res.setHeader('content-type', 'application/json');
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    sendJson(res, status, { n });
  });
}

function cachePolicy(base: string): string {
  return `package cachetest

fresh := http.send({"method": "GET", "url": "${base}/fresh", "cache": true}).body

no_store := http.send({"method": "GET", "url": "${base}/no-store", "cache": true}).body

forced := http.send({"method": "GET", "url": "${base}/forced", "force_cache": true, "force_cache_duration_seconds": 60}).body

forced_404 := http.send({"method": "GET", "url": "${base}/gone", "force_cache": true, "force_cache_duration_seconds": 60}).body

forced_500 := http.send({"method": "GET", "url": "${base}/broken", "force_cache": true, "force_cache_duration_seconds": 60}).body

uncached := http.send({"method": "GET", "url": "${base}/plain"}).body
`;
}

/** Three decisions through POST /v1/data; their results and how often each route was hit. */
async function threeDecisions(url: string): Promise<{ results: unknown[]; hits: Record<string, number> }> {
  counters.clear();
  const results: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await send(url, 'POST', '/v1/data/cachetest', '{"input": {}}', { 'content-type': 'application/json' });
    assert.equal(res.status, 200, res.body.toString());
    results.push(JSON.parse(res.body.toString()).result);
  }
  return { results, hits: Object.fromEntries([...counters].sort()) };
}

describe('http.send in the server', () => {
  let dir: string;
  let verdict: RunningServer;

  before(async () => {
    svc = await startFixtureService();
    counting('/fresh', { 'cache-control': 'max-age=60' });
    counting('/no-store', { 'cache-control': 'no-store' });
    counting('/forced', { 'cache-control': 'no-store' });
    counting('/gone', {}, 404);
    counting('/broken', {}, 500);
    counting('/plain', {});
    svc.route('GET', '/to-localhost', (_req, res) => {
      res.writeHead(302, { location: svc.url.replace('127.0.0.1', 'localhost') + '/fresh' }).end();
    });
    dir = writeTree({ 'cachetest/policy.rego': cachePolicy(svc.url) });
    verdict = await startVerdict(JSON.stringify({ verdict: { http_send: { allowed_hosts: ['127.0.0.1'], timeout: '2s' } } }), [dir]);
  });
  after(async () => {
    await verdict.close();
    await svc.close();
  });

  it('caches across decisions as opa run --server does (cache honours Cache-Control, force_cache overrides it)', async () => {
    const configFile = join(writeTree({ 'config.json': '{}' }), 'config.json');
    const opa = await startOpa(configFile, [dir]);
    let theirs;
    try {
      theirs = await threeDecisions(opa.url);
    } finally {
      await opa.stop();
    }
    const ours = await threeDecisions(verdict.url);
    assert.deepEqual(ours, theirs);
    // What the comparison pins, spelled out: one request for the cached routes, one per decision otherwise.
    assert.deepEqual(ours.hits, { '/broken': 3, '/forced': 1, '/fresh': 1, '/gone': 1, '/no-store': 3, '/plain': 3 });
    const metrics = (await send(verdict.url, 'GET', '/metrics')).body.toString();
    assert.match(metrics, /^verdict_http_send_requests_total\{outcome="sent"\} 12$/m);
    assert.match(metrics, /^verdict_http_send_requests_total\{outcome="cache_hit"\} 6$/m);
    assert.match(metrics, /^verdict_http_send_duration_seconds_count 12$/m);
  });

  it('answers from a warm inter-query cache in the first, synchronous pass (no abort, no re-evaluation)', async () => {
    const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())), new HttpSendClient());
    await engine.activate([parseBundle('w', [{ path: 'cachetest/p.rego', data: Buffer.from(cachePolicy(svc.url)) }])]);
    const cold = engine.evaluate(['cachetest', 'forced'], undefined);
    assert.ok(cold instanceof Promise, 'a cold request is fetched between passes');
    const first = await cold;
    const warm = engine.evaluate(['cachetest', 'forced'], undefined);
    assert.ok(!(warm instanceof Promise), 'a warm one is answered at once');
    assert.deepEqual(warm, first);
    const uncached = engine.evaluate(['cachetest', 'uncached'], undefined);
    assert.ok(uncached instanceof Promise, 'uncached requests still go out');
    await uncached;
  });

  it('a decision waiting for http.send does not hold up other decisions', async () => {
    svc.route('GET', '/slow', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 300));
      sendJson(res, 200, { late: true });
    });
    const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())), new HttpSendClient());
    await engine.activate([parseBundle('s', [{ path: 'slow/p.rego', data: Buffer.from(`package slow\n\nlate := http.send({"method": "GET", "url": "${svc.url}/slow"}).body\n\nquick := 1\n`) }])]);
    let lateDone = false;
    const late = engine.decide('slow/late', {}).then((d) => ((lateDone = true), d));
    for (let i = 0; i < 50; i++) assert.deepEqual(await engine.decide('slow/quick', {}), { result: 1 });
    assert.equal(lateDone, false, '50 decisions were answered while one waited for its response');
    assert.deepEqual(await late, { result: { late: true } });
  });

  it('keeps time.now_ns, uuid.rfc4122 and rand.intn fixed across the passes of one decision', async () => {
    svc.route('GET', '/stamp', (req, res) => sendJson(res, 200, { url: req.url }));
    const policy = `package stamp

now := time.now_ns()

id := uuid.rfc4122("req")

pick := rand.intn("p", 1000000)

echoed := http.send({"method": "GET", "url": sprintf("${svc.url}/stamp?t=%d&id=%s&r=%d", [now, id, pick])}).body.url

second := http.send({"method": "GET", "url": sprintf("${svc.url}/stamp?again=%d", [now])}).body.url
`;
    const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())), new HttpSendClient());
    await engine.activate([parseBundle('t', [{ path: 'stamp/p.rego', data: Buffer.from(policy) }])]);
    const before = svc.seen.length;
    const { result } = (await engine.decide('stamp', {})) as { result: { now: number; id: string; pick: number; echoed: string; second: string } };
    assert.equal(result.echoed, `/stamp?t=${result.now}&id=${result.id}&r=${result.pick}`);
    assert.equal(result.second, `/stamp?again=${result.now}`);
    assert.equal(svc.seen.length - before, 2, 'each request went out once');
  });

  it('answers on every decision route from the same loop', async () => {
    counters.clear();
    const post = await send(verdict.url, 'POST', '/v1/data/cachetest/uncached', '{"input": {}}', { 'content-type': 'application/json' });
    const get = await send(verdict.url, 'GET', '/v1/data/cachetest/uncached');
    const v0 = await send(verdict.url, 'POST', '/v0/data/cachetest/uncached', '{}', { 'content-type': 'application/json' });
    assert.deepEqual(JSON.parse(post.body.toString()).result, { n: 1 });
    assert.deepEqual(JSON.parse(get.body.toString()).result, { n: 2 });
    assert.deepEqual(JSON.parse(v0.body.toString()), { n: 3 });
    assert.deepEqual(await verdict.decide('cachetest/uncached', {}), { result: { n: 4 } });
    assert.equal((await send(verdict.url, 'GET', '/health')).status, 200);
    assert.equal(counters.get('/plain'), 4, 'the health check sent no request');
  });

  it('refuses a host outside allowed_hosts before connecting, with OPA allow_net wording, redirects included', async () => {
    const policy = `package allow

direct := http.send({"method": "GET", "url": "${svc.url.replace('127.0.0.1', 'localhost')}/fresh", "raise_error": false})

redirected := http.send({"method": "GET", "url": "${svc.url}/to-localhost", "enable_redirect": true, "raise_error": false})

allowed := http.send({"method": "GET", "url": "${svc.url}/plain", "raise_error": false}).status_code
`;
    const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())), new HttpSendClient({ allowedHosts: ['127.0.0.1'] }));
    await engine.activate([parseBundle('a', [{ path: 'allow/p.rego', data: Buffer.from(policy) }])]);
    const before = svc.seen.length;
    const { result } = (await engine.decide('allow', {})) as { result: Record<string, { error?: { code: string; message: string } }> };
    assert.deepEqual(svc.seen.slice(before).map((r) => r.url).sort(), ['/plain', '/to-localhost'], 'nothing reached localhost');
    assert.equal(result.allowed, 200);
    assert.deepEqual(result.redirected, { status_code: 0, error: { code: 'eval_http_send_internal_error', message: 'eval_builtin_error: http.send: disallowed host: localhost' } });

    // OPA's allow_net capability refuses the same direct request with the same error object.
    const caps = JSON.parse((await promisify(execFile)(referenceOpa(), ['capabilities', '--current'])).stdout);
    const work = writeTree({ 'caps.json': JSON.stringify({ ...caps, allow_net: ['127.0.0.1'] }), 'p.rego': policy });
    const out = await promisify(execFile)(referenceOpa(), ['eval', '--capabilities', join(work, 'caps.json'), '-f', 'json', '-d', join(work, 'p.rego'), 'data.allow.direct']);
    const opaDirect = JSON.parse(out.stdout).result[0].expressions[0].value;
    opaDirect.error.message = opaDirect.error.message.replace(/^[^\s:]+\.rego:\d+: /, ''); // OPA names the call's file:row
    assert.deepEqual(result.direct, opaDirect);
  });

  it('fails a decision that needs more requests than max_requests_per_decision', async () => {
    const policy = `package cap

rounds := [r | some i in numbers.range(1, 4); r := http.send({"method": "GET", "url": sprintf("${svc.url}/plain?i=%d", [i])}).status_code]
`;
    const decide = async (max: number) => {
      const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())), new HttpSendClient({ maxRequestsPerDecision: max }));
      await engine.activate([parseBundle('c', [{ path: 'cap/p.rego', data: Buffer.from(policy) }])]);
      return engine.decide('cap/rounds', {});
    };
    assert.deepEqual(await decide(4), { result: [200, 200, 200, 200] });
    const before = svc.seen.length;
    await assert.rejects(decide(3), (err: Error) => err instanceof EvaluationError && /more than 3 requests \(verdict\.http_send\.max_requests_per_decision\)/.test(err.message));
    assert.equal(svc.seen.length - before, 3, 'the decision stopped at the cap');

    // Through the server, configured: OPA's 500 envelope for a failed evaluation.
    const server = await startVerdict(JSON.stringify({ verdict: { http_send: { max_requests_per_decision: 3 } } }), [writeTree({ 'cap/p.rego': policy })]);
    try {
      const res = await send(server.url, 'POST', '/v1/data/cap/rounds', '{"input": {}}', { 'content-type': 'application/json' });
      assert.equal(res.status, 500);
      const body = JSON.parse(res.body.toString());
      assert.equal(body.code, 'internal_error');
      assert.equal(body.errors[0].code, 'eval_internal_error');
      assert.match(body.errors[0].message, /more than 3 requests/);
    } finally {
      await server.close();
    }
  });
});

