// Service credentials other than AWS signing: OAuth2 (https only; client secret, JWT client assertions,
// ready-made assertions, the jwt_bearer grant) and cloud metadata tokens (gcp_metadata, azure_managed_identity),
// each checked against what a real token endpoint or metadata server receives, and the reference OPA's requests
// compared where its endpoints can be moved to loopback.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { BundleDownloader } from '../../src/bundle/download.js';
import { ServiceClient, type ServiceConfig } from '../../src/bundle/service.js';
import { BundleManager } from '../../src/bundle/manager.js';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import type { OAuth2Config } from '../../src/bundle/oauth2.js';
import { TestBundleServer } from './bundle-server.js';
import { makeTlsFixtures } from './tls-fixtures.js';
import { tempDir } from './temp-dir.js';
import { startOpa, startVerdict } from '../server/harness.js';
import { decideOnceLoaded } from './decide.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const file = (path: string, body: string): BundleFile => ({ path, data: Buffer.from(body) });
const bundle = () =>
  writeBundleArchive([
    file('.manifest', JSON.stringify({ revision: 'r1', roots: ['authz'] })),
    file('authz/policy.rego', 'package authz\n\ndefault allow := false\n\nallow if input.user == "alice"\n'),
  ]);
const tls = makeTlsFixtures();
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

async function tokenServer(requireBearer: 'issued' | string = 'issued') {
  const srv = await TestBundleServer.start({
    tls: { key: tls.serverKey, cert: tls.serverCert },
    bundleContentType: true,
    requireBearer,
    oauth2: { clientId: 'verdict', clientSecret: 'pw', publicKey: rsa.publicKey },
  });
  srv.setBundle('authz', await bundle());
  cleanups.push(() => srv.close());
  return srv;
}

async function pull(service: Partial<ServiceConfig> & { url: string }, keys = {}) {
  const client = new ServiceClient({ name: 'idp', tls: { ca_cert: tls.caCertPath }, ...service }, { keys });
  return (await new BundleDownloader('authz', { service: 'idp', trigger: 'manual' }, client, async () => undefined).trigger()).lastError;
}

const keys = { client_key: { private_key: privatePem, algorithm: 'RS256' } };

test('OAuth2 token_url must be https: refused when the service is set up, naming the service, even for a service no bundle uses', () => {
  const oauth2 = { token_url: 'http://127.0.0.1:9/token', client_id: 'verdict', client_secret: 'pw' };
  assert.throws(() => new ServiceClient({ name: 'acme', url: 'https://127.0.0.1:9', credentials: { oauth2 } }), /service acme: credentials.oauth2: token_url "http:\/\/127.0.0.1:9\/token" must use the https scheme/);
  // An unused service is checked too, so a typo never waits for the first download.
  assert.throws(
    () => new BundleManager({ parse: () => { throw new Error('unused'); }, activate: async () => undefined, services: { unused: { url: 'https://x', credentials: { oauth2 } } } }),
    /service unused: credentials.oauth2: token_url .* must use the https scheme/,
  );
});

test('OAuth2 settings OPA refuses are refused at set-up with the reason', () => {
  const make = (oauth2: Partial<OAuth2Config>) => () => new ServiceClient({ name: 'idp', url: 'https://x', credentials: { oauth2: { token_url: 'https://x/token', ...oauth2 } as OAuth2Config } }, { keys });
  assert.throws(make({ client_id: 'a' }), /one of client_secret, signing_key, client_assertion or client_assertion_path is required/);
  assert.throws(make({ client_id: 'a', client_secret: 'b', signing_key: 'client_key' }), /only one of .* not client_secret and signing_key/);
  assert.throws(make({ client_secret: 'b' }), /client_id is required with client_secret/);
  assert.throws(make({ grant_type: 'jwt_bearer' }), /signing_key is required for grant_type jwt_bearer/);
  assert.throws(make({ grant_type: 'jwt_bearer', signing_key: 'nope' }), /signing_key "nope" refers to no entry of keys/);
  assert.throws(make({ grant_type: 'password' as 'jwt_bearer' }), /grant_type must be either client_credentials or jwt_bearer/);
});

test('OAuth2 client secret over https: Basic auth to the token endpoint, the token sent as bearer', async () => {
  const srv = await tokenServer();
  assert.equal(await pull({ url: srv.url, credentials: { oauth2: { token_url: `${srv.url}/token`, client_id: 'verdict', client_secret: 'pw' } } }), undefined);
  assert.equal(srv.issuedTokens.at(-1)!.grant, 'client_credentials');
  assert.match(await pull({ url: srv.url, credentials: { oauth2: { token_url: `${srv.url}/token`, client_id: 'verdict', client_secret: 'bad' } } }) ?? '', /HTTP 401/);
});

