// Issue 5 end to end through the real server (startServer, as `verdict run` calls it): bundles polled from the
// test bundle server, refused bundles leaving decisions alone, the admin API with real JWTs, persistence across a
// restart with the bundle server down, /health?bundles, /v1/status, /metrics, --watch and --verification-key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { TestAdminIdp } from './admin-idp.js';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer, type StartOptions } from '../../src/server/start.js';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { TestBundleServer } from '../bundle/bundle-server.js';
import { maliciousBundles } from '../bundle/malicious/catalogue.js';
import { tempDir } from '../bundle/temp-dir.js';
import { eventually } from '../eventually.js';
import { send } from './harness.js';

const file = (path: string, body: string): BundleFile => ({ path, data: Buffer.from(body) });
const policy = file('authz/policy.rego', 'package authz\n\ndefault allow := false\n\nallow if input.user in data.authz.users\n');
const authzBundle = (revision: string, users: string[]) =>
  writeBundleArchive([file('.manifest', JSON.stringify({ revision, roots: ['authz'] })), file('authz/data.json', JSON.stringify({ users })), policy]);

const idp = new TestAdminIdp();
const adminToken = (scope = 'bundles:write bundles:read') => idp.token(scope);
const adminConfig = `\n${idp.config()}`;

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function bundleServer(): Promise<TestBundleServer> {
  const srv = await TestBundleServer.start({ bundleContentType: true });
  cleanups.push(() => srv.close());
  return srv;
}

async function verdict(configText: string, extra: Partial<StartOptions> = {}): Promise<RunningServer> {
  const server = await startServer({ addr: '127.0.0.1:0', config: parseConfig(configText, 'test config'), bundlePaths: [], logger: pino({ level: 'silent' }), ...extra });
  cleanups.push(() => server.close(1000));
  return server;
}

async function json(server: RunningServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await send(server.url, method, path, body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body), headers);
  const text = res.body.toString();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const allowed = async (server: RunningServer, user: string) => (await json(server, 'POST', '/v1/data/authz/allow', { input: { user } })).body?.result;

const pollingConfig = (url: string, persistDir: string, extra = '') => `
status: {}
persistence_directory: ${persistDir}
services:
  acme:
    url: ${url}
bundles:
  authz:
    service: acme
    persist: true
    polling: {min_delay_seconds: 1, max_delay_seconds: 2, long_polling_timeout_seconds: 10}
${extra}`;

