// Decision-log upload through `verdict run` (a real process) to a collector that is a real process too, stopped
// and restarted as outages: failing with 500, answering garbage, too slow to answer, absent, and Verdict itself
// restarted in the middle. Every decision reaches the collector once; what OPA sends for the same config is the
// reference for the request's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../free-port.js';
import { tempDir } from '../decisionlog/helpers.js';
import { eventually } from '../eventually.js';

import { opaBinary } from '../decisionlog/opa.js';

interface Received {
  method: string;
  url: string;
  headers: Record<string, string>;
  events: Record<string, unknown>[];
}

const collectorScript = resolve('dist/test/decisionlog/collector-process.js');

async function startCollector(port: number, mode: 'ok' | '500' | 'garbage' | 'slow', record: string): Promise<ChildProcess> {
  const child = fork(collectorScript, [String(port), mode, record], { stdio: 'ignore' });
  await new Promise<void>((done, fail) => {
    child.once('message', () => done());
    child.once('exit', (code) => fail(new Error(`collector exited with ${code}`)));
  });
  return child;
}

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill(signal);
  });
}

function received(record: string): Received[] {
  if (!existsSync(record)) return [];
  // The collector appends while we read: a last line without its newline is still being written.
  const text = readFileSync(record, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Received);
}

async function startServerProcess(command: string[], base: string): Promise<ChildProcess> {
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    await eventually('the server healthy', async () => {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      return (await fetch(`${base}/health`).catch(() => undefined))?.ok;
    }, 20_000);
    return child;
  } catch (err) {
    // A server that never answered must not outlive the test (and keep its file from finishing).
    await stop(child);
    throw new Error(`server did not start: ${(err as Error).message}: ${stderr}`);
  }
}

async function decide(base: string, user: string): Promise<string> {
  const response = await fetch(`${base}/v1/data/test/allow`, { method: 'POST', body: JSON.stringify({ input: { user } }) });
  return ((await response.json()) as { decision_id: string }).decision_id;
}

/** The policy as a directory: both `opa run` and `verdict run` load it as a bundle root. */
function writePolicy(dir: string): string {
  mkdirSync(join(dir, 'policy'), { recursive: true });
  writeFileSync(join(dir, 'policy', 'p.rego'), 'package test\n\nallow if input.user == "alice"\n');
  return join(dir, 'policy');
}

function writeConfig(dir: string, collectorPort: number, reporting = '{min_delay_seconds: 1, max_delay_seconds: 1, upload_size_limit_bytes: 2048}'): string {
  const file = join(dir, 'config.yaml');
  writePolicy(dir);
  writeFileSync(
    file,
    [
      'labels: {app: upload-test}',
      'services:',
      '  collector:',
      `    url: http://127.0.0.1:${collectorPort}`,
      '    response_header_timeout_seconds: 1',
      '    credentials: {bearer: {token: "t0ken"}}',
      'decision_logs:',
      '  service: collector',
      `  reporting: ${reporting}`,
      '  store: {file: ' + JSON.stringify(join(dir, 'decisions.db')) + '}',
      '',
    ].join('\n'),
  );
  return file;
}

/** A working directory with the policy and an uploading config, free ports, and the `verdict run` command line. */
async function uploadSetup(flags: string[] = [], reporting?: string) {
  const dir = tempDir();
  const collectorPort = await freePort();
  const record = join(dir, 'received.jsonl');
  const config = writeConfig(dir, collectorPort, reporting);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const verdictCommand = [process.execPath, resolve('dist/src/main.js'), 'run', '--addr', `127.0.0.1:${port}`, ...flags, '-c', config, join(dir, 'policy')];
  return { dir, collectorPort, record, config, base, verdictCommand };
}

