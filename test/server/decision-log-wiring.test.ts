// Issue 6 through the real server (startServer, as `verdict run` calls it, and `verdict run` itself): every
// decision source lands in the SQLite log with outcome and principal, the mask policy erases before anything is
// written, sync mode answers only after the commit, the query API sits behind the admin JWT, write failures
// show in /health?plugins, /v1/status and /metrics, and the CLI reads the file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { findDecision } from '../../src/decisionlog/query.js';
import { send, writeTree } from './harness.js';
import { TestAdminIdp } from './admin-idp.js';

const idp = new TestAdminIdp();
const adminToken = () => idp.token('decisions:read');

const bundleDir = writeTree({
  '.manifest': JSON.stringify({ revision: 'rev-7', roots: ['authz', 'envoy', 'system'] }),
  'authz/policy.rego': 'package authz\n\ndefault allow := false\n\nallow if input.user == "alice"\n',
  'envoy/policy.rego': 'package envoy.authz\n\ndefault allow := false\n\nallow if input.attributes.request.http.method == "GET"\n',
  // OPA's mask policy: erase the password wherever a decision carries one; drop the health probes' decisions.
  'system/log.rego': 'package system.log\n\nmask contains "/input/password" if input.input.password\n\ndrop if input.input.probe == true\n',
});

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function configText(dir: string, store: string, admin = true): string {
  return `
status: { console: true }
persistence_directory: ${dir}/persist
plugins:
  envoy_ext_authz_http: {}
decision_logs:
  request_context:
    http:
      headers: [X-Request-Id]
  store:
    file: ${dir}/decisions.db
${store}
${admin ? idp.config() : ''}
`;
}

async function verdict(dir: string, store = '', admin = true): Promise<RunningServer> {
  const server = await startServer({
    addr: '127.0.0.1:0',
    config: parseConfig(configText(dir, store, admin), 'test config'),
    bundlePaths: [bundleDir],
    logger: pino({ level: 'silent' }),
    decisionLogByDefault: true,
  });
  cleanups.push(() => server.close(1000));
  return server;
}

async function post(server: RunningServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await send(server.url, 'POST', path, JSON.stringify(body), headers);
  return { status: res.status, headers: res.headers, body: JSON.parse(res.body.toString() || 'null') };
}

async function getJson(server: RunningServer, path: string, headers: Record<string, string> = {}) {
  const res = await send(server.url, 'GET', path, undefined, headers);
  const text = res.body.toString();
  return { status: res.status, text, body: text.startsWith('{') ? JSON.parse(text) : undefined };
}