test('OAuth2 jwt_bearer grant: a JWT signed with keys.<signing_key>, with OPA claims, additional claims and a jti', async () => {
  const srv = await tokenServer();
  const oauth2: OAuth2Config = {
    grant_type: 'jwt_bearer', token_url: `${srv.url}/token`, signing_key: 'client_key', scopes: ['read', 'write'],
    additional_claims: { iss: 'verdict', aud: srv.url, sub: 'pdp-1' }, include_jti_claim: true, thumbprint: 'a1b2c3',
  };
  assert.equal(await pull({ url: srv.url, credentials: { oauth2 } }, keys), undefined);
  const issued = srv.issuedTokens.at(-1)!;
  assert.equal(issued.grant, 'urn:ietf:params:oauth:grant-type:jwt-bearer');
  const { claims, header } = issued.assertion!;
  assert.deepEqual(header, { typ: 'JWT', alg: 'RS256', x5t: 'obLD' });
  assert.deepEqual([claims.iss, claims.aud, claims.sub, claims.scope], ['verdict', srv.url, 'pdp-1', 'read write']);
  assert.equal(claims.exp! - claims.iat!, 600);
  assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
  assert.equal(issued.form.scope, 'read write');
  // A JWT signed with another key is refused by the endpoint and the download fails.
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  assert.match(await pull({ url: srv.url, credentials: { oauth2 } }, { client_key: { private_key: other, algorithm: 'ES256' } }) ?? '', /HTTP 401/);
});

