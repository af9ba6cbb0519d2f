// The status plugin in a running server: one report behind GET /v1/status, the upload (with the service's
// credentials, to /status/<partition_name>) and the console line; status.prometheus on /metrics; a failing
// status service only logged.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { TestBundleServer } from '../bundle/bundle-server.js';
import { eventually } from '../eventually.js';
import { send } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function start(configText: string): Promise<{ server: RunningServer; lines: Record<string, any>[] }> {
  const lines: Record<string, any>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const server = await startServer({ addr: '127.0.0.1:0', config: parseConfig(configText, 'test config'), bundlePaths: [], logger: pino({ level: 'info' }, out) });
  cleanups.push(() => server.close());
  return { server, lines };
}


/** A control plane that wants `token`, and a server whose `cp` service sends the token "tok". */
async function withControlPlane(token: string, statusSection: string) {
  const cp = await TestBundleServer.start({ requireBearer: token });
  cleanups.push(() => cp.close());
  const started = await start(`services:\n  cp:\n    url: ${cp.url}\n    credentials: { bearer: { token: tok } }\nlabels: { app: shop }\nstatus: ${statusSection}\n`);
  return { cp, ...started };
}

test('reports go to /status/<partition_name> with the service credentials, to the console, and match GET /v1/status', async () => {
  const { cp, server, lines } = await withControlPlane('tok', '{ service: cp, partition_name: east/1, console: true, prometheus: true }');
  await eventually('a report', () => cp.statusReports().length > 0);
  const posted = cp.requests.find((r) => r.method === 'POST')!;
  assert.equal(posted.path, '/status/east/1');
  assert.equal(posted.headers.authorization, 'Bearer tok');
  const report = cp.statusReports()[0]!;
  assert.equal(report.labels.app, 'shop');
  assert.deepEqual(report.plugins.status, { state: 'OK' });
  assert.equal(report.metrics.prometheus.http_request_duration_seconds.type, 'HISTOGRAM');
  const api = JSON.parse((await send(server.url, 'GET', '/v1/status')).body.toString()).result;
  assert.deepEqual(Object.keys(api).sort(), Object.keys(report).sort());
  assert.deepEqual(api.labels, report.labels);

  const console = lines.find((l) => l.msg === 'Status Log');
  assert.ok(console, 'a console line');
  assert.equal(console.type, 'openpolicyagent.org/status');
  assert.deepEqual(console.labels, report.labels);

  const metrics = (await send(server.url, 'GET', '/metrics')).body.toString();
  assert.match(metrics, /^plugin_status_gauge\{name="status",status="OK"\} 1$/m);
  assert.match(metrics, /^opa_info\{version="[^"]+"\} 1$/m);
});

test('without status.prometheus, /metrics has no plugin_status_gauge; a status service that fails is logged and decisions go on', async () => {
  const { server, lines } = await withControlPlane('another token', '{}');
  await eventually('the failure logged', () => lines.some((l) => l.msg === 'Status update failed.'));
  assert.match(lines.find((l) => l.msg === 'Status update failed.')!.err, /HTTP 401/);
  assert.doesNotMatch((await send(server.url, 'GET', '/metrics')).body.toString(), /plugin_status_gauge/);
  assert.equal((await send(server.url, 'GET', '/v1/status')).status, 200);
  assert.equal((await send(server.url, 'GET', '/health?plugins')).status, 200);
});

test('a status section that configures nothing leaves the plugin off, as OPA: GET /v1/status answers 500', async () => {
  const { server } = await start('status: {}\n');
  const res = await send(server.url, 'GET', '/v1/status');
  assert.equal(res.status, 500);
  assert.deepEqual(JSON.parse(res.body.toString()), { code: 'internal_error', message: 'status plugin not enabled' });
});
