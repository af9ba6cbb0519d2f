// The one HTTP client (src/net/http-client.ts) and pooled keep-alive connections the service closed while
// idle: a replayable request is asked again once on a fresh connection; any other request is not sent twice.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sendRequest, HttpRequestError } from '../../src/net/http-client.js';
import { closedPortUrl, earlierRequestsOn, sendJson, startFixtureService, type FixtureService } from '../pip/fixtures/http-service.js';

const tls = { rejectUnauthorized: true };

describe('sendRequest on a reused keep-alive connection that was dropped', () => {
  let svc: FixtureService;
  /** Per path but /warm/…: drop the first request that arrives on a reused connection; answer all others. */
  const dropped = new Set<string>();

  before(async () => {
    svc = await startFixtureService();
    for (const method of ['GET', 'POST']) {
      svc.route(method, '/*', (req, res) => {
        const key = `${method} ${req.url}`;
        if (!req.url?.startsWith('/warm/') && !dropped.has(key) && earlierRequestsOn(req) > 0) {
          dropped.add(key);
          return void req.socket.destroy();
        }
        sendJson(res, 200, { fresh: true });
      });
    }
  });
  after(() => svc.close());

  /** A first request opens a connection for the pool; the second one reuses it and is dropped. */
  async function secondOnSameConnection(path: string, method: 'GET' | 'POST', replayable?: boolean) {
    const opts = { method, tls, timeoutMs: 5000, maxBytes: 1024, body: method === 'POST' ? Buffer.from('{}') : undefined, replayable };
    await sendRequest(`${svc.url}/warm${path}`, opts);
    const before = svc.seen.length;
    const outcome = await sendRequest(`${svc.url}${path}`, opts).catch((err: unknown) => err);
    return { outcome, sent: svc.seen.filter((r, i) => i >= before && r.url === path).length };
  }

  it('asks a GET again once, on a fresh connection', async () => {
    const { outcome, sent } = await secondOnSameConnection('/get', 'GET');
    assert.deepEqual(JSON.parse((outcome as { body: Buffer }).body.toString()), { fresh: true });
    assert.equal(sent, 2, 'dropped once, then answered');
  });

  it('asks a POST marked replayable again once', async () => {
    const { outcome, sent } = await secondOnSameConnection('/read', 'POST', true);
    assert.deepEqual(JSON.parse((outcome as { body: Buffer }).body.toString()), { fresh: true });
    assert.equal(sent, 2);
  });

  it('does not send another POST twice: the failure is reported as a network error with its code', async () => {
    const { outcome, sent } = await secondOnSameConnection('/upload', 'POST');
    assert.ok(outcome instanceof HttpRequestError, String(outcome));
    assert.equal(outcome.failure, 'network');
    assert.equal(outcome.code, 'ECONNRESET');
    assert.equal(sent, 1);
  });

  it('names the failure of a request that was never answered (refused, oversized)', async () => {
    const refused = await sendRequest(`${await closedPortUrl()}/x`, { method: 'GET', tls, timeoutMs: 5000 }).catch((err: unknown) => err);
    assert.ok(refused instanceof HttpRequestError);
    assert.deepEqual([refused.failure, refused.code], ['network', 'ECONNREFUSED']);
    const big = await sendRequest(`${svc.url}/big`, { method: 'GET', tls, timeoutMs: 5000, maxBytes: 4 }).catch((err: unknown) => err);
    assert.ok(big instanceof HttpRequestError);
    assert.deepEqual([big.failure, big.httpCode], ['too_large', 200]);
  });
});
