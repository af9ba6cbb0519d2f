import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { SignJWT, exportJWK, type JWTPayload } from 'jose';
import { adminJwtAuth, type AdminAuthConfig } from '../../src/auth/admin-jwt.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const issuer = 'https://idp.example';
const audience = 'verdict-admin';

const servers: Server[] = [];
after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** GET /v1/bundles needs bundles:write here, GET /v1/decisions decisions:read. */
async function adminApp(config: AdminAuthConfig): Promise<string> {
  const app = express();
  const guard = adminJwtAuth(config);
  app.get('/v1/bundles', guard('bundles:write'), (_req, res) => {
    res.json({ result: [], sub: (res.locals.adminToken as JWTPayload).sub });
  });
  app.get('/v1/decisions', guard('decisions:read'), (_req, res) => {
    res.json({ result: [] });
  });
  return listen(app);
}

async function token(claims: JWTPayload, opts: { key?: KeyObject | Uint8Array; alg?: string; kid?: string; exp?: string | number } = {}) {
  const jwt = new SignJWT({ scope: 'bundles:write', iss: issuer, aud: audience, sub: 'ops-bot', ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', ...(opts.kid ? { kid: opts.kid } : {}) })
    .setIssuedAt();
  if (opts.exp !== undefined) jwt.setExpirationTime(opts.exp);
  else jwt.setExpirationTime('5m');
  return jwt.sign(opts.key ?? rsa.privateKey);
}

async function call(url: string, authorization?: string, path = '/v1/bundles') {
  const res = await fetch(url + path, { headers: authorization ? { authorization } : {} });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string; sub?: string }, www: res.headers.get('www-authenticate') };
}

const staticConfig: AdminAuthConfig = { keys: [{ key: publicPem }], issuer, audience };

