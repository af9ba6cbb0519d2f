// The same `opa run` flag lines given to the real OPA and to `verdict run`: both must start, and both must
// give the same answers (decisions, documents, policy ids, the effective config) to the same requests. Bad
// flags and bad values must stop both, and Verdict's message must name the flag.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { referenceOpa } from '../engine/opa-fixture.js';
import { freePort } from '../free-port.js';
import { eventually } from '../eventually.js';
import { send, writeTree } from '../server/harness.js';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const main = resolve('dist/src/main.js');

const fixture = writeTree({
  'policy.rego': 'package app\n\ndefault allow := false\n\nallow if data.users[input.user].role == "admin"\n\nmain := {"allow": allow, "limit": data.limits.max}\n',
  'data.json': '{"users": {"alice": {"role": "admin"}, "bob": {"role": "dev"}}}',
  'limits.yaml': 'max: 5\n',
  'roles.yaml': 'admin: [read, write]\ndev: [read]\n',
  'tree/rules.rego': 'package tree\n\nnames contains n if some n, _ in data.tree.sub\n',
  'tree/sub/data.json': '{"x": 1, "y": 2}',
  'tree/sub/skip.yaml': 'z: 3\n',
  // A broken module in a hidden directory: loading it would stop start-up, so --ignore '.*' must skip it.
  'tree/.cache/broken.rego': 'package broken\n\nthis is not rego\n',
  'v0/policy.rego': 'package legacy\n\nallow { input.user == "alice" }\n\ndeny[msg] { input.user == "mallory"; msg := "blocked" }\n',
  'bundle/.manifest': '{"roots": ["gate"], "revision": "r1"}',
  'bundle/gate/policy.rego': 'package gate\n\nallow if input.token == data.gate.secret\n',
  'bundle/gate/data.json': '{"secret": "s3"}',
  'bundle/.hidden/broken.rego': 'package gate.broken\n\nnot rego\n',
  'config.yaml': 'labels:\n  region: eu\n',
  'owner.txt': 'team-policy\n',
});

interface Check {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** Compare only this part of the result (the config carries per-process ids). */
  pick?: (result: unknown) => unknown;
}

interface FlagLine {
  args: string[];
  checks: Check[];
}

const allow = (user: string): Check => ({ method: 'POST', path: '/v1/data/app/allow', body: { input: { user } } });
const configPart = (...keys: string[]) => (result: unknown) => keys.map((k) => k.split('.').reduce<unknown>((v, s) => (v as Record<string, unknown> | undefined)?.[s], result));
const policyIds: Check = { method: 'GET', path: '/v1/policies', pick: (r) => (r as { id: string }[]).map((p) => p.id).sort() };

const lines: FlagLine[] = [
  { args: ['policy.rego', 'data.json', 'limits:limits.yaml'], checks: [allow('alice'), allow('bob'), { method: 'POST', path: '/v1/data/app/main', body: { input: { user: 'alice' } } }, policyIds] },
  { args: ['-s', 'roles.cfg:roles.yaml', 'policy.rego', 'data.json'], checks: [{ method: 'GET', path: '/v1/data/roles/cfg' }, allow('alice')] },
  { args: ['--ignore', '.*', 'tree'], checks: [{ method: 'GET', path: '/v1/data/tree' }, policyIds] },
  { args: ['--ignore', '.*,*.yaml', 'pfx:tree'], checks: [{ method: 'GET', path: '/v1/data/pfx' }, { method: 'GET', path: '/v1/data/tree/names' }] },
  { args: ['-b', '--ignore', '.*', 'bundle'], checks: [{ method: 'POST', path: '/v1/data/gate/allow', body: { input: { token: 's3' } } }, { method: 'GET', path: '/v1/data/gate/secret' }] },
  { args: ['--v0-compatible', 'v0/policy.rego'], checks: [{ method: 'POST', path: '/v1/data/legacy', body: { input: { user: 'alice' } } }, { method: 'POST', path: '/v1/data/legacy/deny', body: { input: { user: 'mallory' } } }] },
  { args: ['--log-format', 'json-pretty', '--log-level', 'error', 'policy.rego', 'data.json'], checks: [allow('alice')] },
  { args: ['--shutdown-grace-period', '1', '--shutdown-wait-period', '0', '--ready-timeout', '20', 'policy.rego', 'data.json'], checks: [allow('bob')] },
  {
    args: ['--set', 'labels.team=blue', '--set', 'default_decision=app/main', '--set', 'services[0].name=s1,services[0].url=http://127.0.0.1:9', '--set', 'services[1].name=s2', '--set', 'services[1].url=http://127.0.0.1:10', 'policy.rego', 'data.json', 'limits:limits.yaml'],
    checks: [{ method: 'GET', path: '/v1/config', pick: configPart('labels.team', 'default_decision', 'services') }, { method: 'POST', path: '/', body: { user: 'alice' } }],
  },
  {
    args: ['-c', 'config.yaml', '--set-file', 'labels.owner=owner.txt', '--set', 'labels.note=a\\,b', '--set', 'labels.region=us', 'policy.rego'],
    checks: [{ method: 'GET', path: '/v1/config', pick: configPart('labels.owner', 'labels.note', 'labels.region') }],
  },
  { args: ['-w', '--skip-version-check', '--v1-compatible', '--log-level-request', 'debug', 'policy.rego', 'data.json'], checks: [allow('alice')] },
  { args: ['--bundle', '--ignore', '.*', '--skip-verify', '--verification-key', 'secret', '--signing-alg', 'HS256', 'bundle'], checks: [{ method: 'POST', path: '/v1/data/gate/allow', body: { input: { token: 'nope' } } }] },
];

