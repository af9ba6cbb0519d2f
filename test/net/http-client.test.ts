// The one HTTP client's options that http.send needs and the services do not: redirects followed by Go's client
// rules with every hop admitted first, one deadline over the whole exchange that says at which stage it passed,
// and the status line's reason phrase with repeated headers kept apart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sendRequest, ServiceError } from '../../src/net/http-client.js';
import { startFixtureService, type FixtureService } from '../pip/fixtures/http-service.js';

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

  it('follows redirects only when asked: 301/303 become a GET without body, a HEAD stays one, 307 is sent again as it was', async () => {
    const unfollowed = await sendRequest(`${svc.url}/moved-301`, { method: 'POST', body: 'payload', tls });
    assert.deepEqual([unfollowed.status, unfollowed.headers.location, unfollowed.body.toString()], [301, '/echo', 'moved']);
    assert.deepEqual(await echoed('/moved-301', 'POST', 10), [200, { method: 'GET', body: '' }]);
    assert.deepEqual(await echoed('/moved-303', 'POST', 10), [200, { method: 'GET', body: '' }]);
    assert.deepEqual(await echoed('/moved-307', 'POST', 10), [200, { method: 'POST', body: 'payload' }]);
    assert.deepEqual(await echoed('/moved-301', 'HEAD', 10), [200, '']);
    assert.equal(svc.seen.filter((r) => r.url === '/echo' && r.method === 'HEAD').length, 1);
  });

  it('stops after maxRedirects, naming the Location it refused, and admits every hop before sending it', async () => {
    const looped = await sendRequest(`${svc.url}/loop/0`, { method: 'GET', tls, maxRedirects: 3 }).catch((err: unknown) => err);
    assert.ok(looped instanceof ServiceError);
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
    assert.ok(late instanceof ServiceError);
    assert.deepEqual([late.failure, late.httpCode, late.url], ['timeout', 200, `${svc.url}/slow-body`]);
  });

  it('returns the reason phrase and repeated headers as sent', async () => {
    const res = await sendRequest(`${svc.url}/teapot`, { method: 'GET', tls });
    assert.deepEqual([res.status, res.statusMessage, res.headersDistinct['set-cookie']], [418, 'Short And Stout', ['a=1', 'b=2']]);
  });
});