test('OAuth2 client credentials with a signed client assertion, or a ready-made one from a file', async () => {
  const srv = await tokenServer();
  assert.equal(await pull({ url: srv.url, credentials: { oauth2: { token_url: `${srv.url}/token`, client_id: 'verdict', signing_key: 'client_key' } } }, keys), undefined);
  const signed = srv.issuedTokens.at(-1)!;
  assert.deepEqual([signed.grant, signed.form.client_id, signed.form.client_assertion_type], ['client_credentials', 'verdict', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer']);
  const { SignJWT } = await import('jose');
  const ready = await new SignJWT({ sub: 'verdict' }).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
  const path = join(tempDir('verdict-assertion-'), 'assertion.jwt');
  writeFileSync(path, `${ready}\n`);
  assert.equal(await pull({ url: srv.url, credentials: { oauth2: { token_url: `${srv.url}/token`, client_id: 'verdict', client_assertion_path: path } } }), undefined);
  assert.equal(srv.issuedTokens.at(-1)!.form.client_assertion, ready);
});

test('jwt_bearer and signed client assertions: the reference OPA and Verdict send the same token requests', async () => {
  // OPA's token client trusts the system CAs only; SSL_CERT_FILE gives it the test CA.
  process.env.SSL_CERT_FILE = tls.caCertPath;
  const keyYaml = `keys:\n  client_key:\n    algorithm: RS256\n    private_key: ${JSON.stringify(privatePem)}\n`;
  for (const oauth2 of [
    'grant_type: jwt_bearer\n        signing_key: client_key\n        scopes: [read]\n        include_jti_claim: true\n        additional_claims: { iss: verdict, sub: pdp }',
    'client_id: verdict\n        signing_key: client_key\n        additional_claims: { aud: idp }',
  ]) {
    const srv = await tokenServer();
    const config = `services:\n  idp:\n    url: ${srv.url}\n    tls: { ca_cert: ${tls.caCertPath} }\n    credentials:\n      oauth2:\n        token_url: ${srv.url}/token\n        ${oauth2}\nbundles:\n  authz:\n    service: idp\n${keyYaml}`;
    const configFile = join(tempDir('verdict-jwt-opa-'), 'config.yaml');
    writeFileSync(configFile, config);
    const opa = await startOpa(configFile, []);
    const verdict = await startVerdict(config, []);
    try {
      for (const user of ['alice', 'bob']) assert.deepEqual(await decideOnceLoaded(verdict.url, user), await decideOnceLoaded(opa.url, user));
      const [fromOpa, fromVerdict] = srv.issuedTokens;
      const shape = (t: NonNullable<typeof fromOpa>) => ({
        form: Object.keys(t.form).sort(),
        grant: t.grant,
        clientAssertionType: t.form.client_assertion_type,
        scope: t.form.scope,
        header: t.assertion!.header,
        claims: Object.keys(t.assertion!.claims).sort(),
        custom: [t.assertion!.claims.iss, t.assertion!.claims.sub, t.assertion!.claims.aud, t.assertion!.claims.scope],
        lifetime: t.assertion!.claims.exp! - t.assertion!.claims.iat!,
      });
      assert.ok(fromOpa && fromVerdict, 'both asked the token endpoint');
      assert.deepEqual(shape(fromVerdict), shape(fromOpa));
    } finally {
      await opa.stop();
      await verdict.close(1000);
    }
  }
});

/** A loopback metadata server that answers with a token and records each request. */
async function metadataServer(answer: (req: IncomingMessage) => { status: number; body: string }) {
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }> = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const { status, body } = answer(req);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

test('gcp_metadata: an access token for scopes or an identity token for an audience, with Metadata-Flavor', async () => {
  const meta = await metadataServer((req) => {
    if (req.headers['metadata-flavor'] !== 'Google') return { status: 403, body: '{}' };
    return req.url!.includes('/identity?') ? { status: 200, body: 'id-token-for-verdict' } : { status: 200, body: JSON.stringify({ access_token: 'gcp-access', token_type: 'Bearer', expires_in: 3599 }) };
  });
  const srv = await tokenServer('gcp-access');
  assert.equal(await pull({ url: srv.url, credentials: { gcp_metadata: { endpoint: meta.url, scopes: ['a', 'b'] } } }), undefined);
  assert.equal(meta.seen.at(-1)!.url, '/computeMetadata/v1/instance/service-accounts/default/token?scopes=a,b');
  const idSrv = await tokenServer('id-token-for-verdict');
  assert.equal(await pull({ url: idSrv.url, credentials: { gcp_metadata: { endpoint: meta.url, audience: 'https://bundles.example' } } }), undefined);
  assert.equal(meta.seen.at(-1)!.url, '/computeMetadata/v1/instance/service-accounts/default/identity?audience=https://bundles.example');
  assert.throws(() => new ServiceClient({ name: 'g', url: 'https://x', credentials: { gcp_metadata: {} } }), /service g: credentials.gcp_metadata: gcp_metadata needs audience or scopes/);
  assert.throws(() => new ServiceClient({ name: 'g', url: 'https://x', credentials: { gcp_metadata: { audience: 'a', scopes: ['s'] } } }), /audience or scopes, not both/);
});

test('a metadata answer that is not JSON is refused, naming the endpoint', async () => {
  let body = '<html>maintenance</html>';
  const meta = await metadataServer(() => ({ status: 200, body }));
  const srv = await tokenServer('never-issued');
  const gcp = { url: srv.url, credentials: { gcp_metadata: { endpoint: meta.url, scopes: ['a'] } } };
  assert.match((await pull(gcp))!, new RegExp(`GCP metadata answer from ${meta.url}/computeMetadata/v1/instance/service-accounts/default/token\\?scopes=a is not JSON`));
  assert.match((await pull({ url: srv.url, credentials: { azure_managed_identity: { endpoint: `${meta.url}/token` } } }))!, new RegExp(`Azure managed identity answer from ${meta.url}/token \\(HTTP 200\\) is not JSON`));
  body = 'null';
  assert.match((await pull(gcp))!, /GCP metadata answer from .* is not JSON/);
  body = '{}';
  assert.match((await pull(gcp))!, /GCP metadata answer from .* has no access_token/);
});

test('azure_managed_identity: IMDS with Metadata: true, App Service with IDENTITY_ENDPOINT and IDENTITY_HEADER', async () => {
  const meta = await metadataServer((req) =>
    req.headers.metadata === 'true' || req.headers['x-identity-header'] === 'app-secret'
      ? { status: 200, body: JSON.stringify({ access_token: 'azure-access', token_type: 'Bearer', expires_in: '3599' }) }
      : { status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: 'no header' }) });
  const srv = await tokenServer('azure-access');
  assert.equal(await pull({ url: srv.url, credentials: { azure_managed_identity: { endpoint: `${meta.url}/metadata/identity/oauth2/token`, client_id: 'c1' } } }), undefined);
  assert.equal(meta.seen.at(-1)!.url, '/metadata/identity/oauth2/token?api-version=2018-02-01&client_id=c1&resource=https%3A%2F%2Fstorage.azure.com%2F');
  const client = new ServiceClient({ name: 'az', url: srv.url, tls: { ca_cert: tls.caCertPath }, credentials: { azure_managed_identity: {} } }, { env: { IDENTITY_ENDPOINT: `${meta.url}/msi/token`, IDENTITY_HEADER: 'app-secret' } });
  assert.equal((await new BundleDownloader('authz', { service: 'az', trigger: 'manual' }, client, async () => undefined).trigger()).lastError, undefined);
  assert.match(meta.seen.at(-1)!.url, /^\/msi\/token\?api-version=2019-08-01&resource=/);
  const wrong = new ServiceClient({ name: 'az', url: srv.url, tls: { ca_cert: tls.caCertPath }, credentials: { azure_managed_identity: {} } }, { env: { IDENTITY_ENDPOINT: `${meta.url}/msi/token`, IDENTITY_HEADER: 'guess' } });
  assert.match((await new BundleDownloader('authz', { service: 'az', trigger: 'manual' }, wrong, async () => undefined).trigger()).lastError!, /answered HTTP 400 invalid_request: no header/);
});

