// The one HTTP client: redirects followed by Go's client rules (credentials left behind when the host changes)
// with every hop admitted first, one deadline over the whole exchange that says at which stage it passed, and the
// status line's reason phrase with repeated headers kept apart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sendRequest, HttpRequestError } from '../../src/net/http-client.js';
import { startFixtureService, type FixtureService } from '../pip/fixtures/http-service.js';
import { makeTlsFixtures } from '../bundle/tls-fixtures.js';

const tls = { rejectUnauthorized: true };

describe('sendRequest', () => {
  let svc: FixtureService;

  before(async () => {
    svc = await startFixtureService();
    for (const method of ['GET', 'POST', 'HEAD']) {
      svc.route(method, '/echo', (req, res, body) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, body })));
      for (const status of [301, 303, 307]) svc.route(method, `/moved-${status}`, (_req, res) => void res.writeHead(status, { location: '/echo' }).end('moved'));
    }
    svc.route('GET', '/loop/*', (req, res) => void res.writeHead(302, { location: `/loop/${Number(req.url?.split('/')[2]) + 1}` }).end());
    svc.route('GET', '/slow-body', (_req, res) => {
      res.writeHead(200, { 'content-length': '10' }).write('12345');
    });
    svc.route('GET', '/teapot', (_req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.writeHead(418, 'Short And Stout').end();
    });
  });
  after(() => svc.close());

  const echoed = async (path: string, method: string, maxRedirects: number) => {
    const res = await sendRequest(`${svc.url}${path}`, { method, body: method === 'POST' ? 'payload' : undefined, tls, maxRedirects });
    return [res.status, method === 'HEAD' ? '' : JSON.parse(res.body.toString())];
  };

  it('follows redirects unless told not to: 301/303 become a GET without body, a HEAD stays one, 307 is sent again as it was', async () => {
    const unfollowed = await sendRequest(`${svc.url}/moved-301`, { method: 'POST', body: 'payload', tls, maxRedirects: 0 });
    assert.deepEqual([unfollowed.status, unfollowed.headers.location, unfollowed.body.toString()], [301, '/echo', 'moved']);
    const byDefault = await sendRequest(`${svc.url}/moved-301`, { method: 'POST', body: 'payload', tls });
    assert.deepEqual([byDefault.status, JSON.parse(byDefault.body.toString())], [200, { method: 'GET', body: '' }]);
    assert.deepEqual(await echoed('/moved-301', 'POST', 10), [200, { method: 'GET', body: '' }]);
    assert.deepEqual(await echoed('/moved-303', 'POST', 10), [200, { method: 'GET', body: '' }]);
    assert.deepEqual(await echoed('/moved-307', 'POST', 10), [200, { method: 'POST', body: 'payload' }]);
    assert.deepEqual(await echoed('/moved-301', 'HEAD', 10), [200, '']);
    assert.equal(svc.seen.filter((r) => r.url === '/echo' && r.method === 'HEAD').length, 1);
  });

  it('stops after maxRedirects, naming the Location it refused, and admits every hop before sending it', async () => {
    const looped = await sendRequest(`${svc.url}/loop/0`, { method: 'GET', tls, maxRedirects: 3 }).catch((err: unknown) => err);
    assert.ok(looped instanceof HttpRequestError);
    assert.deepEqual([looped.failure, looped.httpCode, looped.url], ['redirects', 302, '/loop/3']);
    const admitted: string[] = [];
    const refused = await sendRequest(`${svc.url}/loop/0`, {
      method: 'GET',
      tls,
      maxRedirects: 10,
      admit: (url) => {
        admitted.push(url.pathname);
        if (url.pathname === '/loop/2') throw new Error('not this one');
      },
    }).catch((err: unknown) => err);
    assert.equal((refused as Error).message, 'not this one');
    assert.deepEqual(admitted, ['/loop/0', '/loop/1', '/loop/2']);
    assert.equal(svc.seen.filter((r) => r.url === '/loop/2').length, 1, 'the refused hop was not sent (the one request is the first run)');
  });

  it('one deadline covers the whole exchange and says whether it passed before or after the headers', async () => {
    const late = await sendRequest(`${svc.url}/slow-body`, { method: 'GET', tls, deadlineMs: 200 }).catch((err: unknown) => err);
    assert.ok(late instanceof HttpRequestError);
    assert.deepEqual([late.failure, late.httpCode, late.url], ['timeout', 200, `${svc.url}/slow-body`]);
  });

  it('returns the reason phrase and repeated headers as sent', async () => {
    const res = await sendRequest(`${svc.url}/teapot`, { method: 'GET', tls });
    assert.deepEqual([res.status, res.statusMessage, res.headersDistinct['set-cookie']], [418, 'Short And Stout', ['a=1', 'b=2']]);
  });

  it('stops after 10 redirects by default, as Go\'s client does', async () => {
    const before = svc.seen.length;
    const looped = await sendRequest(`${svc.url}/loop/0`, { method: 'GET', tls }).catch((err: unknown) => err);
    assert.ok(looped instanceof HttpRequestError);
    assert.deepEqual([looped.failure, looped.url, svc.seen.length - before], ['redirects', '/loop/10', 10]);
  });
});

