import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { SignJWT } from 'jose';
import { adminJwtAuth } from '../../src/auth/admin-jwt.js';
import { bundleAdminRouter } from '../../src/bundle/admin-api.js';
import { BundleManager, type ManagedBundle } from '../../src/bundle/manager.js';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { TestBundleServer } from './bundle-server.js';

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const auth = { keys: [{ key: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() }], issuer: 'idp', audience: 'verdict' };
const token = (scope = 'bundles:write bundles:read') =>
  new SignJWT({ scope }).setProtectedHeader({ alg: 'ES256' }).setIssuer('idp').setAudience('verdict').setExpirationTime('5m').sign(keys.privateKey);

function parse(name: string, files: BundleFile[]): ManagedBundle {
  const manifest = JSON.parse(files.find((f) => f.path === '.manifest')?.data.toString() ?? '{"revision":"","roots":[""]}');
  return { name, manifest, data: {} };
}

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
});

async function setup() {
  const srv = await TestBundleServer.start();
  srv.setBundle('authz', await writeBundleArchive([{ path: '.manifest', data: Buffer.from('{"revision":"d1","roots":["authz"]}') }]));
  let active: ManagedBundle[] = [];
  const manager = new BundleManager({
    parse,
    activate: async (bundles) => {
      active = bundles;
    },
    services: { acme: { url: srv.url } },
    bundles: { authz: { service: 'acme', trigger: 'manual' } },
  });
  await manager.start();
  const app = express();
  app.use(bundleAdminRouter(manager, { guard: adminJwtAuth(auth) }));
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(async () => {
    await manager.stop();
    await new Promise((r) => server.close(r));
    await srv.close();
  });
  return { url, active: () => active };
}

async function call(url: string, method: string, path: string, opts: { body?: Buffer; token?: string } = {}) {
  const res = await fetch(url + path, {
    method,
    body: opts.body ? new Uint8Array(opts.body) : undefined,
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), 'content-type': 'application/gzip' },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

test('admin bundle API: upload, list, get, trigger, delete, with OPA envelopes', async () => {
  const { url, active } = await setup();
  const t = await token();
  const bundle = await writeBundleArchive([{ path: '.manifest', data: Buffer.from('{"revision":"u1","roots":["team"]}') }]);
  const put = await call(url, 'PUT', '/v1/bundles/team', { body: bundle, token: t });
  assert.equal(put.status, 200);
  assert.equal(put.body.result.revision, 'u1');
  assert.equal(put.body.result.source, 'upload');
  assert.deepEqual(active().map((b) => b.name), ['team']);

  const trig = await call(url, 'POST', '/v1/bundles/authz/trigger', { token: t });
  assert.equal(trig.status, 200);
  assert.equal(trig.body.result.revision, 'd1');
  assert.ok(trig.body.result.download.last_successful_download);

  const list = await call(url, 'GET', '/v1/bundles', { token: t });
  assert.deepEqual(list.body.result.map((b: { name: string; source: string }) => [b.name, b.source]), [['authz', 'download'], ['team', 'upload']]);
  assert.equal((await call(url, 'GET', '/v1/bundles/team', { token: t })).body.result.activations, 1);
  assert.deepEqual(await call(url, 'GET', '/v1/bundles/nope', { token: t }), { status: 404, body: { code: 'resource_not_found', message: 'bundle nope not found' } });

  assert.equal((await call(url, 'DELETE', '/v1/bundles/team', { token: t })).status, 204);
  assert.deepEqual(active().map((b) => b.name), ['authz']);
  const conflict = await call(url, 'DELETE', '/v1/bundles/authz', { token: t });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.code, 'resource_conflict');
});

test('admin bundle API: a hostile upload is a 400 naming the problem; no token 401; wrong scope 403', async () => {
  const { url, active } = await setup();
  const evil = await writeBundleArchive([{ path: '.manifest', data: Buffer.from('{"revision":"x"}') }]);
  const tampered = Buffer.concat([evil.subarray(0, 20), Buffer.alloc(10)]);
  const res = await call(url, 'PUT', '/v1/bundles/evil', { body: tampered, token: await token() });
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'invalid_parameter');
  assert.match(res.body.message, /not valid gzip/);
  assert.equal((await call(url, 'PUT', '/v1/bundles/evil', { body: tampered, token: await token() })).status, 400);
  assert.equal((await call(url, 'PUT', '/v1/bundles/empty', { token: await token() })).status, 400);
  const anonymous = await call(url, 'PUT', '/v1/bundles/evil', { body: evil });
  assert.deepEqual(anonymous, { status: 401, body: { code: 'unauthorized', message: 'bearer token required' } });
  const reader = await call(url, 'PUT', '/v1/bundles/evil', { body: evil, token: await token('bundles:read') });
  assert.deepEqual(reader, { status: 403, body: { code: 'unauthorized', message: 'bearer token lacks the required scope: bundles:write' } });
  assert.equal((await call(url, 'GET', '/v1/bundles', { token: await token('bundles:read') })).status, 200);
  for (const [method, path] of [['GET', '/v1/bundles'], ['GET', '/v1/bundles/authz']]) {
    assert.equal((await call(url, method, path, { token: await token('bundles:write') })).status, 403, `${method} ${path} needs bundles:read`);
  }
  for (const [method, path] of [['DELETE', '/v1/bundles/authz'], ['POST', '/v1/bundles/authz/trigger']]) {
    assert.equal((await call(url, method, path, { token: await token('bundles:read decisions:read') })).status, 403, `${method} ${path} needs bundles:write`);
  }
  assert.equal((await call(url, 'GET', '/v1/bundles')).status, 401);
  assert.deepEqual(active(), []);
});