test('the reference OPA and Verdict send the same metadata requests and bearer tokens, and decide alike', async () => {
  const meta = await metadataServer((req) =>
    req.url!.startsWith('/computeMetadata')
      ? { status: 200, body: JSON.stringify({ access_token: 'gcp-access', token_type: 'Bearer', expires_in: 3599 }) }
      : { status: 200, body: JSON.stringify({ access_token: 'azure-access', token_type: 'Bearer' }) });
  for (const [kind, token, credentials] of [
    ['gcp', 'gcp-access', `gcp_metadata:\n        endpoint: ${meta.url}\n        scopes: [x, y]`],
    ['azure', 'azure-access', `azure_managed_identity:\n        endpoint: ${meta.url}/metadata/identity/oauth2/token\n        object_id: o1`],
  ] as const) {
    const srv = await TestBundleServer.start({ requireBearer: token, bundleContentType: true });
    cleanups.push(() => srv.close());
    srv.setBundle('authz', await bundle());
    const config = `services:\n  cloud:\n    url: ${srv.url}\n    credentials:\n      ${credentials}\nbundles:\n  authz:\n    service: cloud\n`;
    const configFile = join(tempDir(`verdict-${kind}-`), 'config.yaml');
    writeFileSync(configFile, config);
    const from = meta.seen.length;
    const opa = await startOpa(configFile, []);
    const opaRequests = await until(() => meta.seen.slice(from));
    const verdict = await startVerdict(config, []);
    try {
      const verdictRequests = await until(() => meta.seen.slice(from + opaRequests.length));
      const shape = (r: (typeof meta.seen)[number]) => ({ method: r.method, url: r.url, flavor: r.headers['metadata-flavor'], metadata: r.headers.metadata });
      assert.deepEqual(verdictRequests.slice(0, 1).map(shape), opaRequests.slice(0, 1).map(shape), kind);
      for (const who of ['alice', 'bob']) {
        const [a, b] = await Promise.all([decideOnceLoaded(opa.url, who), decideOnceLoaded(verdict.url, who)]);
        assert.deepEqual(b, a, `${kind}: ${who}`);
      }
      assert.ok(srv.requests.filter((r) => r.path === '/bundles/authz').every((r) => r.headers.authorization === `Bearer ${token}`));
    } finally {
      await opa.stop();
      await verdict.close(1000);
    }
  }
});

async function until<T>(get: () => T[]): Promise<T[]> {
  for (let i = 0; i < 200; i++) {
    const got = get();
    if (got.length > 0) return got;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no request arrived');
}

test('verdict run stops with exit 2 and names the service when a credential setting is refused', () => {
  const dir = tempDir('verdict-refused-');
  const run = (credentials: string) => {
    writeFileSync(join(dir, 'c.yaml'), `services:\n  logs:\n    url: https://collector.example\n    credentials:\n${credentials}`);
    return spawnSync(process.execPath, ['dist/src/main.js', 'run', '--server', '--addr', '127.0.0.1:0', '--config-file', join(dir, 'c.yaml')], { encoding: 'utf8', timeout: 20_000 });
  };
  const http = run('      oauth2:\n        token_url: http://idp.example/token\n        client_id: a\n        client_secret: b\n');
  assert.equal(http.status, 2);
  assert.match(http.stderr, /service logs: credentials.oauth2: token_url "http:\/\/idp.example\/token" must use the https scheme/);
  assert.doesNotMatch(http.stderr + http.stdout, /client_secret: b|"b"/);
  const plugin = run('      plugin: my_go_plugin\n');
  assert.equal(plugin.status, 2);
  assert.match(plugin.stderr, /services\.logs\.credentials\.plugin: custom plugins are Go code compiled into OPA/);
});
