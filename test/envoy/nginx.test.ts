// End to end through a real nginx: auth_request asks Verdict's HTTP callout before proxying to a
// small upstream. Allowed requests reach the upstream with the policy's header; denied ones do not.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { httpAuthzRouter } from '../../src/envoy/http-authz.js';
import { httpTestPolicy } from './http-policy.js';
import { listen } from './listen.js';
import { nginxPeer, startNginx, type RunningNginx } from './nginx.js';
import { wasmDecide } from './wasm-decide.js';

const nginx = nginxPeer();

describe('nginx auth_request in front of an upstream', { skip: nginx.skip }, () => {
  const reached: { url: string; headers: IncomingHttpHeaders }[] = [];
  let upstream: Server;
  let verdict: Server;
  let proxy: RunningNginx;
  let base: string;

  before(async () => {
    upstream = createServer((req, res) => {
      reached.push({ url: req.url ?? '', headers: req.headers });
      res.end('upstream says hi');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const app = express();
    app.use('/authz', httpAuthzRouter(await wasmDecide(httpTestPolicy, ['envoy/authz/allow'])));
    const started = await listen(app);
    verdict = started.server;
    proxy = await startNginx(nginx.found!, `${started.base}/authz`, (upstream.address() as AddressInfo).port);
    base = proxy.base;
  });

  after(async () => {
    await proxy?.stop();
    await new Promise((resolve) => verdict?.close(resolve));
    await new Promise((resolve) => upstream?.close(resolve));
  });

  test('an allowed request reaches the upstream carrying the header the policy set', async () => {
    const before = reached.length;
    const res = await fetch(`${base}/public/page?q=1`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'upstream says hi');
    assert.equal(reached.length, before + 1);
    assert.equal(reached.at(-1)!.url, '/public/page?q=1');
    assert.equal(reached.at(-1)!.headers['x-user'], 'alice');
  });

  test('a denied request gets 403 and never reaches the upstream', async () => {
    const before = reached.length;
    const res = await fetch(`${base}/admin/delete-everything`);
    assert.equal(res.status, 403);
    assert.equal(reached.length, before);
  });

  test('the original method counts: POST to a GET-only path is denied', async () => {
    const before = reached.length;
    const res = await fetch(`${base}/public/page`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 403);
    assert.equal(reached.length, before);
  });

  test('a 401 from the policy reaches the client as 401', async () => {
    const res = await fetch(`${base}/login-required`);
    assert.equal(res.status, 401);
  });
});
