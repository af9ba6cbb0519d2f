// verdict.http_send.max_response_bytes, which OPA does not have (so no differential test can pin it): a body
// over the limit, whether its length is declared up front or only seen while streaming, fails the request with
// an error naming the setting, not as a network failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpSendClient } from '../../src/builtins/http-send/client.js';
import { HttpSendError, parseRequest } from '../../src/builtins/http-send/request.js';

async function origin(t: { after: (fn: () => unknown) => void }) {
  const server = createServer((req, res) => {
    const body = 'x'.repeat(Number(req.url?.slice(1)));
    // /declared/… sends a Content-Length; the others stream the body in chunks without one.
    if (req.url?.startsWith('/declared/')) return void res.writeHead(200, { 'content-length': 2000 }).end('x'.repeat(2000));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(body.slice(0, body.length / 2));
    res.end(body.slice(body.length / 2));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a body over max_response_bytes is an error naming the setting, declared or streamed', async (t) => {
  const { base, host } = await origin(t);
  const client = new HttpSendClient({ maxResponseBytes: 1000 });
  const expected = { code: 'eval_http_send_internal_error', message: `eval_builtin_error: http.send: response body from ${host} is over the 1000-byte limit (http_send.max_response_bytes)` };
  for (const path of ['/declared/2000', '/2000']) {
    const answer = await client.send(parseRequest({ method: 'GET', url: base + path, raise_error: false }));
    assert.deepEqual(answer, { status_code: 0, error: expected }, path);
  }
  await assert.rejects(client.send(parseRequest({ method: 'GET', url: `${base}/2000` })), (err: unknown) => err instanceof HttpSendError && err.opaMessage === expected.message);
  const within = await client.send(parseRequest({ method: 'GET', url: `${base}/1000` }));
  assert.equal(within.raw_body, 'x'.repeat(1000), 'a body of exactly the limit is answered');
});