describe('sendRequest across hosts', () => {
  let origin: FixtureService;
  let other: FixtureService;
  /** The other service under another name for the same loopback address: another host. */
  let otherHost: string;

  before(async () => {
    [origin, other] = await Promise.all([startFixtureService(), startFixtureService()]);
    otherHost = other.url.replace('127.0.0.1', 'localhost');
    const port = (url: string) => new URL(url).port;
    origin.route('POST', '/to-other-host', (_req, res) => void res.writeHead(302, { location: `${otherHost}/landing` }).end());
    origin.route('PUT', '/to-other-port', (_req, res) => void res.writeHead(307, { location: `http://127.0.0.1:${port(other.url)}/landing` }).end());
    origin.route('GET', '/there-and-back', (_req, res) => void res.writeHead(302, { location: `${otherHost}/back` }).end());
    other.route('GET', '/back', (_req, res) => void res.writeHead(302, { location: `${origin.url}/landing` }).end());
    for (const svc of [origin, other]) for (const method of ['GET', 'PUT']) svc.route(method, '/landing', (_req, res) => void res.writeHead(200).end('landed'));
  });
  after(() => Promise.all([origin.close(), other.close()]));

  const credentials = { Authorization: 'Bearer s3cret', cookie: 'session=1', 'X-Amz-Security-Token': 'session-token', 'x-key': 'plain' };
  const landed = (svc: FixtureService) => svc.seen.filter((r) => r.url === '/landing').at(-1)!.headers;

  it('leaves credentials and the dropped body\'s headers behind on another host, keeps the rest and names the referrer', async () => {
    const res = await sendRequest(`${origin.url}/to-other-host`, { method: 'POST', headers: { ...credentials, 'content-type': 'application/json' }, body: '{}', tls });
    assert.equal(res.body.toString(), 'landed');
    const h = landed(other);
    assert.deepEqual([h.authorization, h.cookie, h['x-amz-security-token'], h['content-type'], h['content-length']], [undefined, undefined, undefined, undefined, undefined]);
    assert.deepEqual([h['x-key'], h.referer], ['plain', `${origin.url}/to-other-host`]);
  });

  it('keeps credentials on the same host name at another port, as Go does, and resends a 307 body', async () => {
    await sendRequest(`${origin.url}/to-other-port`, { method: 'PUT', headers: credentials, body: 'payload', tls });
    const seen = other.seen.filter((r) => r.url === '/landing').at(-1)!;
    assert.deepEqual([seen.method, seen.body, seen.headers.authorization, seen.headers.cookie], ['PUT', 'payload', 'Bearer s3cret', 'session=1']);
  });

  it('does not give credentials back once they were left behind, even when redirected to the first host again', async () => {
    await sendRequest(`${origin.url}/there-and-back`, { method: 'GET', headers: credentials, tls });
    const h = landed(origin);
    assert.deepEqual([h.authorization, h.cookie, h['x-key']], [undefined, undefined, 'plain']);
  });

  it('leaves credentials and the Referer behind when a redirect leaves https for http, even on the same host', async () => {
    const pki = makeTlsFixtures();
    const secure = await startFixtureService({ key: pki.serverKey, cert: pki.serverCert });
    try {
      secure.route('GET', '/downgrade', (_req, res) => void res.writeHead(302, { location: `${origin.url}/landing` }).end());
      await sendRequest(`${secure.url}/downgrade`, { method: 'GET', headers: credentials, tls: { rejectUnauthorized: true, ca: pki.caCert } });
      const h = landed(origin);
      assert.deepEqual([h.authorization, h.cookie, h.referer, h['x-key']], [undefined, undefined, undefined, 'plain']);
    } finally {
      await secure.close();
    }
  });
});
