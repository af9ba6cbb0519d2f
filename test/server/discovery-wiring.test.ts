// Discovery in a running server, beyond what the comparison with OPA covers: /health?bundles waits for the
// first discovered configuration, a discovered `status` section turns GET /v1/status on, and with `keys`
// configured the discovery bundle must carry a valid signature.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { signBundleFiles } from '../../src/bundle/signing.js';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { TestBundleServer } from '../bundle/bundle-server.js';
import { eventually } from '../eventually.js';
import { send } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const files = (config: unknown, revision: string): BundleFile[] => [
  { path: '.manifest', data: Buffer.from(JSON.stringify({ revision })) },
  { path: 'data.json', data: Buffer.from(JSON.stringify(config)) },
];
const policy = writeBundleArchive([
  { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: 'p1', roots: ['authz'] })) },
  { path: 'authz/policy.rego', data: Buffer.from('package authz\nallow := true\n') },
]);
const discovered = { bundles: { authz: { resource: 'bundles/authz' } }, status: { console: true } };

/** Log lines the server wrote, parsed. */
const logLines: Record<string, any>[] = [];
const logOut = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line));
    done();
  },
});

async function start(cp: TestBundleServer, extra = ''): Promise<RunningServer> {
  const config = parseConfig(`services:\n  cp:\n    url: ${cp.url}\ndiscovery:\n  resource: bundles/discovery\n  polling: { min_delay_seconds: 1, max_delay_seconds: 1 }\n${extra}`, 'test config');
  const server = await startServer({ addr: '127.0.0.1:0', config, bundlePaths: [], logger: pino({ level: 'info' }, logOut) });
  cleanups.push(() => server.close());
  return server;
}

const get = async (server: RunningServer, path: string) => {
  const res = await send(server.url, 'GET', path);
  return { status: res.status, body: JSON.parse(res.body.toString()) };
};


test('/health?bundles waits for discovery and its bundles; a discovered status section turns GET /v1/status on', async () => {
  const cp = await TestBundleServer.start();
  cleanups.push(() => cp.close());
  cp.setBundle('authz', await policy);
  const server = await start(cp);
  // Nothing served yet: discovery is not ready, and no status plugin is configured.
  assert.equal((await get(server, '/health?bundles')).status, 500);
  assert.equal((await get(server, '/v1/status')).status, 500);
  cp.setBundle('discovery', await writeBundleArchive(files(discovered, 'd1')));
  await eventually('bundles ready', async () => (await get(server, '/health?bundles')).status === 200);
  assert.equal(JSON.parse((await send(server.url, 'POST', '/v1/data/authz/allow', '{"input":{}}')).body.toString()).result, true);
  const status = await get(server, '/v1/status');
  assert.equal(status.status, 200);
  assert.equal(status.body.result.discovery.active_revision, 'd1');
  assert.deepEqual(status.body.result.plugins.discovery, { state: 'OK' });
  // GET /v1/config shows the merged configuration.
  assert.deepEqual((await get(server, '/v1/config')).body.result.bundles, discovered.bundles);
});

test('with keys configured the discovery bundle must be signed by one of them: unsigned refused, signed applied', async () => {
  const cp = await TestBundleServer.start();
  cleanups.push(() => cp.close());
  cp.setBundle('authz', await policy);
  cp.setBundle('discovery', await writeBundleArchive(files(discovered, 'unsigned')));
  const server = await start(cp, 'keys:\n  disco:\n    key: s3cret\n    algorithm: HS256\n');
  // The status plugin stays off until a discovered configuration turns it on; its report is read directly.
  const discovery = async () => (await server.ctx.status.report()).discovery as { code?: string; message?: string } | undefined;
  await eventually('the refusal', async () => (await discovery())?.code === 'bundle_error');
  assert.equal((await get(server, '/health?bundles')).status, 500);
  assert.match((await discovery())!.message!, /signature/i);
  const refusals = logLines.filter((l) => l.msg === 'Discovery update failed; the working configuration is unchanged.');
  assert.ok(refusals.some((l) => /signature/i.test(l.err)), JSON.stringify(refusals));
  assert.equal(server.bundles.list().length, 0, 'nothing configured from an unsigned bundle');

  const signed = await signBundleFiles(files(discovered, 'signed'), 's3cret', { algorithm: 'HS256', keyId: 'disco' });
  cp.setBundle('discovery', await writeBundleArchive(signed));
  await eventually('the signed bundle applied', async () => (await get(server, '/health?bundles')).status === 200);
  assert.equal((await get(server, '/v1/status')).body.result.discovery.active_revision, 'signed');
});
