import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { BundleDownloader, type BundleSourceConfig, type DownloadedBundle, type OnBundle } from '../../src/bundle/download.js';
import { ServiceClient, normaliseServices, type ServiceConfig } from '../../src/bundle/service.js';
import { writeBundleArchive } from '../../src/bundle/files.js';
import { TestBundleServer } from './bundle-server.js';
import { startNginx } from './nginx.js';
import { makeTlsFixtures } from './tls-fixtures.js';
import { tempDir } from './temp-dir.js';
import { eventually } from '../eventually.js';

const servers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(options: Parameters<typeof TestBundleServer.start>[0] = {}) {
  const s = await TestBundleServer.start(options);
  servers.push(s);
  return s;
}

async function bundleBytes(revision: string): Promise<Buffer> {
  return writeBundleArchive([{ path: '.manifest', data: Buffer.from(JSON.stringify({ revision })) }]);
}

function collector(fail?: (b: DownloadedBundle) => string | undefined) {
  const received: DownloadedBundle[] = [];
  const onBundle: OnBundle = async (b) => {
    const problem = fail?.(b);
    if (problem) throw new Error(problem);
    received.push(b);
  };
  return { received, onBundle };
}

function downloader(service: Partial<ServiceConfig> & { url: string }, bundle: Partial<BundleSourceConfig>, onBundle: OnBundle, name = 'authz') {
  const client = new ServiceClient({ name: 'acme', ...service });
  return new BundleDownloader(name, { service: 'acme', trigger: 'manual', ...bundle }, client, onBundle, { random: () => 0.5 });
}

test('downloads bundles/<name>, then sends If-None-Match and takes a 304 as unchanged', async () => {
  const srv = await server();
  const etag = srv.setBundle('authz', await bundleBytes('r1'));
  const { received, onBundle } = collector();
  const d = downloader({ url: srv.url }, {}, onBundle);
  let status = await d.trigger();
  assert.equal(received.length, 1);
  assert.equal(received[0]!.etag, etag);
  assert.deepEqual(received[0]!.bytes, await bundleBytes('r1'));
  assert.equal(status.etag, etag);
  assert.ok(status.lastSuccessfulActivation);
  status = await d.trigger();
  assert.equal(received.length, 1, 'a 304 is not a new bundle');
  assert.equal(srv.bundleRequests()[1]!.headers['if-none-match'], etag);
  assert.equal(srv.bundleRequests()[0]!.path, '/bundles/authz');
  assert.equal(srv.bundleRequests()[0]!.headers.prefer, 'modes=snapshot,delta');
  assert.equal(status.downloads, 1);
  assert.equal(status.lastError, undefined);
});

test('a configured resource and service headers are used', async () => {
  const srv = await server();
  srv.setBundle('v2/policies/main.tar.gz', await bundleBytes('r1'));
  const { received, onBundle } = collector();
  const d = downloader({ url: srv.url + '/v2/', headers: { 'x-tenant': 'blue' } }, { resource: '/policies/main.tar.gz' }, onBundle);
  await d.trigger();
  assert.equal(received.length, 1);
  assert.equal(srv.requests[0]!.path, '/v2/policies/main.tar.gz');
  assert.equal(srv.requests[0]!.headers['x-tenant'], 'blue');
});

test('periodic polling picks up a new bundle after a delay in [min,max]', async () => {
  const srv = await server();
  srv.setBundle('authz', await bundleBytes('r1'));
  const { received, onBundle } = collector();
  const d = downloader({ url: srv.url }, { trigger: 'periodic', polling: { min_delay_seconds: 0.1, max_delay_seconds: 0.3 } }, onBundle);
  d.start();
  await eventually('bundle 1 received', () => received.length === 1);
  srv.setBundle('authz', await bundleBytes('r2'));
  await eventually('bundle 2 received', () => received.length === 2);
  await d.stop();
  const reqs = srv.bundleRequests();
  // random() is pinned at 0.5, so each wait is min + (max-min)/2 = 200 ms.
  for (let i = 1; i < reqs.length; i++) assert.ok(reqs[i]!.at - reqs[i - 1]!.at >= 190, `poll ${i} came too early`);
  const count = srv.bundleRequests().length;
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(srv.bundleRequests().length, count, 'no polls after stop()');
});