test('every decision source is logged with outcome, principal, revision and OPA fields; the mask erases before writing', async () => {
  const dir = writeTree({});
  const server = await verdict(dir);
  const v1 = await post(server, '/v1/data/authz/allow', { input: { user: 'alice', password: 'hunter2-secret' } }, { 'X-Request-Id': 'req-42' });
  assert.equal(v1.body.result, true);
  assert.match(v1.body.decision_id, /^[0-9a-f-]{36}$/);
  const denied = await post(server, '/v1/data/authz/allow', { input: { user: 'bob' } });
  assert.equal(denied.body.result, false);
  const v0 = await post(server, '/v0/data/authz/allow', { user: 'carol' });
  assert.equal(v0.body, false);
  const probe = await post(server, '/v1/data/authz/allow', { input: { user: 'alice', probe: true } });
  assert.ok(probe.body.decision_id, 'a dropped decision still gets an id, as in OPA');
  const callout = await send(server.url, 'GET', '/v1/authz/orders', undefined, { 'x-user': 'dave' });
  assert.equal(callout.status, 200);
  const calloutId = callout.headers['x-decision-id'] as string;
  await server.decisionLog!.flush();

  const db = openDecisionDatabase(join(dir, 'decisions.db'), { readonly: true });
  try {
    const alice = findDecision(db, v1.body.decision_id)!;
    assert.equal(alice.outcome, 'allow');
    assert.equal(alice.principal, 'alice');
    assert.equal(alice.event.path, 'authz/allow');
    assert.deepEqual(alice.event.input, { user: 'alice' }, 'the password is erased');
    assert.deepEqual(alice.event.erased, ['/input/password']);
    assert.deepEqual(alice.event.bundles, { [Object.keys(alice.event.bundles!)[0]!]: { revision: 'rev-7' } });
    assert.match(alice.event.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    assert.match(alice.event.requested_by!, /^127\.0\.0\.1:\d+$/);
    assert.equal(alice.event.labels.version, '0.1.0');
    assert.deepEqual(alice.event.request_context, { http: { headers: { 'X-Request-Id': ['req-42'] } } }, 'configured headers are kept');
    const bob = findDecision(db, denied.body.decision_id)!;
    assert.equal(bob.outcome, 'deny');
    assert.equal(bob.principal, 'bob');
    assert.equal(findDecision(db, probe.body.decision_id), undefined, 'data.system.log.drop dropped it');
    const envoy = findDecision(db, calloutId)!;
    assert.equal(envoy.event.path, 'envoy/authz/allow');
    assert.equal(envoy.outcome, 'allow');
    const v0Row = db.prepare(`SELECT count(*) AS n FROM decisions WHERE principal = 'carol'`).get() as { n: number };
    assert.equal(v0Row.n, 1, 'the v0 decision is logged');
  } finally {
    db.close();
  }
  await server.close(1000);
  // Masking happens before the write: the secret is nowhere in the database files (WAL included).
  for (const name of readdirSync(dir).filter((n) => n.startsWith('decisions.db'))) {
    assert.ok(!readFileSync(join(dir, name)).includes('hunter2-secret'), `${name} holds no masked value`);
  }
});

test('sync mode answers only after the commit; the default mode answers before it', async () => {
  const syncDir = writeTree({});
  const sync = await verdict(syncDir, '    durability: sync');
  const reader = openDecisionDatabase(join(syncDir, 'decisions.db'), { readonly: true });
  try {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(sync, '/v1/data/authz/allow', { input: { user: `u${i}` } })));
    for (const a of answers) assert.ok(findDecision(reader, a.body.decision_id), 'committed before the answer');
  } finally {
    reader.close();
  }
  // Default mode with a long gather delay: the answer comes back while the event still waits in the queue.
  const defaultDir = writeTree({});
  const lazy = await verdict(defaultDir, '    flush_delay_ms: 3000');
  const answer = await post(lazy, '/v1/data/authz/allow', { input: { user: 'alice' } });
  const early = openDecisionDatabase(join(defaultDir, 'decisions.db'), { readonly: true });
  try {
    assert.equal(findDecision(early, answer.body.decision_id), undefined, 'not committed yet');
    assert.equal((await getJson(lazy, '/metrics')).text.match(/^verdict_decision_logs_queue_length (\d+)/m)?.[1], '1');
  } finally {
    early.close();
  }
  await lazy.close(1000); // graceful shutdown writes the queue
  const late = openDecisionDatabase(join(defaultDir, 'decisions.db'), { readonly: true });
  try {
    assert.ok(findDecision(late, answer.body.decision_id), 'flushed on shutdown');
  } finally {
    late.close();
  }
});

