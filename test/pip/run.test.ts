// `verdict run` (the real CLI process) serving the worked example (test/pip/fixtures/gateway-groups) against a real
// slapd and JWKS endpoint, plus adapters for PIPs that fail: down, slower than the timeout, answering garbage or
// a huge body. Every decision is read back from the SQLite decision log with `verdict decisions export`, so what
// is proven is what an operator finds there: which adapters ran, cache use, latency, and why a lookup failed.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { runDecisionsCommand } from '../../src/decisionlog/cli.js';
import type { DecisionEvent } from '../../src/decisionlog/event.js';
import { send } from '../server/harness.js';
import { freePort } from '../free-port.js';
import { DIRECTORY_LDIF } from './fixtures/directory.js';
import { EXAMPLE_CONFIG, EXAMPLE_POLICY, exampleEnvironment, startIdp, unsignedToken, type Idp } from './fixtures/example.js';
import { closedPortUrl, sendJson, startFixtureService, type FixtureService } from './fixtures/http-service.js';
import { startSlapd, type RunningSlapd } from './fixtures/services.js';

/** The decisions under failures/ (one per failing adapter) return the input.pip they were given. */
const FAILURES_POLICY = ['package failures', ...['down', 'slow', 'garbage', 'huge'].map((name) => `${name} := input.pip`)].join('\n\n');

