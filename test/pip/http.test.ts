import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createEnricher, PipDenyError, type Enricher } from '../../src/pip/index.js';
import { closedPortUrl, earlierRequestsOn, sendJson, startFixtureService, type FixtureService } from './fixtures/http-service.js';
import { makeTlsFixtures } from '../bundle/tls-fixtures.js';

const noCache = { ttl: 0, negative_ttl: 0 };

describe('http adapter against a loopback service', () => {
  let svc: FixtureService;
  /** The OAuth2 token endpoint: https, as OPA requires, with a test CA given to the adapter as auth.ca_cert. */
  let idp: FixtureService;
  const tls = makeTlsFixtures();
  const enrichers: Enricher[] = [];
  let tokensIssued = 0;
  const tokenRequests: { scope: string | null; audience: string | null; tenant: unknown }[] = [];

  function enricher(adapter: Record<string, unknown>, inputs: Record<string, string> = {}): Enricher {
    const e = createEnricher({ adapters: { svc: { type: 'http', cache: noCache, timeout: '5s', ...adapter } }, enrich: [{ paths: [''], adapter: 'svc', inputs }] });
    enrichers.push(e);
    return e;
  }
  const pipOf = (r: { input: unknown }) => (r.input as { pip: Record<string, unknown> }).pip;

  before(async () => {
    svc = await startFixtureService();
    idp = await startFixtureService({ key: tls.serverKey, cert: tls.serverCert });
    svc.route('GET', '/users/*', (req, res) => {
      const id = decodeURIComponent((req.url ?? '').slice('/users/'.length).split('?')[0]);
      if (id === 'ghost') return void res.writeHead(404).end();
      sendJson(res, 200, { data: { id, groups: id === 'alice' ? ['admins', 'staff'] : ['staff'] } });
    });
    svc.route('POST', '/lookup', (_req, res, body) => sendJson(res, 200, { received: JSON.parse(body) }));
    svc.route('GET', '/headers', (req, res) => sendJson(res, 200, { tenant: req.headers['x-tenant'] ?? null, authorization: req.headers.authorization ?? null }));
    idp.route('POST', '/oauth/token', (req, res, body) => {
      // As OPA (and our bundle services) send them: id and secret as they are, in HTTP Basic auth.
      const expected = `Basic ${Buffer.from('verdict:s3cr@t').toString('base64')}`;
      const form = new URLSearchParams(body);
      if (req.headers.authorization !== expected || form.get('grant_type') !== 'client_credentials') return void res.writeHead(401).end();
      tokensIssued++;
      tokenRequests.push({ scope: form.get('scope'), audience: form.get('audience'), tenant: req.headers['x-tenant'] });
      sendJson(res, 200, { access_token: `tok-${tokensIssued}`, token_type: 'Bearer', expires_in: 3600 });
    });
    svc.route('GET', '/protected', (req, res) => {
      if (!/^Bearer tok-\d+$/.test(req.headers.authorization ?? '')) return void res.writeHead(401).end();
      sendJson(res, 200, { plan: 'gold', token: req.headers.authorization });
    });
    // Revokes the first token it is shown, as a resource server does after a key rollover.
    let revoked: string | undefined;
    svc.route('GET', '/revoking', (req, res) => {
      revoked ??= req.headers.authorization;
      if (req.headers.authorization === revoked) return void res.writeHead(401).end();
      sendJson(res, 200, { token: req.headers.authorization });
    });
    svc.route('GET', '/slow', (_req, res) => void setTimeout(() => sendJson(res, 200, { late: true }), 1000));
    svc.route('GET', '/garbage', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops</html>'));
    svc.route('GET', '/broken', (_req, res) => void res.writeHead(500).end('internal'));
    svc.route('GET', '/huge', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length to trust
      const chunk = Buffer.alloc(64 * 1024, 'a');
      res.write('["');
      for (let i = 0; i < 64 && !res.destroyed; i++) {
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).once('close', r));
      }
      res.end('"]');
    });
    // Drops a reused keep-alive connection without answering, as a service does when it closes an idle one.
    let dropped = false;
    svc.route('GET', '/drops-reused', (req, res) => {
      if (!dropped && earlierRequestsOn(req) > 0) {
        dropped = true;
        return void req.socket.destroy();
      }
      sendJson(res, 200, { fresh: true });
    });
    svc.route('GET', '/huge-declared', (_req, res) => void res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) }).end());
    const errorPage = 'x'.repeat(100_000);
    svc.route('GET', '/missing-with-page', (_req, res) => void res.writeHead(404, { 'content-type': 'text/html' }).end(errorPage));
    svc.route('GET', '/broken-with-page', (_req, res) => void res.writeHead(503, { 'content-type': 'text/html' }).end(errorPage));
  });

  after(async () => {
    await Promise.all(enrichers.map((e) => e.close()));
    await svc.close();
    await idp.close();
  });

  it('fills the URL template with URL-encoded input values and picks from the JSON response', async () => {
    const e = enricher({ settings: { url: `${svc.url}/users/{user}?via=verdict`, pick: 'data.groups' } }, { user: 'input.subject.id' });
    assert.deepEqual(pipOf(await e.enrichInput('gateway/allow', { subject: { id: 'alice' } })), { svc: ['admins', 'staff'] });
    await e.enrichInput('gateway/allow', { subject: { id: 'a b/../admin?x=1#frag' } });
    assert.equal(svc.seen.at(-1)?.url, '/users/a%20b%2F..%2Fadmin%3Fx%3D1%23frag?via=verdict');
    assert.deepEqual(pipOf(await e.enrichInput('gateway/allow', { subject: { id: 'ghost' } })), { svc: null }, '404 means not found');
  });

  it('posts a JSON body template that keeps value types, with header templates and a bearer token', async () => {
    const post = enricher(
      { settings: { url: `${svc.url}/lookup`, method: 'POST', body: { user: '{user}', roles: '{roles}', note: 'for {user}' } } },
      { user: 'input.user', roles: 'input.roles' },
    );
    assert.deepEqual(pipOf(await post.enrichInput('a', { user: 'bob', roles: ['x', 'y'] })), {
      svc: { received: { user: 'bob', roles: ['x', 'y'], note: 'for bob' } },
    });
    const headers = enricher(
      { settings: { url: `${svc.url}/headers`, headers: { 'x-tenant': '{tenant}' }, auth: { type: 'bearer', token: 'static-token' } } },
      { tenant: 'input.tenant' },
    );
    assert.deepEqual(pipOf(await headers.enrichInput('a', { tenant: 'acme' })), { svc: { tenant: 'acme', authorization: 'Bearer static-token' } });
    const smuggled = await headers.enrichInput('a', { tenant: 'acme\r\nx-admin: 1' }).catch((err: PipDenyError) => err);
    assert.ok(smuggled instanceof PipDenyError);
    assert.match(smuggled.reason, /header x-tenant would contain a line break/);
  });

  it('gets an OAuth2 client-credentials token once and reuses it (the bundle services\' OAuth2 client)', async () => {
    const oauth2 = {
      type: 'oauth2', token_url: `${idp.url}/oauth/token`, ca_cert: tls.caCertPath, client_id: 'verdict', client_secret: 's3cr@t', scopes: ['pip.read', 'pip.list'],
      additional_parameters: { audience: 'accounts' }, additional_headers: { 'x-tenant': 'acme' },
    };
    const e = enricher({ settings: { url: `${svc.url}/protected`, auth: oauth2 } });
    const before = tokensIssued;
    const [a, b] = await Promise.all([e.enrichInput('a', {}), e.enrichInput('a', { other: 1 })]);
    const c = await e.enrichInput('a', {});
    for (const r of [a, b, c]) assert.deepEqual(pipOf(r).svc, { plan: 'gold', token: `Bearer tok-${before + 1}` });
    assert.equal(tokensIssued, before + 1);
    assert.deepEqual(tokenRequests.at(-1), { scope: 'pip.read pip.list', audience: 'accounts', tenant: 'acme' });
    const wrongSecret = enricher({ settings: { url: `${svc.url}/protected`, auth: { ...oauth2, client_secret: 'nope' } }, on_error: 'skip' });
    const { report } = await wrongSecret.enrichInput('a', {});
    assert.match(report.adapters[0].reason ?? '', /^unavailable: oauth2 token request to https:\/\/127\.0\.0\.1:\d+\/oauth\/token failed with HTTP 401$/);
    const downEndpoint = enricher({ settings: { url: `${svc.url}/protected`, auth: { ...oauth2, token_url: `${(await closedPortUrl()).replace('http:', 'https:')}/token` } }, on_error: 'skip' });
    assert.match((await downEndpoint.enrichInput('a', {})).report.adapters[0].reason ?? '', /^unavailable: OAuth2 token request to .* failed: .*ECONNREFUSED/);
    assert.throws(
      () => enricher({ settings: { url: `${svc.url}/protected`, auth: { ...oauth2, token_url: `${svc.url}/oauth/token` } } }),
      /pip\.adapters\.svc\.settings\.auth: token_url "http:\/\/127\.0\.0\.1:\d+\/oauth\/token" must use the https scheme/,
    );
    const untrusted = enricher({ settings: { url: `${svc.url}/protected`, auth: { ...oauth2, ca_cert: undefined } }, on_error: 'skip' });
    assert.match((await untrusted.enrichInput('a', {})).report.adapters[0].reason ?? '', /^unavailable: OAuth2 token request to .* failed: .*certificate/);
  });

  it('asks for a new OAuth2 token after the service rejected the current one with 401', async () => {
    const auth = { type: 'oauth2', token_url: `${idp.url}/oauth/token`, ca_cert: tls.caCertPath, client_id: 'verdict', client_secret: 's3cr@t' };
    const e = enricher({ settings: { url: `${svc.url}/revoking`, auth }, on_error: 'skip' });
    const before = tokensIssued;
    assert.match((await e.enrichInput('a', {})).report.adapters[0].reason ?? '', /answered 401$/);
    assert.deepEqual(pipOf(await e.enrichInput('a', {})), { svc: { token: `Bearer tok-${before + 2}` } });
    assert.equal(tokensIssued, before + 2);
  });

  describe('failure modes follow on_error and the reason lands in the report', () => {
    it('PIP down, on_error deny: the decision fails closed', async () => {
      const down = await closedPortUrl();
      const e = enricher({ settings: { url: `${down}/users/{user}` } }, { user: 'input.user' });
      const err = await e.enrichInput('gateway/allow', { user: 'alice' }).catch((x: unknown) => x);
      assert.ok(err instanceof PipDenyError);
      assert.match(err.reason, /^unavailable: GET http:\/\/127\.0\.0\.1:\d+\/users\/alice failed: ECONNREFUSED$/);
      assert.equal(err.report.denied_by, 'svc');
    });

    it('slower than the timeout, on_error skip: the key is left out', async () => {
      const e = enricher({ settings: { url: `${svc.url}/slow` }, timeout: '100ms', on_error: 'skip' });
      const { input, report } = await e.enrichInput('a', { x: 1 });
      assert.deepEqual(input, { x: 1, pip: {} });
      assert.equal(report.adapters[0].reason, 'timeout: timed out after 100 ms');
      assert.ok(report.adapters[0].latency_ms < 900, `gave up after ${report.adapters[0].latency_ms} ms`);
    });

    it('garbage, on_error default: the default value is used', async () => {
      const e = enricher({ settings: { url: `${svc.url}/garbage` }, on_error: { default: { groups: [] } } });
      const { input, report } = await e.enrichInput('a', {});
      assert.deepEqual(input, { pip: { svc: { groups: [] } } });
      assert.match(report.adapters[0].reason ?? '', /^bad_response: response of GET http:\/\/127\.0\.0\.1:\d+\/garbage is not JSON$/);
      assert.equal(report.adapters[0].on_error, 'default');
    });

    it('a huge body, streamed or declared, is cut off at the size limit', async () => {
      for (const path of ['/huge', '/huge-declared']) {
        const e = enricher({ settings: { url: `${svc.url}${path}`, max_response_bytes: 65536 }, on_error: 'skip' });
        const { report } = await e.enrichInput('a', {});
        assert.match(report.adapters[0].reason ?? '', /^too_large: .*65536-byte limit$/, path);
      }
    });

    it('an error status with a page over the size limit is still that status', async () => {
      const missing = enricher({ settings: { url: `${svc.url}/missing-with-page`, max_response_bytes: 65536 } });
      assert.deepEqual(pipOf(await missing.enrichInput('a', {})), { svc: null });
      const broken = enricher({ settings: { url: `${svc.url}/broken-with-page`, max_response_bytes: 65536 }, on_error: 'skip' });
      assert.match((await broken.enrichInput('a', {})).report.adapters[0].reason ?? '', /^bad_response: .*answered 503$/);
    });

    it('an error status is a failure, and the service and enricher stay usable afterwards', async () => {
      const e = enricher({ settings: { url: `${svc.url}/broken` }, on_error: 'skip' });
      assert.match((await e.enrichInput('a', {})).report.adapters[0].reason ?? '', /answered 500$/);
      const ok = enricher({ settings: { url: `${svc.url}/users/{u}`, pick: 'data.id' } }, { u: 'input.u' });
      assert.deepEqual(pipOf(await ok.enrichInput('a', { u: 'carol' })), { svc: 'carol' });
    });
  });

  it('asks again on a fresh connection when a reused keep-alive connection was dropped', async () => {
    const e = enricher({ settings: { url: `${svc.url}/drops-reused` } });
    const before = svc.seen.length;
    assert.deepEqual(pipOf(await e.enrichInput('a', {})), { svc: { fresh: true } });
    assert.deepEqual(pipOf(await e.enrichInput('a', {})), { svc: { fresh: true } });
    assert.equal(svc.seen.length - before, 3, 'the second lookup was dropped once, then answered');
  });

  it('refuses a URL template that is not http(s) or lets input choose the host, at start-up', () => {
    assert.throws(() => enricher({ settings: { url: 'file:///etc/{name}' } }, { name: 'input.n' }), /only http and https URLs/);
    assert.throws(() => enricher({ settings: { url: 'http://{tenant}.internal/users' } }, { tenant: 'input.t' }), /placeholders are not allowed in the scheme, host or port/);
  });
});