test('long polling: the server holds the request and a new bundle arrives at once', async () => {
  const srv = await server({ bundleContentType: true });
  srv.setBundle('authz', await bundleBytes('r1'));
  const { received, onBundle } = collector();
  const d = downloader({ url: srv.url }, { trigger: 'periodic', polling: { min_delay_seconds: 30, max_delay_seconds: 60, long_polling_timeout_seconds: 5 } }, onBundle);
  d.start();
  await eventually('bundle 1 received', () => received.length === 1);
  await eventually('the second bundle request', () => srv.bundleRequests().length === 2); // the held long poll
  assert.equal(srv.bundleRequests()[1]!.headers.prefer, 'modes=snapshot,delta;wait=5');
  const published = Date.now();
  srv.setBundle('authz', await bundleBytes('r2'));
  await eventually('bundle 2 received', () => received.length === 2);
  assert.ok(Date.now() - published < 3000, 'delivered without waiting for the 30 s poll delay');
  assert.equal(d.status().longPolling, true);
  const stopping = Date.now();
  await d.stop();
  assert.ok(Date.now() - stopping < 3000, 'stop() cancels the held request (held for up to 5 s otherwise)');
});

test('long polling is dropped when the server does not answer with the OPA bundle content type', async () => {
  const srv = await server({ bundleContentType: false });
  srv.setBundle('authz', await bundleBytes('r1'));
  const { received, onBundle } = collector();
  const d = downloader({ url: srv.url }, { polling: { min_delay_seconds: 30, max_delay_seconds: 60, long_polling_timeout_seconds: 5 } }, onBundle);
  await d.trigger();
  assert.equal(received.length, 1);
  assert.equal(d.status().longPolling, false);
  await d.trigger();
  assert.equal(srv.bundleRequests()[0]!.headers.prefer, 'modes=snapshot,delta;wait=5');
  assert.equal(srv.bundleRequests()[1]!.headers.prefer, 'modes=snapshot,delta');
});

test('errors back off exponentially with jitter and recover', async () => {
  const srv = await server();
  srv.setBundle('authz', await bundleBytes('r1'));
  srv.faults.push({ kind: 'status', code: 500 }, { kind: 'status', code: 503 }, { kind: 'status', code: 500 }, { kind: 'status', code: 500 });
  const statuses: Array<{ error?: string; code?: number }> = [];
  const { received, onBundle } = collector();
  const client = new ServiceClient({ name: 'acme', url: srv.url });
  const d = new BundleDownloader('authz', { service: 'acme', polling: { min_delay_seconds: 30, max_delay_seconds: 60 } }, client, onBundle, {
    random: () => 1, // the top of the jitter range: +20%
    onStatus: (s) => statuses.push({ error: s.lastError, code: s.httpCode }),
  });
  d.start();
  await eventually('bundle 1 received', () => received.length === 1);
  await d.stop();
  const at = srv.bundleRequests().map((r) => r.at);
  const gaps = at.slice(1).map((t, i) => t - at[i]!);
  // OPA's schedule: immediate retry, then 100 ms ×1.6 per retry, here +20%: 0, 192, 307, 492 ms.
  assert.ok(gaps[0]! < gaps[1]! - 100, `first retry immediate, was ${gaps[0]} ms`);
  assert.ok(gaps[1]! >= 185 && gaps[2]! >= 300 && gaps[3]! >= 485, `gaps ${gaps}`);
  assert.ok(gaps[3]! > gaps[2]! && gaps[2]! > gaps[1]!);
  assert.deepEqual(statuses.slice(0, 2).map((s) => s.code), [500, 503]);
  assert.match(statuses[0]!.error!, /HTTP 500/);
  assert.equal(statuses.at(-1)!.error, undefined);
  assert.equal(d.status().failures, 4);
});