describe('verdict run with the worked example and failing PIPs', () => {
  let slapd: RunningSlapd;
  let idp: Idp;
  let pips: FixtureService;
  let child: ChildProcess;
  let url: string;
  let log = '';
  const work = mkdtempSync(join(tmpdir(), 'verdict-pip-run-'));
  const db = join(work, 'decisions.db');

  const decide = async (path: string, input: unknown) => {
    // A fresh connection per request: a kept-alive one can meet the server's idle close between two tests.
    const res = await send(url, 'POST', `/v1/data/${path}`, JSON.stringify({ input }), { connection: 'close' });
    return { status: res.status, body: JSON.parse(res.body.toString()) as { result?: unknown; decision_id?: string; code?: string; message?: string } };
  };
  /** The decision log as `verdict decisions export` prints it (NDJSON, oldest first); run in-process, it is quick. */
  const decisionLog = async (): Promise<DecisionEvent[]> => {
    let out = '';
    const stdout = new Writable({ write: (chunk: Buffer, _enc, done) => void ((out += chunk.toString()), done()) });
    assert.equal(await runDecisionsCommand(['export', '--db', db], { stdout, stderr: process.stderr }), 0);
    return out.split('\n').filter(Boolean).map((line) => JSON.parse(line) as DecisionEvent);
  };
  const logged = async (id: string | undefined) => {
    const event = (await decisionLog()).find((e) => e.decision_id === id);
    assert.ok(event, `decision ${id} is in the decision log`);
    return event;
  };
  /**
   * The newest event for `path`. A failed decision is answered without a decision id and without waiting for
   * its event (src/server/decisions.ts), even in sync mode: it is committed moments after the answer.
   */
  const lastLogged = async (path: string) => {
    for (let tries = 0; ; tries++) {
      const event = (await decisionLog()).filter((e) => e.path === path).at(-1);
      if (event) return event;
      assert.ok(tries < 100, `a decision for ${path} is in the decision log`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const metric = async (name: string, adapter: string) => {
    const text = (await send(url, 'GET', '/metrics', undefined, { connection: 'close' })).body.toString();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{adapter="${adapter}"}`));
    assert.ok(line, `${name} for ${adapter} in /metrics`);
    return Number(line.split(' ').pop());
  };

  before(async () => {
    slapd = await startSlapd(DIRECTORY_LDIF);
    idp = await startIdp();
    pips = await startFixtureService();
    pips.route('GET', '/slow', (_req, res) => void setTimeout(() => sendJson(res, 200, { late: true }), 3000));
    pips.route('GET', '/garbage', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>502 Bad Gateway</html>'));
    pips.route('GET', '/huge', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: the limit must hold while streaming
      const chunk = Buffer.alloc(64 * 1024, 'a');
      Readable.from((function* () {
        yield '["';
        for (let i = 0; i < 256; i++) yield chunk; // 16 MB
        yield '"]';
      })()).pipe(res);
    });

    // The example config as documented (its ${VAR}s left for verdict run to fill from the environment), with
    // a CI-friendly timeout, adapters for failing PIPs under failures/, and a decision log file.
    const config = parseYaml(readFileSync(EXAMPLE_CONFIG, 'utf8')) as {
      pip: { adapters: Record<string, Record<string, unknown>>; enrich: Record<string, unknown>[] };
      [key: string]: unknown;
    };
    for (const adapter of Object.values(config.pip.adapters)) adapter.timeout = '5s';
    const failing = (name: string, settings: Record<string, unknown>, extra: Record<string, unknown>) => {
      config.pip.adapters[name] = { type: 'http', timeout: '5s', settings, ...extra };
      config.pip.enrich.push({ paths: [`failures/${name}`], adapter: name, inputs: { user: 'input.user' } });
    };
    failing('down', { url: `${await closedPortUrl()}/users/{user}` }, {});
    failing('slow', { url: `${pips.url}/slow?user={user}` }, { timeout: '300ms', on_error: 'skip' });
    failing('garbage', { url: `${pips.url}/garbage?user={user}` }, { on_error: { default: { plan: 'free' } } });
    failing('huge', { url: `${pips.url}/huge?user={user}`, max_response_bytes: 65536 }, {});
    config.decision_logs = { store: { file: db, durability: 'sync' } };
    writeFileSync(join(work, 'verdict.json'), JSON.stringify(config));
    const bundle = join(work, 'bundle');
    mkdirSync(join(bundle, 'gateway'), { recursive: true });
    mkdirSync(join(bundle, 'failures'));
    writeFileSync(join(bundle, '.manifest'), JSON.stringify({ revision: 'pip-run', roots: ['gateway', 'failures'] }));
    writeFileSync(join(bundle, 'gateway', 'policy.rego'), readFileSync(EXAMPLE_POLICY));
    writeFileSync(join(bundle, 'failures', 'policy.rego'), FAILURES_POLICY);

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // One worker: every worker has its own PIP cache (docs/pip.md), and the cache test below asks for a hit on
    // the second of two requests, which with several workers may land on the other one.
    const args = ['dist/src/main.js', 'run', '--workers', '1', '--addr', `127.0.0.1:${port}`, '--config-file', join(work, 'verdict.json'), '-b', bundle];
    child = spawn(process.execPath, args, { env: { ...process.env, ...exampleEnvironment(idp, slapd) }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) assert.fail(`verdict run exited with ${child.exitCode}: ${log}`);
      if ((await send(url, 'GET', '/health').then((r) => r.status, () => 0)) === 200) break;
      if (i > 600) assert.fail(`verdict run did not become healthy: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await Promise.all([idp?.service.close(), pips?.close(), slapd?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('records in the decision log which adapters ran, their cache use and latency, and the enriched input', async () => {
    const input = { request: { method: 'GET', headers: { authorization: `Bearer ${await idp.tokenFor('bob')}` } } };
    const first = await decide('gateway/allow', input);
    const again = await decide('gateway/allow', input);
    const cold = await logged(first.body.decision_id);
    assert.equal(cold.path, 'gateway/allow');
    assert.equal(cold.result, true);
    assert.deepEqual((cold.input as { pip: { groups: unknown } }).pip.groups, ['staff']);
    assert.equal(cold.pip?.path, 'gateway/allow');
    assert.deepEqual(cold.pip?.adapters.map((a) => [a.adapter, a.outcome, a.cache]), [['token', 'ok', 'miss'], ['groups', 'ok', 'miss']]);
    for (const run of cold.pip!.adapters) assert.ok(run.latency_ms > 0, `${run.adapter} latency ${run.latency_ms} ms`);
    assert.ok(cold.pip!.latency_ms >= Math.max(...cold.pip!.adapters.map((a) => a.latency_ms)), 'the groups lookup waits for the token');
    const warm = await logged(again.body.decision_id);
    assert.deepEqual(warm.pip?.adapters.map((a) => [a.adapter, a.outcome, a.cache]), [['token', 'ok', 'hit'], ['groups', 'ok', 'hit']]);

    const forged = await decide('gateway/allow', { request: { method: 'GET', headers: { authorization: `Bearer ${unsignedToken('alice')}` } } });
    const skipped = await logged(forged.body.decision_id);
    assert.equal((skipped.input as { pip: { token: { valid: boolean } } }).pip.token.valid, false);
    assert.deepEqual(skipped.pip?.adapters.find((a) => a.adapter === 'groups'), {
      adapter: 'groups', outcome: 'skipped', cache: 'off', latency_ms: 0, reason: 'input.pip.token.claims.sub is absent',
    });
  });

  it('decides the example on the verified token and the directory groups', async () => {
    const bearer = async (sub: string) => ({ authorization: `Bearer ${await idp.tokenFor(sub)}` });
    assert.equal((await decide('gateway/allow', { request: { method: 'GET', headers: await bearer('bob') } })).body.result, true);
    assert.equal((await decide('gateway/allow', { request: { method: 'DELETE', headers: await bearer('bob') } })).body.result, false);
    assert.equal((await decide('gateway/allow', { request: { method: 'DELETE', headers: await bearer('alice') } })).body.result, true);
    assert.equal((await decide('gateway/allow', { request: { method: 'GET', headers: await bearer('carol') } })).body.result, false);
    const forged = { request: { method: 'GET', headers: { authorization: `Bearer ${unsignedToken('alice')}` } } };
    assert.equal((await decide('gateway/allow', forged)).body.result, false);
    const smuggled = await decide('gateway/allow', { request: { method: 'GET' }, pip: { token: { valid: true }, groups: ['admins'] } });
    assert.equal(smuggled.status, 400);
    assert.equal(smuggled.body.code, 'invalid_parameter');
  });

  it('a PIP that is down fails the decision closed, with the reason in the decision log', async () => {
    const res = await decide('failures/down', { user: 'alice' });
    assert.equal(res.status, 500);
    assert.equal(res.body.message, 'policy information point "down" failed (unavailable); the decision fails closed (on_error: deny)');
    const event = await lastLogged('failures/down');
    assert.equal(event.error?.code, 'pip_lookup_failed');
    assert.equal(event.pip?.denied_by, 'down');
    assert.match(event.pip!.adapters[0].reason ?? '', /^unavailable: GET http:\/\/127\.0\.0\.1:\d+\/users\/alice failed: ECONNREFUSED$/);
  });

  it('a PIP slower than its timeout is given up on in time and, with on_error: skip, left out', async () => {
    const started = performance.now();
    const res = await decide('failures/slow', { user: 'alice' });
    assert.ok(performance.now() - started < 2500, 'answered long before the PIP would have');
    assert.deepEqual([res.status, res.body.result], [200, {}]);
    const run = (await lastLogged('failures/slow')).pip!.adapters[0];
    assert.deepEqual([run.outcome, run.on_error, run.reason], ['error', 'skip', 'timeout: timed out after 300 ms']);
    assert.ok(run.latency_ms >= 290, `waited the timeout (${run.latency_ms} ms)`);
  });

  it('a PIP answering garbage gets the configured default', async () => {
    const res = await decide('failures/garbage', { user: 'alice' });
    assert.deepEqual([res.status, res.body.result], [200, { garbage: { plan: 'free' } }]);
    const run = (await lastLogged('failures/garbage')).pip!.adapters[0];
    assert.equal(run.on_error, 'default');
    assert.match(run.reason ?? '', /^bad_response: response of GET http:\/\/127\.0\.0\.1:\d+\/garbage is not JSON$/);
  });

  it('a huge answer is cut off at the size limit and fails closed', async () => {
    const res = await decide('failures/huge', { user: 'alice' });
    assert.equal(res.status, 500);
    assert.match(res.body.message ?? '', /"huge" failed \(too_large\)/);
    assert.match((await lastLogged('failures/huge')).pip!.adapters[0].reason ?? '', /^too_large: response of GET .*\/huge is over the 65536-byte limit$/);
  });

  it('stays healthy and serving through all of it, and counts the failures per adapter in /metrics', async () => {
    assert.equal((await send(url, 'GET', '/health')).status, 200);
    const input = { request: { method: 'GET', headers: { authorization: `Bearer ${await idp.tokenFor('alice')}` } } };
    assert.equal((await decide('gateway/allow', input)).body.result, true);
    for (const adapter of ['down', 'slow', 'garbage', 'huge']) assert.equal(await metric('verdict_pip_errors_total', adapter), 1, adapter);
    assert.equal(await metric('verdict_pip_errors_total', 'groups'), 0);
    assert.ok((await metric('verdict_pip_cache_hits_total', 'groups')) >= 1);
    assert.ok((await metric('verdict_pip_cache_misses_total', 'groups')) >= 3);
    const text = (await send(url, 'GET', '/metrics', undefined, { connection: 'close' })).body.toString();
    assert.match(text, /^verdict_pip_lookup_duration_seconds_count\{adapter="groups"\} [1-9]/m);
    assert.match(text, /^verdict_pip_lookup_duration_seconds_bucket\{adapter="slow",le="0.25"\} 0$/m, 'the slow lookup took at least its 300 ms timeout');
    assert.match(text, /^verdict_pip_lookup_duration_seconds_bucket\{adapter="slow",le="0.5"\} 1$/m);
    assert.equal(child.exitCode, null, log);
  });
});