interface Started {
  url: string;
  child: ChildProcess;
  stderr: () => string;
}

/** OPA, or node running Verdict's CLI: the words before `run`. */
const opaCommand = () => [referenceOpa()];
const verdictCommand = () => [process.execPath, main];

async function start(command: string[], args: string[], cwd = fixture): Promise<Started> {
  const port = await freePort();
  const [binary, ...before] = command;
  const child = spawn(binary!, [...before, 'run', '--server', '--addr', `127.0.0.1:${port}`, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const healthy = await eventually(`${command.join(' ')} ${args.join(' ')} healthy`, async () => {
    if (child.exitCode !== null) throw new Error(`${command.join(' ')} ${args.join(' ')} exited with ${child.exitCode}`);
    return (await send(url, 'GET', '/health').catch(() => undefined))?.status === 200;
  }).catch((err: Error) => err);
  if (healthy === true) return { url, child, stderr: () => stderr };
  child.kill('SIGKILL');
  throw new Error(`${(healthy as Error).message}: ${stderr}`);
}

function stop(server: Started): Promise<number | null> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve(server.child.exitCode);
    server.child.once('exit', (code) => resolve(code));
    server.child.kill('SIGTERM');
  });
}

async function answer(url: string, check: Check): Promise<unknown> {
  const res = await send(url, check.method, check.path, check.body === undefined ? undefined : JSON.stringify(check.body), { 'Content-Type': 'application/json' });
  const body = res.body.length ? (JSON.parse(res.body.toString()) as Record<string, unknown>) : undefined;
  // POST / answers the bare document; the Data API wraps it in "result" (and Verdict adds a decision_id).
  const result = check.path === '/' ? body : body?.result;
  return { status: res.status, result: check.pick && result !== undefined ? check.pick(result) : result };
}

for (const line of lines) {
  test(`opa run and verdict run agree: ${line.args.join(' ')}`, async () => {
    const [opa, verdict] = await Promise.all([start(opaCommand(), line.args), start(verdictCommand(), line.args)]);
    try {
      for (const check of line.checks) {
        assert.deepEqual(await answer(verdict.url, check), await answer(opa.url, check), `${check.method} ${check.path} ${JSON.stringify(check.body ?? '')}`);
      }
    } finally {
      const [, code] = await Promise.all([stop(opa), stop(verdict)]);
      assert.equal(code, 0, `verdict run exits 0 on SIGTERM: ${verdict.stderr()}`);
    }
  });
}

test('opa run and verdict run both reload loose files under --watch', async () => {
  const dir = writeTree({ 'p.rego': 'package w\n\nlimit := data.cfg.max\n', 'cfg/data.json': '{"max": 1}' });
  const args = ['--watch', 'p.rego', 'cfg:cfg'];
  const servers = await Promise.all([start(opaCommand(), args, dir), start(verdictCommand(), args, dir)]);
  try {
    const limit = async (url: string) => {
      const res = await send(url, 'GET', '/v1/data/w/limit').catch(() => undefined);
      return res?.status === 200 ? (JSON.parse(res.body.toString()) as { result?: unknown }).result : undefined;
    };
    const until = async (url: string, want: unknown) => {
      for (let i = 0; i < 600 && (await limit(url)) !== want; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await limit(url), want, url);
    };
    for (const s of servers) await until(s.url, 1);
    writeFileSync(resolve(dir, 'cfg/data.json'), '{"max": 2}');
    for (const s of servers) await until(s.url, 2);
  } finally {
    await Promise.all(servers.map(stop));
  }
});

