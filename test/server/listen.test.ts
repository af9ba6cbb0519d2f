// Where `verdict run` listens: every --addr (TCP and unix://, the socket file owner-only unless
// --unix-socket-perm says otherwise) and --diagnostic-addr, which serves /health and /metrics and nothing else
// (compared with the real OPA's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startServer } from '../../src/server/start.js';
import { send, writeTree } from './harness.js';
import { spawnServer, waitUntil } from './processes.js';
import { freePort } from '../free-port.js';

const bundle = () => writeTree({ '.manifest': JSON.stringify({ revision: 'l-1', roots: ['app'] }), 'app/app.rego': 'package app\n\nallow if input.user == "alice"\n' });

function viaSocket(socketPath: string, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('every address is served: two TCP ports and a unix socket created owner-only', async () => {
  const socket = join(mkdtempSync(join(tmpdir(), 'verdict-sock-')), 'verdict.sock');
  const running = await startServer({ addr: ['127.0.0.1:0', '127.0.0.1:0', `unix://${socket}`], config: parseConfig('{}', 'test'), bundlePaths: [bundle()], logger: pino({ level: 'silent' }) });
  try {
    assert.equal(running.urls.length, 3);
    assert.equal(running.urls[2], `unix://${socket}`);
    for (const url of running.urls.slice(0, 2)) {
      const res = await send(url, 'POST', '/v1/data/app/allow', '{"input":{"user":"alice"}}');
      assert.equal(JSON.parse(res.body.toString()).result, true);
    }
    const res = await viaSocket(socket, 'POST', '/v1/data/app/allow', '{"input":{"user":"alice"}}');
    assert.equal(JSON.parse(res.body).result, true);
    assert.equal(statSync(socket).mode & 0o777, 0o600);
  } finally {
    await running.close();
  }
});

test('--unix-socket-perm sets the socket file mode; a file left at the path by a crash is replaced', async () => {
  const socket = join(mkdtempSync(join(tmpdir(), 'verdict-sock-')), 'verdict.sock');
  writeFileSync(socket, '');
  const running = await startServer({ addr: `unix://${socket}`, listen: { unixSocketMode: 0o660 }, config: parseConfig('{}', 'test'), bundlePaths: [bundle()], logger: pino({ level: 'silent' }) });
  try {
    assert.equal(statSync(socket).mode & 0o777, 0o660);
    assert.ok(statSync(socket).isSocket());
    assert.equal((await viaSocket(socket, 'GET', '/health')).status, 200);
  } finally {
    await running.close();
  }
});

test('--diagnostic-addr serves health and metrics only; the API stays on --addr', async () => {
  const running = await startServer({
    addr: '127.0.0.1:0',
    listen: { diagnosticAddrs: ['127.0.0.1:0', '127.0.0.1:0'] },
    config: parseConfig('{}', 'test'),
    bundlePaths: [bundle()],
    logger: pino({ level: 'silent' }),
  });
  try {
    assert.equal(running.diagnosticUrls.length, 2);
    for (const diag of running.diagnosticUrls) {
      assert.equal((await send(diag, 'GET', '/health')).body.toString(), '{}\n');
      assert.match((await send(diag, 'GET', '/metrics')).body.toString(), /http_request_duration_seconds/);
      for (const [method, path] of [['GET', '/v1/data'], ['POST', '/v1/data/app/allow'], ['PUT', '/v1/policies/x'], ['GET', '/v1/config'], ['GET', '/v1/decisions']]) {
        const res = await send(diag, method, path, method === 'GET' ? undefined : '{}');
        assert.equal(res.status, 404, `${method} ${path}`);
      }
      assert.equal((await send(diag, 'POST', '/health', '')).status, 405);
    }
    assert.equal((await send(running.url, 'GET', '/v1/data/app')).status, 200);
  } finally {
    await running.close();
  }
});

test('a port already taken stops start-up with the address named', async () => {
  const first = await startServer({ addr: '127.0.0.1:0', config: parseConfig('{}', 'test'), bundlePaths: [], logger: pino({ level: 'silent' }) });
  try {
    const taken = first.url.replace('http://', '');
    await assert.rejects(startServer({ addr: ['127.0.0.1:0', taken], config: parseConfig('{}', 'test'), bundlePaths: [], logger: pino({ level: 'silent' }) }), new RegExp(`cannot listen on ${taken}: .*EADDRINUSE`));
  } finally {
    await first.close();
  }
});

test("the diagnostic listener answers as OPA's does", async () => {
  const [port, diagPort] = await Promise.all([freePort(), freePort()]);
  const opa = spawnServer('opa', ['--addr', `127.0.0.1:${port}`, '--diagnostic-addr', `127.0.0.1:${diagPort}`, '--log-level', 'error']);
  const opaDiag = `http://127.0.0.1:${diagPort}`;
  const verdict = await startServer({ addr: '127.0.0.1:0', listen: { diagnosticAddrs: ['127.0.0.1:0'] }, config: parseConfig('{}', 'test'), bundlePaths: [], logger: pino({ level: 'silent' }) });
  try {
    await waitUntil(opa, async () => (await send(opaDiag, 'GET', '/health')).status === 200);
    for (const [method, path, body] of [['GET', '/health'], ['GET', '/v1/data'], ['GET', '/v1/policies'], ['GET', '/nope'], ['POST', '/health', ''], ['POST', '/v1/data/x', '{}'], ['HEAD', '/health']] as [string, string, string?][]) {
      const [want, got] = await Promise.all([send(opaDiag, method, path, body), send(verdict.diagnosticUrls[0], method, path, body)]);
      assert.deepEqual({ status: got.status, body: got.body.toString() }, { status: want.status, body: want.body.toString() }, `${method} ${path}`);
    }
    const [opaMetrics, verdictMetrics] = await Promise.all([send(opaDiag, 'GET', '/metrics'), send(verdict.diagnosticUrls[0], 'GET', '/metrics')]);
    assert.equal(verdictMetrics.status, opaMetrics.status);
  } finally {
    await Promise.all([opa.stop(), verdict.close()]);
  }
});
