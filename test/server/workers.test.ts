// `verdict run --workers N` as one server: a real process on loopback, its workers threads, requests on fresh
// connections (each may land on any thread), threads ended by Worker.terminate or an uncaught exception
// (test/server/thread-control.ts). Every change must be visible through every thread as soon as the request
// that made it is answered, with no grace period.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { tempDir } from '../bundle/temp-dir.js';
import { freePort } from '../free-port.js';
import { TestAdminIdp } from './admin-idp.js';
import { send, type RawResponse } from './harness.js';
import { waitUntil, type RunningProcess } from './processes.js';
import { spawnWithThreads, type Threads } from './threads.js';

const running: RunningProcess[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});

const file = (path: string, body: string): BundleFile => ({ path, data: Buffer.from(body) });
const authzBundle = (revision: string, users: string[], rule = 'allow if input.user in data.authz.users') =>
  writeBundleArchive([
    file('.manifest', JSON.stringify({ revision, roots: ['authz'] })),
    file('authz/data.json', JSON.stringify({ users })),
    file('authz/policy.rego', `package authz\n\ndefault allow := false\n\n${rule}\n`),
  ]);

/** A request on a connection of its own, so that across many of them every worker answers some. */
const fresh = (url: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) => send(url, method, path, body, { ...headers, Connection: 'close' });
const json = (res: RawResponse) => JSON.parse(res.body.toString()) as Record<string, unknown>;

async function start(workers: number, args: string[]): Promise<Threads & { url: string }> {
  const port = await freePort();
  const threads = spawnWithThreads(['--addr', `127.0.0.1:${port}`, '--workers', String(workers), ...args]);
  running.push(threads.server);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(threads.server, async () => (await send(url, 'GET', '/health')).status === 200);
  assert.equal(threads.live().length, workers);
  return { ...threads, url };
}

/** Waits until `count` threads live, none of `gone` among them, and the server is healthy again. */
async function replaced(threads: Threads & { url: string }, count: number, gone: number[]): Promise<void> {
  await waitUntil(threads.server, async () => {
    const now = threads.live().map((t) => t.id);
    return now.length === count && !now.some((id) => gone.includes(id)) && (await fresh(threads.url, 'GET', '/health')).status === 200;
  });
}