test('a valid token passes and its claims reach the handler', async () => {
  const url = await adminApp(staticConfig);
  const res = await call(url, `Bearer ${await token({})}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.sub, 'ops-bot');
});

test('missing, expired, wrong audience, wrong issuer, tampered and not-yet-valid tokens get 401 without details', async () => {
  const url = await adminApp(staticConfig);
  const cases: Array<[string, string | undefined, RegExp]> = [
    ['no header', undefined, /bearer token required/],
    ['basic auth', 'Basic b3BzOnB3', /bearer token required/],
    ['expired', `Bearer ${await token({}, { exp: Math.floor(Date.now() / 1000) - 120 })}`, /bearer token expired/],
    ['wrong audience', `Bearer ${await token({ aud: 'someone-else' })}`, /bearer token invalid/],
    ['wrong issuer', `Bearer ${await token({ iss: 'https://evil.example' })}`, /bearer token invalid/],
    ['not yet valid', `Bearer ${await token({ nbf: Math.floor(Date.now() / 1000) + 3600 })}`, /bearer token invalid/],
    ['signed by another key', `Bearer ${await token({}, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey })}`, /bearer token invalid/],
    ['garbage', 'Bearer not.a.jwt', /bearer token invalid/],
  ];
  const good = await token({});
  const [h, p] = good.split('.');
  const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'root' })).toString('base64url');
  cases.push(['tampered payload', `Bearer ${h}.${forgedPayload}.${good.split('.')[2]}`, /bearer token invalid/]);
  for (const [name, header, message] of cases) {
    const res = await call(url, header);
    assert.equal(res.status, 401, name);
    assert.equal(res.body.code, 'unauthorized', name);
    assert.match(res.body.message!, message, name);
    assert.doesNotMatch(res.body.message!, /signature|key|audience|issuer/i, `${name} leaks why`);
    assert.match(res.www!, /^Bearer/, name);
  }
});

test('alg "none" and HS256 keyed with the RSA public key are refused', async () => {
  const url = await adminApp(staticConfig);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const claims = { iss: issuer, aud: audience, sub: 'x', scope: 'bundles:write', exp: Math.floor(Date.now() / 1000) + 300 };
  const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
  assert.equal((await call(url, `Bearer ${none}`)).status, 401);
  const confused = await token({}, { alg: 'HS256', key: new TextEncoder().encode(publicPem) });
  const res = await call(url, `Bearer ${confused}`);
  assert.equal(res.status, 401);
  assert.match(res.body.message!, /bearer token invalid/);
});

test('each action needs its own scope: a decisions reader is refused a bundles:write route, and the reverse', async () => {
  const url = await adminApp(staticConfig);
  const reader = `Bearer ${await token({ scope: 'decisions:read' })}`;
  const writer = `Bearer ${await token({ scope: 'bundles:write' })}`;
  const refused = await call(url, reader);
  assert.equal(refused.status, 403);
  assert.deepEqual(refused.body, { code: 'unauthorized', message: 'bearer token lacks the required scope: bundles:write' });
  assert.equal((await call(url, reader, '/v1/decisions')).status, 200);
  assert.equal((await call(url, writer)).status, 200);
  const writerReading = await call(url, writer, '/v1/decisions');
  assert.equal(writerReading.status, 403);
  assert.equal(writerReading.body.message, 'bearer token lacks the required scope: decisions:read');
  // A scope is a whole word of the claim, not a prefix or a substring.
  assert.equal((await call(url, `Bearer ${await token({ scope: 'bundles:writer decisions' })}`)).status, 403);
  assert.equal((await call(url, `Bearer ${await token({ scope: 'admin bundles:write' })}`)).status, 200);
});

test('admin_api.auth.scopes names the scope an identity provider issues for an action', async () => {
  const url = await adminApp({ ...staticConfig, scopes: { 'bundles:write': 'api://verdict/Bundles.Write' } });
  assert.equal((await call(url, `Bearer ${await token({ scope: 'api://verdict/Bundles.Write' })}`)).status, 200);
  const oldName = await call(url, `Bearer ${await token({ scope: 'bundles:write' })}`);
  assert.equal(oldName.status, 403);
  assert.equal(oldName.body.message, 'bearer token lacks the required scope: api://verdict/Bundles.Write');
  // Actions left out keep their own names.
  assert.equal((await call(url, `Bearer ${await token({ scope: 'decisions:read' })}`, '/v1/decisions')).status, 200);
});

test('the old single required_scopes list is refused at start-up with how to migrate', () => {
  assert.throws(
    () => adminJwtAuth({ ...staticConfig, required_scopes: ['verdict-admin'] }),
    /required_scopes is no longer supported: each admin action now needs its own scope \(bundles:read, bundles:write, decisions:read, decisions:write\).*admin_api\.auth\.scopes/,
  );
  assert.throws(() => adminJwtAuth({ ...staticConfig, required_scopes: [] }), /required_scopes is no longer supported/);
  assert.throws(() => adminJwtAuth({ ...staticConfig, scopes: { 'bundles:delete': 'x' } as never }), /unknown action "bundles:delete"; actions are bundles:read, bundles:write, decisions:read, decisions:write/);
  assert.throws(() => adminJwtAuth({ ...staticConfig, scopes: { 'bundles:read': 'a b' } }), /must be one scope name/);
});

test('a valid token without the required scope or role gets 403', async () => {
  const url = await adminApp({ ...staticConfig, required_roles: ['bundle-admin'], role_claim: 'realm_access.roles' });
  const noScope = await call(url, `Bearer ${await token({ scope: 'decisions:read', realm_access: { roles: ['bundle-admin'] } })}`);
  assert.equal(noScope.status, 403);
  assert.deepEqual(noScope.body, { code: 'unauthorized', message: 'bearer token lacks the required scope: bundles:write' });
  assert.match(noScope.www!, /insufficient_scope/);
  const noRole = await call(url, `Bearer ${await token({ realm_access: { roles: ['viewer'] } })}`);
  assert.equal(noRole.status, 403);
  assert.match(noRole.body.message!, /lacks a required role \(one of: bundle-admin\)/);
  const scp = await call(url, `Bearer ${await token({ scope: undefined, scp: ['bundles:write'], realm_access: { roles: ['bundle-admin'] } })}`);
  assert.equal(scp.status, 200);
});

test('JWKS URL: keys fetched once and cached, refetched when a new key id appears', async () => {
  let fetches = 0;
  const keys = [{ ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256' }];
  const jwksUrl = await listen((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  const url = await adminApp({ jwks_url: jwksUrl, jwks_min_refresh_seconds: 0, issuer, audience });
  for (let i = 0; i < 3; i++) assert.equal((await call(url, `Bearer ${await token({}, { kid: 'k1' })}`)).status, 200);
  assert.equal(fetches, 1);
  keys.push({ ...(await exportJWK(ec.publicKey)), kid: 'k2', alg: 'ES256' });
  assert.equal((await call(url, `Bearer ${await token({}, { kid: 'k2', alg: 'ES256', key: ec.privateKey })}`)).status, 200);
  assert.equal(fetches, 2);
  assert.equal((await call(url, `Bearer ${await token({}, { kid: 'k3' })}`)).status, 401);
});

test('static HMAC secrets work when their algorithm is configured', async () => {
  const url = await adminApp({ keys: [{ key: 'a-long-shared-admin-secret-0123456789', algorithm: 'HS256' }], issuer, audience });
  const ok = await token({}, { alg: 'HS256', key: new TextEncoder().encode('a-long-shared-admin-secret-0123456789') });
  assert.equal((await call(url, `Bearer ${ok}`)).status, 200);
  const wrong = await token({}, { alg: 'HS256', key: new TextEncoder().encode('another-secret-of-enough-length-000000') });
  assert.equal((await call(url, `Bearer ${wrong}`)).status, 401);
});

test('configuration mistakes fail at start-up', () => {
  assert.throws(() => adminJwtAuth({ issuer, audience }), /jwks_url or keys/);
  assert.throws(() => adminJwtAuth({ keys: [{ key: 'nonsense' }], issuer, audience }), /admin auth key 0 is not a usable/);
  const privateJwk = JSON.stringify(rsa.privateKey.export({ format: 'jwk' }));
  assert.throws(() => adminJwtAuth({ keys: [{ key: privateJwk }], issuer, audience }), /private key; configure the public key/);
  // A secret that only looks like JSON is not quoted back in the start-up error.
  assert.throws(() => adminJwtAuth({ keys: [{ key: '{hmac-s3cr3t-value' }], issuer, audience }), (e: Error) => /is not valid JSON/.test(e.message) && !e.message.includes('s3cr3t'));
});