test('GET /v1/decisions and /v1/decisions/{id} need the admin bearer JWT; off without admin_api', async () => {
  const dir = writeTree({});
  const server = await verdict(dir);
  const a = await post(server, '/v1/data/authz/allow', { input: { user: 'alice' } });
  await post(server, '/v1/data/authz/allow', { input: { user: 'bob' } });
  await server.decisionLog!.flush();
  assert.equal((await getJson(server, '/v1/decisions')).status, 401);
  assert.equal((await getJson(server, `/v1/decisions/${a.body.decision_id}`)).status, 401);
  const auth = { Authorization: `Bearer ${await adminToken()}` };
  const list = await getJson(server, '/v1/decisions?principal=alice', auth);
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.result.map((d: { event: { decision_id: string } }) => d.event.decision_id), [a.body.decision_id]);
  const one = await getJson(server, `/v1/decisions/${a.body.decision_id}`, auth);
  assert.equal(one.body.result.outcome, 'allow');
  assert.equal((await getJson(server, '/v1/decisions?bogus=1', auth)).body.code, 'invalid_parameter');

  const plain = await verdict(writeTree({}), '', false);
  assert.equal((await getJson(plain, '/v1/decisions')).status, 404, 'no admin_api, no query API');
});

test('a write failure (disk full) shows in /health?plugins, /v1/status and /metrics; decisions keep being answered', async () => {
  const dir = writeTree({});
  const server = await verdict(dir, '    queue_limit: 50\n    when_full: drop');
  assert.equal((await getJson(server, '/health?plugins')).status, 200);
  // The writer's connection may not grow the file any more: SQLITE_FULL, as on a full disk.
  const pages = (await server.decisionLog!.writerPragma('page_count')) as { page_count: number }[];
  await server.decisionLog!.writerPragma(`max_page_count = ${pages[0]!.page_count}`);
  const big = 'x'.repeat(20_000);
  for (let i = 0; i < 120; i++) {
    const answer = await post(server, '/v1/data/authz/allow', { input: { user: 'alice', note: big } });
    assert.equal(answer.body.result, true);
  }
  for (let i = 0; i < 100 && server.decisionLog!.status().state === 'OK'; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await getJson(server, '/health?plugins')).status, 500);
  assert.equal((await getJson(server, '/health?plugins&exclude-plugin=decision_logs')).status, 200);
  const status = (await getJson(server, '/v1/status')).body.result.plugins.decision_logs;
  assert.equal(status.state, 'ERROR');
  assert.match(status.message, /SQLITE_FULL|full/i);
  assert.ok(status.store.dropped_queue_full > 0, 'when_full: drop applied once the queue filled');
  const metrics = (await getJson(server, '/metrics')).text;
  assert.match(metrics, /^verdict_decision_logs_healthy 0$/m);
  assert.ok(Number(/^verdict_decision_logs_dropped_queue_full_total (\d+)/m.exec(metrics)?.[1]) > 0);
  assert.ok(Number(/^verdict_decision_logs_queue_length (\d+)/m.exec(metrics)?.[1]) > 0);
  await server.decisionLog!.writerPragma('max_page_count = 1073741823');
  await server.decisionLog!.flush(); // the queued events are written once there is room again
  assert.equal(server.decisionLog!.status().state, 'OK');
});

test('verdict decisions show|search|export read the file the server wrote', async () => {
  const dir = writeTree({});
  const server = await verdict(dir);
  const a = await post(server, '/v1/data/authz/allow', { input: { user: 'alice' } });
  await post(server, '/v1/data/authz/allow', { input: { user: 'bob' } });
  await server.close(1000);
  const main = resolve('dist/src/main.js');
  const db = join(dir, 'decisions.db');
  const show = spawnSync(process.execPath, [main, 'decisions', 'show', '--db', db, a.body.decision_id], { encoding: 'utf8' });
  assert.equal(show.status, 0, show.stderr);
  assert.equal(JSON.parse(show.stdout).input.user, 'alice');
  const search = spawnSync(process.execPath, [main, 'decisions', 'search', '--db', db, '--outcome', 'deny', '--json'], { encoding: 'utf8' });
  const found = search.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(found.map((d) => d.input.user), ['bob']);
  const exported = spawnSync(process.execPath, [main, 'decisions', 'export', '--db', db], { encoding: 'utf8' });
  assert.equal(exported.stdout.trim().split('\n').length, 2);
  const missing = spawnSync(process.execPath, [main, 'decisions', 'show', '--db', db, 'no-such-id'], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
});