test('with 3 worker threads, Policy API, Data API and admin uploads apply everywhere or nowhere; metrics count every request; ended threads come back with the same policies', { timeout: 120_000 }, async () => {
  const idp = new TestAdminIdp();
  const dir = tempDir('verdict-workers-');
  writeFileSync(join(dir, 'config.yaml'), `status: { console: true }\n${idp.config()}`);
  const threads = await start(3, ['-c', join(dir, 'config.yaml')]);
  const { server, url } = threads;
  const admin = { Authorization: `Bearer ${await idp.token('bundles:write bundles:read')}` };
  let decisions = 0;
  const decide = async (path: string, input: unknown) => {
    decisions++;
    const res = await fresh(url, 'POST', `/v1/data/${path}`, JSON.stringify({ input }));
    assert.equal(res.status, 200, res.body.toString());
    return json(res).result;
  };

  // A module PUT through one worker is in every worker once the PUT is answered.
  assert.equal((await send(url, 'PUT', '/v1/policies/greet', 'package greet\n\nhello := sprintf("hi %s", [input.name])\n')).status, 200);
  for (let i = 0; i < 12; i++) assert.equal(await decide('greet/hello', { name: 'ana' }), 'hi ana');
  // A refused module changes nothing anywhere.
  const refused = await send(url, 'PUT', '/v1/policies/greet', 'package greet\n\nhello := \n');
  assert.equal(refused.status, 400);
  assert.equal((json(refused).errors as { code: string }[])[0].code, 'rego_parse_error');
  for (let i = 0; i < 12; i++) assert.equal(await decide('greet/hello', { name: 'bo' }), 'hi bo');

  // Data API writes: every worker answers with the new value straight away.
  assert.equal((await send(url, 'PUT', '/v1/data/flags', '{"beta":true}')).status, 204);
  assert.equal((await send(url, 'PATCH', '/v1/data/flags', '[{"op":"add","path":"/gamma","value":1}]')).status, 204);
  for (let i = 0; i < 12; i++) assert.deepEqual(json(await fresh(url, 'GET', '/v1/data/flags')).result, { beta: true, gamma: 1 });
  // If-None-Match: * is decided by the worker that applies writes, whichever worker received it.
  for (let i = 0; i < 3; i++) assert.equal((await fresh(url, 'PUT', '/v1/data/flags', '{}', { 'If-None-Match': '*' })).status, 304);

  // An admin upload activates in every worker before it is answered.
  const uploaded = await send(url, 'PUT', '/v1/bundles/authz', await authzBundle('u1', ['carol']), admin);
  assert.equal(uploaded.status, 200, uploaded.body.toString());
  for (let i = 0; i < 12; i++) {
    assert.equal(await decide('authz/allow', { user: 'carol' }), true);
    assert.equal(json(await fresh(url, 'GET', '/v1/data/system/bundles/authz/manifest/revision')).result, 'u1');
    assert.equal((json(await fresh(url, 'GET', '/v1/bundles/authz', undefined, admin)).result as { revision: string }).revision, 'u1');
  }
  // A bundle that does not compile is refused, and no worker changes.
  const bad = await send(url, 'PUT', '/v1/bundles/authz', await authzBundle('u2', ['dave'], 'allow if {'), admin);
  assert.equal(bad.status, 400, bad.body.toString());
  for (let i = 0; i < 12; i++) {
    assert.equal(await decide('authz/allow', { user: 'dave' }), false);
    assert.equal(json(await fresh(url, 'GET', '/v1/data/system/bundles/authz/manifest/revision')).result, 'u1');
  }

  // /metrics is the whole server's: the decisions sent, whichever workers answered them.
  const metrics = (await fresh(url, 'GET', '/metrics')).body.toString();
  const count = /^http_request_duration_seconds_count\{code="200",handler="v1\/data",method="post"\} (\d+)$/m.exec(metrics);
  assert.ok(count, metrics);
  assert.equal(Number(count[1]), decisions);
  // So is the status report's, whichever worker is asked.
  for (let i = 0; i < 3; i++) {
    const report = json(await fresh(url, 'GET', '/v1/status')).result as { metrics: { prometheus: Record<string, { metric: { label: { name: string; value: string }[]; histogram: { sample_count: number } }[] }> } };
    const series = report.metrics.prometheus.http_request_duration_seconds.metric.find((m) => ['code=200', 'handler=v1/data', 'method=post'].every((pair) => m.label.some((l) => `${l.name}=${l.value}` === pair)));
    assert.equal(series?.histogram.sample_count, decisions);
  }

  // End the thread that applies changes and a replica (one terminated, one by an uncaught exception): both come
  // back with everything above.
  const owner = threads.live().find((t) => t.role === 'owner')!.id;
  const replica = threads.live().find((t) => t.role === 'replica')!.id;
  threads.end([{ id: owner, how: 'terminate' }, { id: replica, how: 'throw' }]);
  await replaced(threads, 3, [owner, replica]);
  assert.deepEqual(threads.live().map((t) => t.role).sort(), ['owner', 'replica', 'replica']);
  for (let i = 0; i < 12; i++) {
    assert.equal(await decide('greet/hello', { name: 'cy' }), 'hi cy');
    assert.equal(await decide('authz/allow', { user: 'carol' }), true);
    assert.deepEqual(json(await fresh(url, 'GET', '/v1/data/flags')).result, { beta: true, gamma: 1 });
  }
  // And the restarted workers take changes as before.
  assert.equal((await send(url, 'PUT', '/v1/data/flags', '{"delta":true}')).status, 204);
  for (let i = 0; i < 12; i++) assert.deepEqual(json(await fresh(url, 'GET', '/v1/data/flags')).result, { delta: true });
  assert.match(server.output(), /thrown by the test in this server thread/);
  assert.equal(await server.stop(), 0);
});

test('health is false while a worker thread is missing, and true again once its replacement serves', { timeout: 60_000 }, async () => {
  const threads = await start(2, [resolve('bundles/sample')]);
  const { server, url } = threads;
  const [victim] = threads.live().map((t) => t.id);
  threads.end([{ id: victim, how: 'terminate' }]);
  const seen: number[] = [];
  await waitUntil(server, async () => {
    const status = (await fresh(url, 'GET', '/health')).status;
    seen.push(status);
    return status === 200 && seen.includes(500);
  });
  assert.equal(seen[0], 500, 'the first answer after the kill is unhealthy');
  const now = threads.live().map((t) => t.id);
  assert.equal(now.length, 2);
  assert.ok(!now.includes(victim));
  assert.equal(await server.stop(), 0);
});

test('two worker threads share a unix socket, made with the configured mode, and one serves on when the other dies', { timeout: 60_000 }, async () => {
  const socket = join(tempDir('verdict-workers-unix-'), 'verdict.sock');
  const threads = spawnWithThreads(['--addr', `unix://${socket}`, '--workers', '2', '--unix-socket-perm', '640']);
  running.push(threads.server);
  const { server } = threads;
  const viaSocket = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: socket, method, path, headers: { Connection: 'close' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  await waitUntil(server, async () => (await viaSocket('GET', '/health')).status === 200);
  assert.equal((await viaSocket('PUT', '/v1/policies/p', 'package p\n\nx := 7\n')).status, 200);
  for (let i = 0; i < 8; i++) assert.equal(JSON.parse((await viaSocket('GET', '/v1/data/p/x')).body).result, 7);
  assert.equal(statSync(socket).mode & 0o777, 0o640);
  // The socket stays open while a thread is replaced: every request meanwhile is answered. A connection the
  // dying thread had accepted is reset with it, as a client sees when a process dies: the client reads ECONNRESET,
  // or EPIPE when the reset arrives before its request is written; either way it is sent once more.
  const [victim] = threads.live().map((t) => t.id);
  threads.end([{ id: victim, how: 'throw' }]);
  const retried = (method: string, path: string) => viaSocket(method, path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') throw err;
    return viaSocket(method, path);
  });
  for (let i = 0; i < 20; i++) assert.equal(JSON.parse((await retried('GET', '/v1/data/p/x')).body).result, 7);
  await waitUntil(server, async () => threads.live().length === 2 && !threads.live().some((t) => t.id === victim) && (await viaSocket('GET', '/health')).status === 200);
  assert.equal(JSON.parse((await viaSocket('GET', '/v1/data/p/x')).body).result, 7);
  assert.equal(await server.stop(), 0);
});