test('a polled bundle: not ready until first activation, decisions follow new bundles, a broken one is refused and reported, persisted copy serves after a restart with the server down', async () => {
  const srv = await bundleServer();
  const persistDir = tempDir('verdict-wiring-persist-');
  const server = await verdict(pollingConfig(srv.url, persistDir));

  // Nothing published yet: the server answers, but /health?bundles says not ready.
  assert.deepEqual(await json(server, 'GET', '/health?bundles'), { status: 500, body: { error: 'one or more bundles are not activated' } });
  assert.equal((await json(server, 'GET', '/health')).status, 200);

  srv.setBundle('authz', await authzBundle('r1', ['ana']));
  await eventually('first activation', async () => (await json(server, 'GET', '/health?bundles')).status === 200);
  assert.equal(await allowed(server, 'ana'), true);
  assert.equal(await allowed(server, 'bob'), false);
  assert.deepEqual((await json(server, 'GET', '/v1/data/system/bundles/authz')).body?.result.manifest, { revision: 'r1', roots: ['authz'] });

  srv.setBundle('authz', await authzBundle('r2', ['bob']));
  await eventually('decisions from r2', async () => (await allowed(server, 'bob')) === true);
  assert.equal(await allowed(server, 'ana'), false);

  // The catalogue's invalid Rego, served as the next revision: refused by the compiler, r2 keeps deciding.
  const invalid = maliciousBundles.find((b) => b.name === 'invalid Rego')!;
  srv.setBundle('authz', (await invalid.build()).bytes);
  let status: Record<string, any> = {};
  await eventually('the refusal in /v1/status', async () => {
    status = (await json(server, 'GET', '/v1/status')).body!.result.bundles.authz;
    return status.code === 'bundle_error';
  });
  assert.match(status.message, invalid.expect);
  assert.equal(status.active_revision, 'r2');
  assert.ok(status.failures >= 1 && status.activations === 2, JSON.stringify(status));
  assert.ok(Date.parse(status.last_successful_download) > 0 && Date.parse(status.last_successful_activation) > 0);
  assert.equal(await allowed(server, 'bob'), true);
  assert.equal(await allowed(server, 'ana'), false);

  const metrics = (await send(server.url, 'GET', '/metrics')).body.toString();
  assert.match(metrics, /^bundle_loaded_counter\{name="authz"\} 2$/m);
  assert.match(metrics, /^bundle_failed_load_counter\{code="bundle_error",message="[^"]+",name="authz"\} [1-9]\d*$/m);
  for (const gauge of ['last_bundle_request', 'last_success_bundle_request', 'last_success_bundle_download', 'last_success_bundle_activation']) {
    const value = new RegExp(`^${gauge}\\{(?:active_revision="r2",)?name="authz"\\} (\\S+)$`, 'm').exec(metrics)?.[1];
    assert.ok(value && Math.abs(Number(value) / 1e6 - Date.now()) < 120_000, `${gauge} is a recent nanosecond timestamp: ${value}`);
  }

  // Restart with the bundle server gone: the persisted r2 serves at once and /health?bundles is ready.
  await server.close(1000);
  await srv.close();
  const restarted = await verdict(pollingConfig(srv.url, persistDir));
  assert.equal((await json(restarted, 'GET', '/health?bundles')).status, 200);
  assert.equal(await allowed(restarted, 'bob'), true);
  assert.equal((await json(restarted, 'GET', '/v1/status')).body!.result.bundles.authz.active_revision, 'r2');
});

test('admin API: off unless configured; 401 envelope without a token; a signed JWT uploads a bundle that decides and survives a restart', async () => {
  const plain = await verdict('{}');
  assert.equal((await send(plain.url, 'GET', '/v1/bundles')).status, 404);

  const persistDir = tempDir('verdict-wiring-upload-');
  const config = `status: { console: true }\npersistence_directory: ${persistDir}\n${adminConfig}`;
  const server = await verdict(config);
  const shown = (await json(server, 'GET', '/v1/config')).body!.result.admin_api;
  assert.deepEqual(shown.auth.keys, [{}], 'admin keys (possibly HMAC secrets) are not shown by /v1/config');
  const bytes = await authzBundle('u1', ['carol']);
  assert.deepEqual(await json(server, 'PUT', '/v1/bundles/authz', bytes), { status: 401, body: { code: 'unauthorized', message: 'bearer token required' } });
  const forged = await new TestAdminIdp().token('bundles:write'); // same issuer and audience, another key
  assert.deepEqual(await json(server, 'PUT', '/v1/bundles/authz', bytes, { Authorization: `Bearer ${forged}` }), { status: 401, body: { code: 'unauthorized', message: 'bearer token invalid' } });
  assert.equal((await json(server, 'PUT', '/v1/bundles/authz', bytes, { Authorization: `Bearer ${await adminToken('bundles:read')}` })).status, 403);
  assert.equal(await allowed(server, 'carol'), undefined);

  const auth = { Authorization: `Bearer ${await adminToken()}` };
  const put = await json(server, 'PUT', '/v1/bundles/authz', bytes, { ...auth, 'Content-Type': 'application/gzip' });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body!.result.revision, 'u1');
  assert.equal(await allowed(server, 'carol'), true);
  assert.equal((await json(server, 'GET', '/v1/status')).body!.result.bundles.authz.source, 'upload');

  // Every hostile bundle of the catalogue that needs no special limits or keys, uploaded: refused with a
  // message naming the problem (the invalid Rego one by the real compiler), and decisions unchanged.
  for (const hostile of maliciousBundles) {
    const { bytes: evil, options } = await hostile.build();
    if (options.limits || options.signing) continue;
    const res = await json(server, 'PUT', '/v1/bundles/intruder', evil, auth);
    assert.equal(res.status, 400, `${hostile.name}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body!.code, 'invalid_parameter');
    assert.match(res.body!.message, hostile.expect, hostile.name);
  }
  assert.equal(await allowed(server, 'carol'), true);
  assert.equal((await json(server, 'GET', '/v1/bundles/intruder', undefined, auth)).status, 404);

  await server.close(1000);
  const restarted = await verdict(config);
  assert.equal(await allowed(restarted, 'carol'), true);
  const listed = (await json(restarted, 'GET', '/v1/bundles', undefined, auth)).body!.result;
  assert.deepEqual(listed.map((b: { name: string; source: string; revision: string }) => [b.name, b.source, b.revision]), [['authz', 'upload', 'u1']]);
  assert.equal((await json(restarted, 'DELETE', '/v1/bundles/authz', undefined, auth)).status, 204);
  assert.equal(await allowed(restarted, 'carol'), undefined);
});

test('--watch: an edit changes decisions, a broken edit keeps the old ones and is reported', async () => {
  const dir = tempDir('verdict-wiring-watch-');
  mkdirSync(join(dir, 'authz'));
  writeFileSync(join(dir, '.manifest'), JSON.stringify({ revision: 'w1', roots: ['authz'] }));
  writeFileSync(join(dir, 'authz/data.json'), JSON.stringify({ users: ['dan'] }));
  writeFileSync(join(dir, 'authz/policy.rego'), policy.data);
  const server = await verdict('status: { console: true }', { bundlePaths: [dir], watch: true });
  assert.equal((await json(server, 'GET', '/health?bundles')).status, 200);
  assert.equal(await allowed(server, 'dan'), true);

  writeFileSync(join(dir, 'authz/data.json'), JSON.stringify({ users: ['eve'] }));
  await eventually('the edit to take effect', async () => (await allowed(server, 'eve')) === true);
  assert.equal(await allowed(server, 'dan'), false);

  writeFileSync(join(dir, 'authz/policy.rego'), 'package authz\n\nallow if {{ input.user\n');
  let status: Record<string, any> = {};
  await eventually('the broken edit in /v1/status', async () => {
    status = (await json(server, 'GET', '/v1/status')).body!.result.bundles[dir];
    return status.code === 'bundle_error';
  });
  assert.match(status.message, /policy\.rego/);
  assert.equal(await allowed(server, 'eve'), true);

  writeFileSync(join(dir, 'authz/data.json'), '{"users": [');
  await eventually('the second failure', async () => (await json(server, 'GET', '/v1/status')).body!.result.bundles[dir].failures >= 2);
  assert.match((await json(server, 'GET', '/v1/status')).body!.result.bundles[dir].message, /authz\/data\.json/);
  assert.equal(await allowed(server, 'eve'), true);
});

test('verdict sign output is accepted with --verification-key; unsigned bundles, another scope or another key stop start-up', async () => {
  const dir = tempDir('verdict-wiring-sign-');
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'private.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'public.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'plain.tar.gz'), await authzBundle('s1', ['fay']));
  const signed = join(dir, 'signed.tar.gz');
  const out = spawnSync(process.execPath, ['dist/src/main.js', 'sign', '--signing-key', join(dir, 'private.pem'), '--signing-alg', 'ES256', '-o', signed, join(dir, 'plain.tar.gz')], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);

  const verification = { key: join(dir, 'public.pem'), algorithm: 'ES256' };
  const server = await verdict('{}', { bundlePaths: [signed], verification });
  assert.equal(await allowed(server, 'fay'), true);

  await assert.rejects(verdict('{}', { bundlePaths: [join(dir, 'plain.tar.gz')], verification }), /bundle missing \.signatures\.json file/);
  await assert.rejects(verdict('{}', { bundlePaths: [signed], verification: { ...verification, scope: 'production' } }), /scope mismatch/);
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await assert.rejects(verdict('{}', { bundlePaths: [signed], verification: { key: otherKey, algorithm: 'ES256' } }), /signature/i);
});

test('verdict run refuses verification flags without a key', () => {
  const noKey = spawnSync(process.execPath, ['dist/src/main.js', 'run', '--addr', '127.0.0.1:0', '--scope', 'prod', 'bundles/sample'], { encoding: 'utf8' });
  assert.equal(noKey.status, 2);
  assert.match(noKey.stderr, /--scope and --exclude-files-verify need --verification-key/);
});