test('slow answers, resets and cut-off bodies are recorded as errors that name the problem', async () => {
  const srv = await server();
  srv.setBundle('authz', await bundleBytes('r1'));
  const { received, onBundle } = collector();
  const d = downloader({ url: srv.url, response_header_timeout_seconds: 0.2 }, {}, onBundle);
  srv.faults.push({ kind: 'slow', ms: 600 });
  assert.match((await d.trigger()).lastError!, /no response from .* within 200 ms/);
  srv.faults.push({ kind: 'reset' });
  assert.match((await d.trigger()).lastError!, /failed: (socket hang up|read ECONNRESET)/);
  srv.faults.push({ kind: 'truncate' });
  assert.match((await d.trigger()).lastError!, /cut off after \d+ bytes/);
  assert.equal(received.length, 0);
  assert.equal((await d.trigger()).lastError, undefined);
  assert.equal(received.length, 1);
});

test('size_limit_bytes does not cut a download off: as in OPA it bounds each file once the archive is read', async () => {
  const srv = await server();
  srv.setBundle('authz', Buffer.alloc(50_000, 1));
  const { received, onBundle } = collector();
  const status = await downloader({ url: srv.url }, { size_limit_bytes: 10_000 }, onBundle).trigger();
  assert.equal(status.lastError, undefined);
  assert.equal(received[0]!.bytes.length, 50_000);
});

test('a bundle the activator refuses is recorded, and downloaded again next time', async () => {
  const srv = await server();
  srv.setBundle('authz', await bundleBytes('r1'));
  let refuse = true;
  const { received, onBundle } = collector(() => (refuse ? 'policy does not compile' : undefined));
  const d = downloader({ url: srv.url }, {}, onBundle);
  const status = await d.trigger();
  assert.match(status.lastError!, /downloaded but not activated: policy does not compile/);
  assert.equal(status.lastSuccessfulActivation, undefined);
  refuse = false;
  await d.trigger();
  assert.equal(srv.bundleRequests()[1]!.headers['if-none-match'], undefined);
  assert.equal(received.length, 1);
});

test('bearer credentials: a token, or one read from token_path per request, with a custom scheme', async () => {
  const srv = await server({ requireBearer: 's3cret' });
  srv.setBundle('authz', await bundleBytes('r1'));
  const { received, onBundle } = collector();
  assert.match((await downloader({ url: srv.url }, {}, onBundle).trigger()).lastError!, /HTTP 401/);
  await downloader({ url: srv.url, credentials: { bearer: { token: 's3cret' } } }, {}, onBundle).trigger();
  assert.equal(received.length, 1);
  const tokenFile = join(tempDir('verdict-token-'), 'token');
  writeFileSync(tokenFile, 'wrong\n');
  const fromFile = downloader({ url: srv.url, credentials: { bearer: { token_path: tokenFile } } }, {}, onBundle);
  assert.match((await fromFile.trigger()).lastError!, /HTTP 401/);
  writeFileSync(tokenFile, 's3cret\n');
  assert.equal((await fromFile.trigger()).lastError, undefined);
  await downloader({ url: srv.url, credentials: { bearer: { token: 'abc', scheme: 'Token' } } }, {}, onBundle).trigger();
  assert.equal(srv.requests.at(-1)!.headers.authorization, 'Token abc');
});

test('OAuth2 client credentials: one token reused until it expires, then a new one', async () => {
  const tls = makeTlsFixtures();
  const srv = await server({ tls: { key: tls.serverKey, cert: tls.serverCert }, requireBearer: 'issued', oauth2: { clientId: 'verdict', clientSecret: 'pw', expiresIn: 1 } });
  srv.setBundle('authz', await bundleBytes('r1'));
  const { onBundle } = collector();
  const oauth2 = { token_url: `${srv.url}/token`, client_id: 'verdict', client_secret: 'pw', scopes: ['bundles:read', 'x'] };
  const overTls = (service: Partial<ServiceConfig>, bundle: Partial<BundleSourceConfig>, onBundle: OnBundle) =>
    downloader({ url: srv.url, tls: { ca_cert: tls.caCertPath }, ...service }, bundle, onBundle);
  const d = overTls({ credentials: { oauth2 } }, {}, onBundle);
  for (let i = 0; i < 3; i++) assert.equal((await d.trigger()).lastError, undefined);
  assert.equal(srv.issuedTokens.length, 1, 'cached while valid');
  assert.equal(srv.issuedTokens[0]!.scope, 'bundles:read x');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await d.trigger()).lastError, undefined);
  assert.equal(srv.issuedTokens.length, 2, 'refreshed after expiry');
  const bad = overTls({ credentials: { oauth2: { ...oauth2, client_secret: 'nope' } } }, {}, onBundle);
  assert.match((await bad.trigger()).lastError!, /oauth2 token request to .*\/token failed with HTTP 401/);
});

