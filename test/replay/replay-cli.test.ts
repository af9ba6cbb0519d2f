// `verdict replay` over decisions a real server logged: a policy change that flips a known set of decisions reports
// exactly that set; decisions whose input was erased are counted, never replayed; http.send answers come from
// the event's nd_builtin_cache (the upstream is gone by then), and a request the event did not record makes the
// decision not replayable instead of being sent.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { runReplayCommand } from '../../src/replay/cli.js';
import type { ReplayReport } from '../../src/replay/replay.js';
import { writeBundleArchive } from '../../src/bundle/files.js';
import { buildBundle } from '../../src/cli/build.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { send, writeTree } from '../server/harness.js';
import { captureCommand } from '../decisionlog/helpers.js';

const policyV1 = `package authz

default allow := false

allow if input.user == "alice"
allow if input.user == "bob"

allow if input.role == "admin"
`;

const quota = (url: string) => `package quota

limit := http.send({"method": "GET", "url": "${url}"}).body.limit

ok if input.n < limit
`;

let upstream: Server;
let upstreamUrl: string;
let verdict: RunningServer;
let db: string;
const ids: Record<string, string> = {};

before(async () => {
  upstream = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ limit: 5 })));
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/quota`;
  const dir = writeTree({});
  db = `${dir}/decisions.db`;
  const bundle = writeTree({
    '.manifest': JSON.stringify({ revision: 'v1', roots: ['authz', 'quota', 'system/log'] }),
    'authz/policy.rego': policyV1,
    'quota/policy.rego': quota(upstreamUrl),
    'system/log/mask.rego': 'package system.log\n\nmask contains "/input/ssn" if input.input.ssn\n',
  });
  const config = `
nd_builtin_cache: true
decision_logs:
  store:
    file: ${db}
    durability: sync
