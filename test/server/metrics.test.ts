// /metrics details the differential test (metrics-differential.test.ts) does not reach: the handler label of
// the routes and methods it does not send, `server.metrics.prom.http_request_duration_seconds.buckets` honoured,
// bad bucket lists refused naming the key, by the config check and by `verdict run`, the "authz" handler
// of `--authorization=basic` compared with `opa run`, and Node's default metrics made once per thread.
import { test, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import perfHooks from 'node:perf_hooks';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { startServer } from '../../src/server/start.js';
import { tempDir } from '../bundle/temp-dir.js';
import { send } from './harness.js';
import { freePort } from '../free-port.js';
import { expectStartFailure, spawnServer, waitUntil } from './processes.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const key = 'server.metrics.prom.http_request_duration_seconds.buckets';
const withBuckets = (buckets: string) => `server:\n  metrics:\n    prom:\n      http_request_duration_seconds:\n        buckets: ${buckets}\n`;

test('handler labels follow OPA\'s routes: the served methods, catchall for 405s, nothing where OPA counts nothing', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['HEAD', '/v1/policies/x', 'v1/policies'],
    ['POST', '/v1/policies/x', 'catchall'],
    ['DELETE', '/v1/data/', 'v1/data'],
    ['HEAD', '/v0/data/x', 'catchall'],
    ['GET', '/v1/query/x', 'catchall'],
    ['GET', '/v1/compile/authz/allow', 'v1/compile'],
    ['GET', '/v1/compile', undefined],
    ['POST', '/health', undefined],
    ['GET', '/health/live?x=1', 'health'],
    ['PUT', '/', undefined],
    ['GET', '/metrics', undefined],
    ['GET', '/debug/pprof/', undefined],
    ['POST', '/v1/authz/any/path', 'v1/authz'],
    ['GET', '/v1/decisions?limit=1', 'v1/decisions'],
  ];
  for (const [method, url, handler] of cases) assert.equal(ServerMetrics.handlerOf(method, url), handler, `${method} ${url}`);
});

test("Node's default metrics are made once per thread: a further ServerMetrics starts no event loop monitor and still reports them", async () => {
  const names = async (metrics: ServerMetrics) => new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
  const first = new ServerMetrics();
  const monitors = mock.method(perfHooks, 'monitorEventLoopDelay');
  try {
    const later = [new ServerMetrics(), new ServerMetrics()];
    assert.equal(monitors.mock.callCount(), 0);
    for (const metrics of later) assert.deepEqual(await names(metrics), await names(first));
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds', 'process_cpu_seconds_total']) assert.ok((await names(later[1]!)).has(name), name);
  } finally {
    monitors.mock.restore();
  }
});

test('the request histogram has the configured buckets', async () => {
  const server = await startServer({ addr: '127.0.0.1:0', config: parseConfig(withBuckets('[0.001, 0.5, 2]'), 'test config'), bundlePaths: [], logger: pino({ level: 'silent' }) });
  cleanups.push(() => server.close());
  await send(server.url, 'GET', '/health');
  const text = (await send(server.url, 'GET', '/metrics')).body.toString();
  const bounds = text
    .split('\n')
    .filter((line) => line.startsWith('http_request_duration_seconds_bucket{') && line.includes('handler="health"'))
    .map((line) => /le="([^"]+)"/.exec(line)?.[1]);
  assert.deepEqual(bounds, ['0.001', '0.5', '2', '+Inf']);
});

test('bucket lists that are not increasing positive numbers are refused, naming the key', async () => {
  for (const bad of ['[]', '["a"]', '[0]', '[-1, 1]', '0.5']) {
    assert.throws(() => parseConfig(withBuckets(bad), 'test config'), (err: Error) => err.message.includes('/server/metrics/prom/http_request_duration_seconds/buckets'), bad);
  }
  for (const [bad, where] of [['[0.5, 0.1]', `${key}[1]`], ['[0.1, 0.1]', `${key}[1]`]]) {
    const config = parseConfig(withBuckets(bad), 'test config');
    await assert.rejects(startServer({ addr: '127.0.0.1:0', config, bundlePaths: [], logger: pino({ level: 'silent' }) }), (err: Error) => err.message.startsWith(where), bad);
  }
  const file = join(tempDir('metrics-buckets-'), 'config.yaml');
  writeFileSync(file, withBuckets('[1, 0.5]'));
  const { code, output } = await expectStartFailure('verdict', ['--addr', '127.0.0.1:0', '-c', file]);
  assert.notEqual(code, 0);
  assert.match(output, /server\.metrics\.prom\.http_request_duration_seconds\.buckets\[1\]: 0\.5 does not follow 1; bounds must increase/);
});

test('with --authorization=basic every request is also counted under handler "authz", as OPA counts it', async () => {
  const dir = tempDir('metrics-authz-');
  writeFileSync(join(dir, 'authz.rego'), 'package system.authz\n\ndefault allow := false\n\nallow if input.path[0] != "forbidden"\n');
  const servers = await Promise.all(
    (['opa', 'verdict'] as const).map(async (kind) => {
      const port = await freePort();
      const server = spawnServer(kind, ['--addr', `127.0.0.1:${port}`, '--authorization=basic', '--log-level', 'error', ...(kind === 'verdict' ? ['--workers', '1'] : []), join(dir, 'authz.rego')]);
      cleanups.push(async () => void (await server.stop()));
      const url = `http://127.0.0.1:${port}`;
      await waitUntil(server, async () => (await send(url, 'GET', '/health')).status === 200);
      return url;
    }),
  );
  const series = async (url: string) => {
    for (const path of ['/v1/data', '/nothing', '/forbidden']) await send(url, 'GET', path);
    const text = (await send(url, 'GET', '/metrics')).body.toString();
    const lines = text.split('\n').filter((l) => l.startsWith('http_request_duration_seconds_count{'));
    return lines.map((l) => ['code', 'handler', 'method'].map((k) => new RegExp(`${k}="([^"]*)"`).exec(l)?.[1]).join(' ')).sort();
  };
  const [opa, verdict] = [await series(servers[0]), await series(servers[1])];
  assert.ok(opa.includes('404 authz get') && opa.includes('401 authz get'), `OPA counts 404s and refusals under authz: ${opa}`);
  assert.deepEqual(verdict, opa);
});
