// The impact of an upload before it is served: PUT /v1/bundles/{name}?dry_run=true replays logged decisions and
// changes nothing (revision, data, activation count, answers); admin_api.impact_gate refuses a real upload that
// would flip too many decisions, with the report, and lets a smaller change through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { writeBundleArchive } from '../../src/bundle/files.js';
import type { ReplayReport } from '../../src/replay/replay.js';
import { send, writeTree } from '../server/harness.js';
import { TestAdminIdp } from '../server/admin-idp.js';

const idp = new TestAdminIdp();
let verdict: RunningServer;
let auth: Record<string, string>;
const ids: Record<string, string> = {};

const bundle = (revision: string, users: string[], limit: number) =>
  writeBundleArchive([
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision, roots: ['authz'] })) },
    { path: 'authz/data.json', data: Buffer.from(JSON.stringify({ limit })) },
    { path: 'authz/policy.rego', data: Buffer.from(`package authz\n\ndefault allow := false\n\nallow if input.user in ${JSON.stringify(users)}\n`) },
  ]);

async function put(query: string, body: Buffer) {
  const res = await send(verdict.url, 'PUT', `/v1/bundles/authz${query}`, body, { ...auth, 'Content-Type': 'application/gzip' });
  return { status: res.status, body: JSON.parse(res.body.toString()) };
}

async function state() {
  const res = await send(verdict.url, 'GET', '/v1/bundles/authz', undefined, auth);
  const info = JSON.parse(res.body.toString()).result;
  return { revision: info.revision, activations: info.activations, data: verdict.ctx.engine.store.read(['authz', 'limit']), served: verdict.ctx.engine.bundles.map((b) => b.manifest.revision) };
}

before(async () => {
  const dir = writeTree({});
  const config = idp.auditConfig(dir, '', '  impact_gate:\n    max_changed: 1\n');
  verdict = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'test config'), bundlePaths: [], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
  auth = await idp.bearer('bundles:write bundles:read decisions:read');
  // The first upload passes the gate: there is nothing logged to replay yet.
  const first = await put('', await bundle('v1', ['alice', 'bob'], 10));
  assert.equal(first.status, 200, JSON.stringify(first.body));
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    const res = await send(verdict.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user } }));
    ids[user] = JSON.parse(res.body.toString()).decision_id;
  }
});
after(() => verdict.close(1000));

test('a dry run reports what would change and changes nothing', async () => {
  const before = await state();
  assert.deepEqual(before, { revision: 'v1', activations: 1, data: 10, served: ['v1'] });
  // v2: bob and carol swap.
  const dry = await put('?dry_run=true', await bundle('v2', ['alice', 'carol'], 20));
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  assert.equal(dry.body.result.dry_run, true);
  assert.equal(dry.body.result.activated, false);
  assert.equal(dry.body.result.revision, 'v2');
  const report = dry.body.result.report as ReplayReport;
  assert.equal(report.replayed, 4);
  assert.equal(report.changed, 2);
  assert.deepEqual(report.by_change, { allow_to_deny: 1, deny_to_allow: 1, now_errors: 0, result_changed: 0 });
  assert.deepEqual(new Set(report.changes.map((c) => c.decision_id)), new Set([ids.bob, ids.carol]));
  assert.deepEqual(await state(), before, 'revision, data and activation count unchanged');
  const bob = await send(verdict.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user: 'bob' } }));
  assert.equal(JSON.parse(bob.body.toString()).result, true, 'the active policy still answers');

  // A window instead of the newest N: nothing logged before 2000.
  const window = await put('?dry_run&until=2000-01-01T00:00:00Z', await bundle('v2', ['alice', 'carol'], 20));
  assert.equal(window.body.result.report.considered, 0);
  const lastOne = await put('?dry_run=true&last=1', await bundle('v2', ['alice', 'carol'], 20));
  assert.equal(lastOne.body.result.report.considered, 1);
});

test('the impact gate refuses an upload that flips too many decisions, with the report, and passes a smaller one', async () => {
  const before = await state();
  const refused = await put('', await bundle('v2', ['alice', 'carol'], 20));
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'resource_conflict');
  // bob (twice: once more in the dry-run test) and carol flip.
  assert.match(refused.body.message, /impact_gate: 3 of 5 replayed decisions would change \(max_changed 1\)/);
  assert.deepEqual(refused.body.report.by_change, { allow_to_deny: 2, deny_to_allow: 1, now_errors: 0, result_changed: 0 });
  assert.deepEqual(refused.body.report.changes, [], 'an uploader needs decisions:read to see decisions: the refusal only counts');
  assert.equal(refused.body.report.changes_truncated, true);
  assert.deepEqual(await state(), before, 'a refused upload changes nothing');

  // Only dave gains access: one change, within the gate.
  const passed = await put('', await bundle('v3', ['alice', 'bob', 'dave'], 30));
  assert.equal(passed.status, 200, JSON.stringify(passed.body));
  assert.deepEqual(await state(), { revision: 'v3', activations: 2, data: 30, served: ['v3'] });
});

test('a dry run lists logged decisions, so it needs decisions:read besides bundles:write', async () => {
  const writer = await idp.bearer('bundles:write');
  const res = await send(verdict.url, 'PUT', '/v1/bundles/authz?dry_run=true', await bundle('v8', ['x'], 1), { ...writer, 'Content-Type': 'application/gzip' });
  assert.equal(res.status, 403);
  assert.match(JSON.parse(res.body.toString()).message, /lacks the required scope: decisions:read/);
});

test('bad dry-run parameters and broken bundles are refused, naming the problem', async () => {
  const before = await state();
  const body = await bundle('v9', ['x'], 1);
  const cases: Array<[string, RegExp]> = [
    ['?dry_run=maybe', /dry_run must be true or false/],
    ['?last=5', /last chooses the decisions a dry run replays: add dry_run=true/],
    ['?dryrun=true', /unknown query parameter dryrun/],
    ['?dry_run=true&last=0', /last must be an integer/],
    ['?dry_run=true&since=yesterday', /since must be an RFC3339 timestamp/],
  ];
  for (const [query, message] of cases) {
    const res = await put(query, body);
    assert.equal(res.status, 400, query);
    assert.equal(res.body.code, 'invalid_parameter');
    assert.match(res.body.message, message, query);
  }
  const broken = await writeBundleArchive([
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: 'bad', roots: ['authz'] })) },
    { path: 'authz/policy.rego', data: Buffer.from('package authz\n\nallow if {\n') },
  ]);
  const res = await put('?dry_run=true', broken);
  assert.equal(res.status, 400);
  assert.match(res.body.message, /policy\.rego/);
  assert.deepEqual(await state(), before);
});

test('the gate without a decision log stops start-up, naming the key', async () => {
  const dir = writeTree({});
  const config = `
persistence_directory: ${dir}/persist
decision_logs:
  store:
    enabled: false
${idp.config()}  impact_gate:
    max_changed_ratio: 0.1
`;
  await assert.rejects(
    startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'test config'), bundlePaths: [], logger: pino({ level: 'silent' }) }),
    /admin_api\.impact_gate replays logged decisions: it needs the decision log/,
  );
});