/** Ends the (first) thread of `role` of a two-thread server and waits for its replacement to serve. */
async function replaceThread(threads: Threads & { url: string }, role: 'owner' | 'replica'): Promise<void> {
  const victim = threads.live().find((t) => t.role === role)!.id;
  threads.end([{ id: victim, how: 'terminate' }]);
  await replaced(threads, 2, [victim]);
}

test('exact numbers and deep values written through one worker are served as written by every worker, and by a replacement', { timeout: 60_000 }, async () => {
  const threads = await start(2, []);
  const { server, url } = threads;
  // Structured clone, the workers' channel, overflows the stack a few thousand levels down.
  const deep = `${'['.repeat(5000)}1e400${']'.repeat(5000)}`;
  assert.equal((await fresh(url, 'PUT', '/v1/data/deep', deep)).status, 204);
  const body = '{"big":123456789012345678901234567890,"huge":1e400,"tiny":1e-400,"kept":[1.0,{"z":-0}]}';
  assert.equal((await fresh(url, 'PUT', '/v1/data/exact', body)).status, 204);
  assert.equal((await fresh(url, 'PUT', '/v1/policies/p', 'package p\n\nn := data.exact.big\n\nm := 98765432109876543210987654321\n')).status, 200);
  const expected = '{"big":123456789012345678901234567890,"huge":1e400,"kept":[1.0,{"z":-0}],"tiny":1e-400}';
  const check = async () => {
    for (let i = 0; i < 8; i++) {
      const data = (await fresh(url, 'GET', '/v1/data/exact')).body.toString();
      assert.ok(data.includes(`"result":${expected}`), data);
      const deepNow = (await fresh(url, 'GET', '/v1/data/deep')).body.toString();
      assert.ok(deepNow.includes(`"result":${deep}`), deepNow.slice(0, 200));
      const rules = (await fresh(url, 'GET', '/v1/data/p')).body.toString();
      assert.ok(rules.includes('"result":{"m":98765432109876543210987654321,"n":123456789012345678901234567890}'), rules);
    }
  };
  await check();
  await replaceThread(threads, 'owner');
  await check();
  assert.equal(await server.stop(), 0);
});

test("a bundle's packed data is read in place by every worker, and by a replacement after the thread that packed it ended", { timeout: 60_000 }, async () => {
  const dir = tempDir('verdict-workers-packed-');
  // Large enough to be packed (src/json/packed.ts); the owner packs it, the other threads read its shared slabs.
  const teams = Object.fromEntries(Array.from({ length: 40 }, (_, t) => [`t${t}`, Object.fromEntries(Array.from({ length: 30 }, (_, u) => [`u${u}`, { name: `n-${t}-${u}`, quota: 1.50 + u }]))]));
  const text = JSON.stringify({ teams }).replace('"quota":1.5}', '"quota":1.50}');
  mkdirSync(join(dir, 'org'));
  writeFileSync(join(dir, '.manifest'), JSON.stringify({ revision: 'r1', roots: ['org'] }));
  writeFileSync(join(dir, 'org', 'data.json'), text);
  writeFileSync(join(dir, 'org', 'policy.rego'), 'package org\n\nsize := count(data.org.teams[input.team])\n');
  const threads = await start(2, ['-b', dir]);
  const { server, url } = threads;
  const check = async () => {
    for (let i = 0; i < 8; i++) {
      assert.deepEqual(json(await fresh(url, 'GET', '/v1/data/org/teams/t7')).result, teams.t7);
      assert.ok((await fresh(url, 'GET', '/v1/data/org/teams/t0/u0')).body.toString().includes('"quota":1.50'));
      const size = await fresh(url, 'POST', '/v1/data/org/size', JSON.stringify({ input: { team: 't39' } }));
      assert.equal(json(size).result, 30);
    }
  };
  await check();
  await replaceThread(threads, 'owner');
  await check();
  await replaceThread(threads, 'replica');
  await check();
  assert.equal(await server.stop(), 0);
});