test('client TLS certificate and custom CA', async () => {
  const tls = makeTlsFixtures();
  const srv = await server({ tls: { key: tls.serverKey, cert: tls.serverCert, ca: tls.caCert, requestCert: true } });
  srv.setBundle('authz', await bundleBytes('r1'));
  const { received, onBundle } = collector();
  const withCert = downloader(
    { url: srv.url, tls: { ca_cert: tls.caCertPath }, credentials: { client_tls: { cert: tls.clientCertPath, private_key: tls.clientKeyPath } } },
    {},
    onBundle,
  );
  assert.equal((await withCert.trigger()).lastError, undefined);
  assert.equal(received.length, 1);
  assert.equal(srv.requests[0]!.clientCert, 'verdict-client');
  // OPA's deprecated spelling: the CA under client_tls, used when the service has no tls.ca_cert.
  const deprecatedCa = downloader({ url: srv.url, credentials: { client_tls: { cert: tls.clientCertPath, private_key: tls.clientKeyPath, ca_cert: tls.caCertPath } } }, {}, onBundle);
  assert.equal((await deprecatedCa.trigger()).lastError, undefined);
  const noCert = downloader({ url: srv.url, tls: { ca_cert: tls.caCertPath } }, {}, onBundle);
  assert.match((await noCert.trigger()).lastError!, /failed|cut off|hang up/);
  const unknownCa = downloader({ url: srv.url, credentials: { client_tls: { cert: tls.clientCertPath, private_key: tls.clientKeyPath } } }, {}, onBundle);
  assert.match((await unknownCa.trigger()).lastError!, /certificate/);
});

test('polling nginx: ETag and 304 from a real static file server, and a changed file is fetched', async () => {
  const nginx = await startNginx();
  servers.push({ close: () => nginx.stop() });
  const file = join(nginx.root, 'bundles', 'authz');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(nginx.root, 'bundles'), { mode: 0o755 });
  writeFileSync(file, await bundleBytes('r1'), { mode: 0o644 });
  const { received, onBundle } = collector();
  const d = downloader({ url: nginx.url }, { trigger: 'periodic', polling: { min_delay_seconds: 0.05, max_delay_seconds: 0.1 } }, onBundle);
  d.start();
  await eventually('bundle 1 received', () => received.length === 1);
  assert.match(received[0]!.etag!, /^"[0-9a-f]+-[0-9a-f]+"$/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(received.length, 1, 'unchanged file: 304s');
  writeFileSync(file, await bundleBytes('r2-longer-revision'), { mode: 0o644 });
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  await eventually('bundle 2 received', () => received.length === 2);
  await d.stop();
  assert.deepEqual(received[1]!.bytes, await bundleBytes('r2-longer-revision'));
  assert.notEqual(received[1]!.etag, received[0]!.etag);
  assert.equal(d.status().failures, 0);
});

test('services may be a map or a named list, as in OPA config', () => {
  assert.deepEqual(normaliseServices({ acme: { url: 'https://a' } }), [{ name: 'acme', url: 'https://a' }]);
  assert.deepEqual(normaliseServices([{ name: 'b', url: 'https://b' }]), [{ name: 'b', url: 'https://b' }]);
  assert.throws(() => normaliseServices([{ url: 'https://c' } as ServiceConfig]), /services\[0\] has no name/);
});