const badLines: { args: string[]; names: RegExp }[] = [
  { args: ['--shutdown-grace-period', 'x'], names: /--shutdown-grace-period x/ },
  { args: ['--ready-timeout', '1.5'], names: /--ready-timeout 1\.5/ },
  { args: ['--log-format', 'xml'], names: /--log-format xml: expected one of json, json-pretty, text/ },
  { args: ['--log-level-request', 'verbose'], names: /--log-level-request verbose/ },
  { args: ['--set', 'a[x]=1'], names: /--set a\[x\]=1: list index "x"/ },
  { args: ['--set', 'labels'], names: /--set labels: key "labels" has no value/ },
  { args: ['--set-file', 'labels.x=/nonexistent/file'], names: /--set-file labels\.x=\/nonexistent\/file: cannot read \/nonexistent\/file/ },
  { args: ['--set', 'labels.x={a'], names: /--set labels\.x=\{a: list value is missing its closing "\}"/ },
  { args: ['--no-such-flag'], names: /'--no-such-flag'/ },
  { args: ['missing.rego'], names: /missing\.rego: no such file or directory/ },
];

// These commands stop before serving, so they run side by side.
describe('a bad flag line stops both and Verdict names it', sideBySide, () => {
  for (const { args, names } of badLines) {
    test(args.join(' '), async () => {
      const argv = ['run', '-s', '--addr', '127.0.0.1:0', ...args];
      const [opa, verdict] = await Promise.all([runCommand(referenceOpa(), argv, { cwd: fixture, timeout: 20_000 }), runVerdict(argv, { cwd: fixture, timeout: 20_000 })]);
      assert.notEqual(opa.status, 0, `OPA refuses it too: ${opa.stderr}`);
      assert.equal(verdict.status, 2, verdict.stderr);
      assert.match(verdict.stderr, names);
    });
  }
});

const refused: { args: string[]; names: RegExp }[] = [
  { args: ['--pprof'], names: /--pprof is not supported: Verdict is not a Go program/ },
  { args: ['-f', 'json'], names: /--format is not supported: the interactive shell/ },
  { args: ['--history', 'h'], names: /--history is not supported/ },
  { args: ['--watch-config'], names: /--watch-config is not supported/ },
  { args: ['--log-timestamp-format', '2006'], names: /--log-timestamp-format is not supported/ },
  { args: ['-m', '3'], names: /--max-errors is not supported/ },
  { args: ['--v0-compatible', '--v1-compatible'], names: /--v0-compatible and --v1-compatible contradict/ },
  { args: ['--verification-key', 'k', 'policy.rego'], names: /--verification-key verifies bundles: give the paths with --bundle/ },
];

describe('verdict run refuses by name', sideBySide, () => {
  for (const { args, names } of refused) {
    test(args.join(' '), async () => {
      const out = await runVerdict(['run', '--addr', '127.0.0.1:0', ...args], { cwd: fixture, timeout: 20_000 });
      assert.equal(out.status, 2, out.stderr);
      assert.match(out.stderr, names);
    });
  }
});

test('verdict run -h lists every opa run flag it knows, with refusals and their reasons', () => {
  const out = spawnSync(process.execPath, [main, 'run', '-h'], { encoding: 'utf8' });
  assert.equal(out.status, 0);
  for (const flag of ['--set-file', '--bundle', '--ignore', '--shutdown-wait-period', '--ready-timeout', '--log-level-request', '--skip-verify']) assert.match(out.stdout, new RegExp(flag));
  assert.match(out.stdout, /--pprof\s+refused: Verdict is not a Go program/);
});

test('--shutdown-wait-period keeps serving after SIGTERM, then exits 0', async () => {
  const server = await start(verdictCommand(), ['--shutdown-wait-period', '2', '--shutdown-grace-period', '1', 'policy.rego', 'data.json']);
  const signalled = Date.now();
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await answer(server.url, allow('alice')), { status: 200, result: true });
  assert.equal(await exited, 0);
  assert.ok(Date.now() - signalled >= 2000, 'exited only after the wait period');
});

test('--ready-timeout: a bundle that never loads stops both OPA and Verdict with status 1', async () => {
  const args = ['--ready-timeout', '1', '--set', 'services.down.url=http://127.0.0.1:9', '--set', 'bundles.b.service=down'];
  const argv = ['run', '--server', '--addr', '127.0.0.1:0', ...args];
  const [opa, verdict] = await Promise.all([runCommand(referenceOpa(), argv, { cwd: fixture, timeout: 30_000 }), runVerdict(argv, { cwd: fixture, timeout: 30_000 })]);
  assert.equal(opa.status, 1, opa.stderr);
  assert.equal(verdict.status, 1, verdict.stderr);
  assert.match(verdict.stderr, /"err":"plugins not ready after --ready-timeout 1s: bundle","msg":"Failed to wait for plugins activation\."/);
});