test('collector failing, garbage, slow, absent, and Verdict restarted: every decision arrives once, with OPA\'s request shape', { timeout: 120_000 }, async (t) => {
  const { dir, collectorPort, record, config, base, verdictCommand } = await uploadSetup();
  const children: ChildProcess[] = [];
  t.after(() => Promise.all(children.map((c) => stop(c))));

  let verdict = await startServerProcess(verdictCommand, base);
  children.push(verdict);
  const ids: string[] = [];
  const decideMany = async (n: number) => {
    for (let i = 0; i < n; i++) ids.push(await decide(base, i % 2 ? 'alice' : `bob-${ids.length}-${'x'.repeat(200)}`));
  };

  // No collector at all, then one failing with 500, one answering garbage, one never answering.
  await decideMany(20);
  for (const mode of ['500', 'garbage', 'slow'] as const) {
    const collector = await startCollector(collectorPort, mode, record);
    children.push(collector);
    let failed = 0;
    collector.on('message', (message) => message === 'attempt failed' && failed++);
    await decideMany(20);
    await eventually(`an upload to fail against the ${mode} collector`, () => failed > 0);
    await stop(collector);
  }
  assert.deepEqual(received(record), [], 'nothing acknowledged yet');

  // Verdict restarted while the collector is away: the unshipped decisions are in its database.
  await stop(verdict, 'SIGTERM');
  verdict = await startServerProcess(verdictCommand, base);
  children.push(verdict);
  await decideMany(20);

  const collector = await startCollector(collectorPort, 'ok', record);
  children.push(collector);
  const shipped = () => received(record).flatMap((r) => r.events.map((e) => e.decision_id as string));
  await eventually('every decision shipped', () => shipped().length >= ids.length);
  await new Promise((r) => setTimeout(r, 1_500)); // a further round must not send anything again
  assert.equal(shipped().length, ids.length, 'no decision sent twice');
  assert.deepEqual(new Set(shipped()), new Set(ids));
  const requests = received(record);
  assert.ok(requests.length > 1, `several chunks under the 2048-byte limit, got ${requests.length}`);

  // The same config to OPA: the request shape Verdict sends must match the reference's.
  const opaPort = await freePort();
  const opa = await startServerProcess([opaBinary(), 'run', '--server', '--addr', `127.0.0.1:${opaPort}`, '--log-level', 'error', '-c', config, join(dir, 'policy')], `http://127.0.0.1:${opaPort}`);
  children.push(opa);
  const opaId = await decide(`http://127.0.0.1:${opaPort}`, 'alice');
  await eventually("OPA's decision received", () => received(record).some((r) => r.events.some((e) => e.decision_id === opaId)));
  const fromOpa = received(record).find((r) => r.events.some((e) => e.decision_id === opaId))!;
  for (const ours of requests) {
    assert.equal(ours.method, fromOpa.method);
    assert.equal(ours.url, fromOpa.url);
    for (const header of ['content-type', 'content-encoding', 'authorization']) assert.equal(ours.headers[header], fromOpa.headers[header], header);
    assert.match(ours.headers['user-agent'], /^Verdict\/\S+ \(linux|darwin|win32/);
    assert.ok(Number(ours.headers['content-length']) <= 2048);
  }
  const opaEvent = fromOpa.events.find((e) => e.decision_id === opaId)!;
  // An allowed decision (bob's are undefined, so carry no result); workers commit in their own order, so the
  // last event shipped need not be the last decision made.
  const aliceId = ids.at(-1)!;
  const ourEvent = requests.flatMap((r) => r.events).find((e) => e.decision_id === aliceId)!;
  for (const key of ['decision_id', 'labels', 'path', 'input', 'result', 'timestamp', 'metrics']) {
    assert.ok(key in opaEvent, `OPA sends ${key}`);
    assert.ok(key in ourEvent, `Verdict sends ${key}`);
  }
});

test('decision_logs.console prints each event on the log as OPA does; a bad decision_logs key stops start-up naming it', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  writePolicy(dir);
  writeFileSync(join(dir, 'c.yaml'), `decision_logs: {console: true, store: {file: ${JSON.stringify(join(dir, 'd.db'))}}}\nlabels: {app: console-test}\n`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [resolve('dist/src/main.js'), 'run', '--addr', `127.0.0.1:${port}`, '-c', join(dir, 'c.yaml'), join(dir, 'policy')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => stop(child));
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await eventually('the server to start', () => output.includes('Server started'));
  const id = await decide(base, 'alice');
  await eventually('the decision in the console log', () => output.includes(id), 5_000);
  const line = JSON.parse(output.split('\n').find((l) => l.includes(id))!) as Record<string, unknown>;
  assert.equal(line.msg, 'Decision Log');
  assert.equal(line.type, 'openpolicyagent.org/decision_logs');
  assert.equal(line.decision_id, id);
  assert.equal(line.path, 'test/allow');
  assert.deepEqual(line.input, { user: 'alice' });
  assert.equal(line.result, true);
  assert.equal((line.labels as Record<string, string>).app, 'console-test');

  for (const [yaml, message] of [
    ['decision_logs: {plugin: kafka}', /decision_logs\.plugin: custom plugins are Go code/],
    ['decision_logs: {reporting: {trigger: manual}}', /decision_logs\.reporting\.trigger: "manual" is refused/],
    ['decision_logs: {reporting: {buffer_type: ring}}', /decision_logs\/reporting\/buffer_type|buffer_type/],
    ['decision_logs: {reporting: {nope: 1}}', /\/decision_logs\/reporting: unknown key "nope"/],
    ['decision_logs: {service: absent}\nservices: {c: {url: "http://127.0.0.1:1"}}', /decision_logs\.service "absent" names no service/],
    ['decision_logs: {service: c, store: {enabled: false}}\nservices: {c: {url: "http://127.0.0.1:1"}}', /decision_logs\.store\.enabled is false but decision_logs uploads to service c/],
    ['nd_builtin_cache: true\ndistributed_tracing: {type: grpc, address: "http://127.0.0.1:4317"}', /distributed_tracing\.address: must be host:port/],
  ] as const) {
    writeFileSync(join(dir, 'bad.yaml'), yaml + '\n');
    const run = spawn(process.execPath, [resolve('dist/src/main.js'), 'run', '--addr', '127.0.0.1:0', '-c', join(dir, 'bad.yaml'), join(dir, 'policy')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    run.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => run.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((done) => run.once('exit', done));
    clearTimeout(killer);
    assert.notEqual(code, 0, yaml);
    assert.match(stderr, message, yaml);
  }
});

test('with --workers 2 sharing one database, every decision is uploaded once', { timeout: 60_000 }, async (t) => {
  const { collectorPort, record, base, verdictCommand } = await uploadSetup(['--workers', '2']);
  const collector = await startCollector(collectorPort, 'ok', record);
  t.after(() => stop(collector));
  const verdict = await startServerProcess(verdictCommand, base);
  t.after(() => stop(verdict));
  // New connections each time, so both workers answer some.
  const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => decide(base, i % 2 ? 'alice' : 'bob')));
  const shipped = () => received(record).flatMap((r) => r.events.map((e) => e.decision_id as string));
  await eventually('every decision shipped', () => shipped().length >= ids.length);
  await new Promise((r) => setTimeout(r, 2_500));
  assert.equal(shipped().length, ids.length);
  assert.deepEqual(new Set(shipped()), new Set(ids));
});

/** One decision over a connection of its own (fetch would keep reusing one, always answered by the same thread). */
function decideOnNewConnection(base: string, user: string): Promise<string> {
  return new Promise((done, fail) => {
    const body = JSON.stringify({ input: { user } });
    const req = httpRequest(`${base}/v1/data/test/allow`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => done((JSON.parse(text) as { decision_id: string }).decision_id));
    });
    req.on('error', fail);
    req.end(body);
  });
}

test('trigger immediate with --workers 2: a decision answered by any server thread is uploaded at once', { timeout: 90_000 }, async (t) => {
  // The periodic round is an hour away: only the commit of each decision can start its upload.
  const { collectorPort, record, base, verdictCommand } = await uploadSetup(['--workers', '2'], '{trigger: immediate, min_delay_seconds: 3600, max_delay_seconds: 3600}');
  const collector = await startCollector(collectorPort, 'ok', record);
  t.after(() => stop(collector));
  const verdict = await startServerProcess(verdictCommand, base);
  t.after(() => stop(verdict));
  const shipped = () => received(record).flatMap((r) => r.events.map((e) => e.decision_id as string));
  const ids: string[] = [];
  // One at a time, each on a new connection, so some are answered by the thread that does not upload, and no
  // later decision of the uploading thread can carry an earlier one along.
  for (let i = 0; i < 12; i++) {
    const id = await decideOnNewConnection(base, i % 2 ? 'alice' : 'bob');
    ids.push(id);
    await eventually(`decision ${i + 1} uploaded`, () => shipped().includes(id), 5_000);
  }
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(shipped().length, ids.length, 'no decision sent twice');
  assert.deepEqual(new Set(shipped()), new Set(ids));
});