`;
  verdict = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'test config'), bundlePaths: [bundle], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
  const decide = async (key: string, path: string, input: unknown) => {
    const res = await send(verdict.url, 'POST', `/v1/data/${path}`, JSON.stringify({ input }));
    assert.equal(res.status, 200, res.body.toString());
    ids[key] = JSON.parse(res.body.toString()).decision_id;
  };
  await decide('alice', 'authz/allow', { user: 'alice' });
  await decide('bob', 'authz/allow', { user: 'bob' });
  await decide('carol', 'authz/allow', { user: 'carol' });
  await decide('admin', 'authz/allow', { user: 'dave', role: 'admin' });
  // The default credential masking erases the header: the stored input is partial.
  await decide('masked', 'authz/allow', { user: 'bob', headers: { authorization: 'Bearer secret' } });
  // An Envoy check as the ext_authz plugin hands it over: the bearer token is cut too.
  await decide('envoy', 'authz/allow', { user: 'alice', attributes: { request: { http: { method: 'GET', path: '/', headers: { ':authority': 'api', Authorization: 'Bearer t' } } } } });
  // The mask policy erases another part of the input.
  await decide('ssn', 'authz/allow', { user: 'alice', ssn: '123' });
  await decide('quota3', 'quota/ok', { n: 3 });
  await decide('quota7', 'quota/ok', { n: 7 });
  await verdict.close(1000);
  upstream.close();
});

function replay(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return captureCommand((io) => runReplayCommand(['--db', db, ...args], io));
}

test('a policy change reports exactly the decisions it flips, and not the erased one', async () => {
  // v2: bob loses access, admins need the "ops" team too, carol gains access.
  const candidate = writeTree({
    '.manifest': JSON.stringify({ revision: 'v2', roots: ['authz', 'quota'] }),
    'authz/policy.rego': 'package authz\n\ndefault allow := false\n\nallow if input.user in {"alice", "carol"}\n\nallow if {\n\tinput.role == "admin"\n\tinput.team == "ops"\n}\n',
    'quota/policy.rego': quota(upstreamUrl),
  });
  const { code, out, err } = await replay(['--format', 'json', candidate]);
  assert.equal(code, 0, err);
  const report = JSON.parse(out) as ReplayReport;
  assert.deepEqual(report.candidate, [{ name: candidate, revision: 'v2' }]);
  assert.equal(report.considered, 9);
  assert.equal(report.not_replayable, 3);
  // Replayed without their credentials, the first two would be decided on an input the policy never saw.
  assert.deepEqual(report.not_replayable_by_reason, { credentials_erased: 2, input_erased: 1 });
  assert.equal(report.replayed, 6);
  assert.equal(report.changed, 3);
  assert.deepEqual(report.by_change, { allow_to_deny: 2, deny_to_allow: 1, now_errors: 0, result_changed: 0 });
  assert.deepEqual(report.by_transition, { 'allow→deny': 2, 'deny→allow': 1 });
  assert.deepEqual(report.by_path, { 'authz/allow': { replayed: 4, changed: 3 }, 'quota/ok': { replayed: 2, changed: 0 } });
  const changed = Object.fromEntries(report.changes.map((c) => [c.decision_id, c]));
  assert.deepEqual(new Set(Object.keys(changed)), new Set([ids.bob, ids.admin, ids.carol]));
  assert.deepEqual(changed[ids.bob!]!.old, { outcome: 'allow', result: true });
  assert.deepEqual(changed[ids.bob!]!.new, { outcome: 'deny', result: false });
  assert.equal(changed[ids.carol!]!.change, 'deny_to_allow');

  // The same as a table, and --fail-on-change turns changes into exit code 1.
  const text = await replay(['--fail-on-change', candidate]);
  assert.equal(text.code, 1);
  assert.match(text.out, /replayed 6 of 9 decisions; 3 not replayable \(credentials_erased 2, input_erased 1\)/);
  assert.match(text.out, /credentials_erased: the policy saw Authorization or cookie headers the decision log does not store/);
  assert.match(text.out, /changed 3: allow_to_deny 2, deny_to_allow 1, now_errors 0, result_changed 0/);
  assert.ok(text.out.includes(`${ids.bob}`) && text.out.includes('allow→deny'));
});

test('filters narrow what is replayed, the same bundle changes nothing, and a tarball candidate works', async () => {
  const files = [
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: 'v1-again', roots: ['authz', 'quota'] })) },
    { path: 'authz/policy.rego', data: Buffer.from(policyV1) },
    { path: 'quota/policy.rego', data: Buffer.from(quota(upstreamUrl)) },
  ];
  const tarball = join(writeTree({}), 'v1.tar.gz');
  writeFileSync(tarball, await writeBundleArchive(files));
  const all = JSON.parse((await replay(['--format', 'json', tarball])).out) as ReplayReport;
  assert.equal(all.replayed, 6);
  assert.equal(all.changed, 0, JSON.stringify(all.changes));
  const denied = JSON.parse((await replay(['--format', 'json', '--outcome', 'deny', '--path', 'authz', tarball])).out) as ReplayReport;
  assert.equal(denied.considered, 1);
  const last = JSON.parse((await replay(['--format', 'json', '--last', '2', tarball])).out) as ReplayReport;
  assert.deepEqual(last.by_path, { 'quota/ok': { replayed: 2, changed: 0 } });
});

test('a wasm candidate (verdict build -t wasm) replays like its Rego source', async () => {
  const source = writeTree({
    '.manifest': JSON.stringify({ revision: 'v2-wasm', roots: ['authz'] }),
    'authz/policy.rego': 'package authz\n\ndefault allow := false\n\nallow if input.user in {"alice", "carol"}\n',
  });
  const files = await buildBundle({ paths: [source], entrypoints: ['authz/allow'], target: 'wasm', bundle: true });
  assert.ok(files.some((f) => f.path === '/policy.wasm' || f.path === 'policy.wasm'));
  const tarball = join(writeTree({}), 'wasm.tar.gz');
  writeFileSync(tarball, await writeBundleArchive(files));
  const report = JSON.parse((await replay(['--format', 'json', '--path', 'authz', tarball])).out) as ReplayReport;
  assert.equal(report.replayed, 4);
  assert.deepEqual(new Set(report.changes.map((c) => c.decision_id)), new Set([ids.bob, ids.admin, ids.carol]));
});

test('http.send replays from nd_builtin_cache; an unrecorded request is not replayable, never sent', async () => {
  // The upstream is closed: a live lookup would fail. A lower limit from data flips n=3 (3 < 5 held, 3 < 2 does not).
  const cached = writeTree({
    '.manifest': JSON.stringify({ revision: 'v3', roots: ['quota'] }),
    'quota/policy.rego': `package quota\n\nlimit := min([http.send({"method": "GET", "url": "${upstreamUrl}"}).body.limit, 2])\n\nok if input.n < limit\n`,
  });
  const report = JSON.parse((await replay(['--format', 'json', '--path', 'quota', cached])).out) as ReplayReport;
  assert.equal(report.replayed, 2);
  assert.equal(report.changed, 1);
  assert.equal(report.changes[0]!.decision_id, ids.quota3);
  assert.equal(report.changes[0]!.change, 'result_changed', 'true → undefined is not allow→deny');

  const elsewhere = writeTree({
    '.manifest': JSON.stringify({ revision: 'v4', roots: ['quota'] }),
    'quota/policy.rego': `package quota\n\nlimit := http.send({"method": "GET", "url": "${upstreamUrl}?v=2"}).body.limit\n\nok if input.n < limit\n`,
  });
  const refused = JSON.parse((await replay(['--format', 'json', '--path', 'quota', elsewhere])).out) as ReplayReport;
  assert.equal(refused.replayed, 0);
  assert.deepEqual(refused.not_replayable_by_reason, { http_send_not_recorded: 2 });
});

test('bad arguments and broken candidates are refused with a message naming them', async () => {
  const broken = writeTree({ '.manifest': JSON.stringify({ revision: 'x', roots: ['authz'] }), 'authz/p.rego': 'package authz\n\nallow if {\n' });
  const compile = await replay([broken]);
  assert.equal(compile.code, 2);
  assert.match(compile.err, /authz\/p\.rego/);
  const missing = await replay(['/nonexistent/bundle']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /\/nonexistent\/bundle/);
  const fine = writeTree({ '.manifest': JSON.stringify({ revision: 'y', roots: ['authz'] }), 'authz/p.rego': policyV1 });
  const badFilter = await replay(['--outcome', 'maybe', fine]);
  assert.notEqual(badFilter.code, 0);
  assert.match(badFilter.err, /outcome must be one of/);
  const none = await replay([]);
  assert.equal(none.code, 2);
  assert.match(none.err, /BUNDLE_PATH/);
});
