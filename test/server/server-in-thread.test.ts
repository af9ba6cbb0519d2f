// startServer inside a real worker thread, as the servers of a multi-threaded `verdict run` run: decisions, a
// Data API write, /metrics and /health over real HTTP, an ext_authz check on a gRPC port handed over by
// descriptor; stopped through the main thread (SIGTERM reaches only it). The thread's log lines all reach the
// process's stderr, the thread ends by itself once stopped, and the decision log file is owner-only with every
// decision in it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { ExtAuthzClient, httpCheckRequest } from '../envoy/client.js';
import { send, writeTree } from './harness.js';
import type { ThreadServerSettings } from './thread-server.js';

const bundleDir = writeTree({
  '.manifest': JSON.stringify({ revision: 'rev-1', roots: ['authz', 'envoy'] }),
  'authz/policy.rego': 'package authz\n\ndefault allow := false\n\nallow if data.users[input.user].admin == true\n',
  'envoy/policy.rego': 'package envoy.authz\n\ndefault allow := false\n\nallow if input.attributes.request.http.method == "GET"\n',
});

const decisions = 200;

test('a server in a worker thread serves, logs every line and decision, and stops through the main thread', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-thread-'));
  const settings: ThreadServerSettings = {
    bundlePaths: [bundleDir],
    config: `
plugins:
  envoy_ext_authz_grpc:
    addr: 127.0.0.1:GRPC_PORT
    path: envoy/authz/allow
decision_logs:
  console: true
  store:
    file: ${dir}/decisions.db
`,
  };
  const child = spawn(process.execPath, [new URL('./thread-server.js', import.meta.url).pathname, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then((code) => reject(new Error(`server process exited (${code}) before serving: ${stderr.slice(-3000)}`)));
  });
  const { url, grpcPort, error } = JSON.parse(first) as { url: string; grpcPort: number; error?: string };
  assert.equal(error, undefined);

  assert.equal((await send(url, 'GET', '/health')).status, 200);
  const put = await send(url, 'PUT', '/v1/data/users', JSON.stringify({ alice: { admin: true }, bob: { admin: false } }), { 'Content-Type': 'application/json' });
  assert.equal(put.status, 204, put.body.toString());
  const answers = await Promise.all(
    Array.from({ length: decisions }, (_, i) => send(url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user: i % 2 ? 'alice' : 'bob' } }), { 'Content-Type': 'application/json' })),
  );
  answers.forEach((a, i) => assert.equal((JSON.parse(a.body.toString()) as { result: boolean }).result, i % 2 === 1));
  const client = new ExtAuthzClient(`127.0.0.1:${grpcPort}`);
  try {
    assert.deepEqual((await client.check(httpCheckRequest({ method: 'GET', path: '/' }))).response?.status, {});
    assert.deepEqual((await client.check(httpCheckRequest({ method: 'POST', path: '/' }))).response?.status, { code: 7 });
  } finally {
    client.close();
  }
  const metrics = (await send(url, 'GET', '/metrics')).body.toString();
  assert.match(metrics, new RegExp(`^http_request_duration_seconds_count\\{code="200",handler="v1/data",method="post"\\} ${decisions}$`, 'm'));
  assert.match(metrics, /^process_cpu_seconds_total \d/m);

  // Stopped at once, right after the last answers: nothing they produced may be lost.
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 30_000).unref())]);
  assert.equal(code, 0, `the process ends once its thread has stopped: ${stderr.slice(-3000)}`);

  const records = stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; level: string; path?: string });
  const messages = records.map((r) => r.msg);
  assert.ok(messages.includes('Server started.'), stderr.slice(0, 3000));
  assert.ok(messages.includes('Starting gRPC server.'));
  assert.ok(messages.includes('gRPC server stopped.'), 'logged while stopping, after SIGTERM');
  const total = decisions + 2;
  assert.equal(records.filter((r) => r.msg === 'Decision Log').length, total, 'every decision on the console log');
  assert.equal(records.filter((r) => r.msg === 'Sent response.').length, decisions + 3);

  assert.equal(statSync(join(dir, 'decisions.db')).mode & 0o777, 0o600);
  const db = openDecisionDatabase(join(dir, 'decisions.db'), { readonly: true });
  try {
    assert.equal((db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n, total, 'every decision stored');
  } finally {
    db.close();
  }
});
