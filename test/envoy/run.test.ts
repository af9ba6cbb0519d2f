// Envoy ext_authz, the HTTP callouts and the gateway data callouts through the real server: the example
// policies in rego/ served as one bundle, the gRPC plugin and /v1/authz enabled by configuration, every
// callout recorded by the decision hook. First in-process (startServer, to see the hook), then as a
// `verdict run` process behind a real nginx, stopped with SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { DecisionEvent } from '../../src/server/context.js';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { send, startVerdict, writeTree } from '../server/harness.js';
import { ExtAuthzClient, httpCheckRequest } from './client.js';
import { nginxPeer, startNginx, type RunningNginx } from './nginx.js';
import { waitForPort } from './peer.js';
import { freePort } from '../free-port.js';

const bundle = writeTree({
  'envoy/authz.rego': readFileSync('rego/envoy/authz.rego', 'utf8'),
  'kong/authz.rego': readFileSync('rego/kong/authz.rego', 'utf8'),
  'apisix/authz.rego': readFileSync('rego/apisix/authz.rego', 'utf8'),
});

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const bearer = (claims: Record<string, unknown>) => `Bearer ${b64url({ alg: 'none' })}.${b64url(claims)}.sig`;
const alice = bearer({ sub: 'alice', roles: ['reader'] });

const configText = (grpcPort: number) => `
plugins:
  envoy_ext_authz_grpc:
    addr: 127.0.0.1:${grpcPort}
  envoy_ext_authz_http:
`;

const metadataId = (response: Record<string, unknown> | undefined) =>
  ((response?.dynamicMetadata as { fields: Record<string, { stringValue?: string }> }).fields.decision_id).stringValue;

// Resolves once nothing listens on the port any more.
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

describe('Envoy and gateway callouts through startServer, recorded by the decision hook', () => {
  const events: DecisionEvent[] = [];
  let running: RunningServer;
  let client: ExtAuthzClient;
  let grpcPort: number;
  const lastEvent = () => events.at(-1)!;

  before(async () => {
    grpcPort = await freePort();
    running = await startVerdict(configText(grpcPort), [bundle], (e) => events.push(e));
    client = new ExtAuthzClient(`127.0.0.1:${grpcPort}`);
  });
  after(async () => {
    client?.close();
    await running?.close();
  });

  test('gRPC Check allowed: upstream headers, and the event has the path, the full input and the result', async () => {
    const before = events.length;
    const { response } = await client.check(httpCheckRequest({ path: '/api/orders?page=2', headers: { authorization: alice } }));
    assert.deepEqual(response?.status, {});
    const ok = response?.okResponse as { headers: unknown[]; headersToRemove: string[] };
    assert.deepEqual(ok.headers, [{ header: { key: 'x-user', value: 'alice' } }]);
    assert.deepEqual(ok.headersToRemove, ['authorization']);
    assert.equal(events.length, before + 1);
    const event = lastEvent();
    assert.equal(event.path, 'envoy/authz/allow');
    assert.equal(event.decision_id, metadataId(response));
    const input = event.input as { attributes: { request: { http: { path: string; headers: Record<string, string> } } }; parsed_path: string[]; parsed_query: unknown; version: unknown };
    assert.equal(input.attributes.request.http.path, '/api/orders?page=2');
    assert.equal(input.attributes.request.http.headers.authorization, alice);
    assert.deepEqual(input.parsed_path, ['api', 'orders']);
    assert.deepEqual(input.parsed_query, { page: ['2'] });
    assert.deepEqual(input.version, { ext_authz: 'v3', encoding: 'protojson' });
    assert.deepEqual(event.result, { allowed: true, headers: { 'x-user': 'alice' }, request_headers_to_remove: ['authorization'] });
    assert.ok(bundle in (event.bundles ?? {}), 'the event names the active bundle');
    assert.equal(typeof event.req_id, 'number', 'the Check is numbered like an HTTP request (OPA\'s req_id)');
  });

  test('gRPC Check denied: PERMISSION_DENIED with the policy status, recorded', async () => {
    const { response } = await client.check(httpCheckRequest({ method: 'DELETE', path: '/api/orders/7', headers: { authorization: alice } }));
    assert.deepEqual(response?.status, { code: 7 });
    assert.deepEqual((response?.deniedResponse as { status: unknown }).status, { code: 403 });
    assert.deepEqual(lastEvent().result, { allowed: false, http_status: 403, body: 'forbidden' });
    assert.equal(lastEvent().decision_id, metadataId(response));
    assert.equal(lastEvent().req_id, events.at(-2)!.req_id! + 1, 'each Check has the next number');
  });

  test('gRPC Check whose path does not parse: 400 denial, recorded with the raw request and the error', async () => {
    const before = events.length;
    const { response } = await client.check(httpCheckRequest({ path: '/api/%zz', headers: { authorization: alice } }));
    assert.deepEqual((response?.deniedResponse as { status: unknown }).status, { code: 400 });
    assert.equal(events.length, before + 1);
    const event = lastEvent();
    assert.equal(event.path, 'envoy/authz/allow');
    assert.deepEqual(event.error, { code: 'request_parse_error', message: 'invalid URL escape "%zz"' });
    assert.equal((event.input as { attributes: { request: { http: { path: string } } } }).attributes.request.http.path, '/api/%zz');
    assert.equal('result' in event, false);
    assert.equal(event.req_id, events.at(-2)!.req_id! + 1);
  });

  test('gRPC health is SERVING and /health?plugins counts the plugin', async () => {
    assert.deepEqual(await client.healthCheck(), { status: 1 });
    assert.equal((await send(running.url, 'GET', '/health?plugins')).status, 200);
    assert.deepEqual(running.ctx.plugins(), { envoy_ext_authz_grpc: { state: 'OK' } });
  });

  test('HTTP callout at /v1/authz (Envoy http_service, path_prefix /v1/authz): allowed with the header, recorded', async () => {
    const res = await send(running.url, 'GET', '/v1/authz/api/orders?page=2', undefined, { authorization: alice, 'x-forwarded-proto': 'https' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-user'], 'alice');
    const event = lastEvent();
    assert.equal(res.headers['x-decision-id'], event.decision_id);
    const http = (event.input as { attributes: { request: { http: { path: string; method: string; scheme: string } } } }).attributes.request.http;
    assert.deepEqual([http.method, http.path, http.scheme], ['GET', '/api/orders?page=2', 'https']);
    assert.equal(typeof event.req_id, 'number', 'the callout\'s request number (OPA\'s req_id)');
  });

  test('HTTP callout for nginx (X-Original-*): no token is 401 with the challenge', async () => {
    const res = await send(running.url, 'GET', '/v1/authz', undefined, { 'x-original-uri': '/api/orders', 'x-original-method': 'GET' });
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    assert.equal(res.body.toString(), 'authentication required');
    assert.equal(lastEvent().path, 'envoy/authz/allow');
  });

  test('HTTP callout passes the original method through, HEAD included (OPA answers 405 to HEAD elsewhere)', async () => {
    const res = await send(running.url, 'HEAD', '/v1/authz/api/orders', undefined, { authorization: alice });
    assert.equal(res.status, 403);
    assert.equal((lastEvent().input as { attributes: { request: { http: { method: string } } } }).attributes.request.http.method, 'HEAD');
    assert.equal((await send(running.url, 'HEAD', '/v1/data')).status, 405);
  });

  test('HTTP callout whose path does not parse: 400 naming the error, recorded', async () => {
    const res = await send(running.url, 'GET', '/v1/authz', undefined, { 'x-original-uri': '/api/%zz', authorization: alice });
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body.toString()), { code: 'request_parse_error', message: 'invalid URL escape "%zz"' });
    assert.equal(res.headers['x-decision-id'], lastEvent().decision_id);
    assert.equal(typeof lastEvent().req_id, 'number');
    assert.equal(lastEvent().error?.code, 'request_parse_error');
  });

  test('HTTP callouts are counted under their own handler in /metrics', async () => {
    const metrics = (await send(running.url, 'GET', '/metrics')).body.toString();
    assert.match(metrics, /http_request_duration_seconds_count\{code="200",handler="v1\/authz",method="get"\} [1-9]/);
    assert.match(metrics, /http_request_duration_seconds_count\{code="401",handler="v1\/authz",method="get"\} [1-9]/);
  });

  test("Kong's OPA plugin: POST /v1/data/kong/authz/decision with Kong's input, recorded", async () => {
    const input = {
      request: { http: { method: 'GET', scheme: 'http', host: 'api.example.com', port: 8000, path: '/orders', headers: { host: 'api.example.com' }, querystring: { page: '2' } } },
      client_ip: '203.0.113.5',
      consumer: { id: 'c-1', username: 'bob' },
    };
    const res = await send(running.url, 'POST', '/v1/data/kong/authz/decision', JSON.stringify({ input }));
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body.toString());
    assert.deepEqual(body.result, { allow: true, headers: { 'X-Authz-User': 'bob' } });
    assert.equal(lastEvent().path, 'kong/authz/decision');
    assert.deepEqual(lastEvent().input, input);
    assert.equal(lastEvent().decision_id, body.decision_id);
    const denied = JSON.parse((await send(running.url, 'POST', '/v1/data/kong/authz/decision', JSON.stringify({ input: { ...input, consumer: undefined } }))).body.toString());
    assert.equal(denied.result.status, 401);
  });

  test("APISIX's opa plugin: POST /v1/data/apisix/authz/decision with APISIX's input, recorded", async () => {
    const input = {
      type: 'http',
      request: { scheme: 'http', path: '/orders/1', method: 'POST', host: 'api.example.com', port: 9080, headers: { authorization: 'Bearer abc' }, query: {} },
      var: { server_addr: '127.0.0.1', server_port: '9080', remote_addr: '203.0.113.5', remote_port: '40000', timestamp: 1764000000 },
    };
    const res = await send(running.url, 'POST', '/v1/data/apisix/authz/decision', JSON.stringify({ input }));
    const body = JSON.parse(res.body.toString());
    assert.deepEqual(body.result, { allow: false, status_code: 403, reason: { message: 'read only', method: 'POST' } });
    assert.equal(lastEvent().path, 'apisix/authz/decision');
    assert.deepEqual(lastEvent().input, input);
  });

  test('close() stops the gRPC server with the HTTP server', async () => {
    client.close();
    await running.close();
    assert.equal(await refused(grpcPort), true);
    assert.deepEqual(running.ctx.plugins(), { envoy_ext_authz_grpc: { state: 'NOT_READY' } });
  });
});

test('gRPC health is NOT_SERVING until every bundle plugin has activated its bundle', async () => {
  // A bundle source whose first download has not arrived yet (the bundle plugins report it like this).
  let state: 'NOT_READY' | 'OK' = 'NOT_READY';
  const source = { name: 'bundle', kind: 'bundle' as const, start: async () => {}, stop: async () => {}, status: () => ({ state }) };
  const grpcPort = await freePort();
  const running = await startServer({ addr: '127.0.0.1:0', config: parseConfig(configText(grpcPort), 'test'), bundlePaths: [], logger: pino({ level: 'silent' }), plugins: [source] });
  const client = new ExtAuthzClient(`127.0.0.1:${grpcPort}`);
  try {
    assert.deepEqual(await client.healthCheck(), { status: 2 });
    state = 'OK';
    assert.deepEqual(await client.healthCheck(), { status: 1 });
  } finally {
    client.close();
    await running.close();
  }
});

const nginx = nginxPeer();

// With --workers 2 both threads serve the gRPC port and the HTTP port.
for (const workers of ['1', '2']) describe(`verdict run --workers ${workers} with the Envoy plugins, behind nginx, stopped with SIGTERM`, () => {
  const reached: { url: string; headers: IncomingHttpHeaders }[] = [];
  let upstream: Server;
  let child: ChildProcess;
  let proxy: RunningNginx | undefined;
  let url: string;
  let grpcPort: number;
  let log = '';

  before(async () => {
    upstream = createServer((req, res) => {
      reached.push({ url: req.url ?? '', headers: req.headers });
      res.end('upstream says hi');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const [httpPort, port] = [await freePort(), await freePort()];
    grpcPort = port;
    const dir = writeTree({ 'config.yaml': configText(grpcPort) });
    child = spawn(process.execPath, ['dist/src/main.js', 'run', '--addr', `127.0.0.1:${httpPort}`, '--log-format', 'text', '--workers', workers, '--config-file', `${dir}/config.yaml`, '-b', bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    url = `http://127.0.0.1:${httpPort}`;
    await waitForPort(httpPort, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${log}`);
    });
    await waitForPort(grpcPort);
    // The main thread binds both ports before the server threads start: serving once /health says every thread is.
    for (let tries = 0; (await fetch(`${url}/health`).then((r) => r.status, () => 0)) !== 200; tries++) {
      if (tries > 600) throw new Error(`not healthy: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (nginx.found) proxy = await startNginx(nginx.found, `${url}/v1/authz`, (upstream.address() as AddressInfo).port);
  });
  after(async () => {
    await proxy?.stop();
    if (child?.exitCode === null) child.kill('SIGKILL');
    await new Promise((resolve) => upstream?.close(resolve));
  });

  test('a Check over gRPC is answered by the bundle policy', async () => {
    const client = new ExtAuthzClient(`127.0.0.1:${grpcPort}`);
    try {
      const allowed = await client.check(httpCheckRequest({ path: '/api/orders', headers: { authorization: alice } }));
      assert.deepEqual(allowed.response?.status, {});
      const denied = await client.check(httpCheckRequest({ path: '/api/orders' }));
      assert.deepEqual(denied.response?.status, { code: 7 });
      assert.deepEqual((denied.response?.deniedResponse as { status: unknown }).status, { code: 401 });
    } finally {
      client.close();
    }
  });

  test('nginx auth_request: allowed requests reach the upstream with the policy header, denied ones do not', { skip: nginx.skip }, async () => {
    const before = reached.length;
    const ok = await fetch(`${proxy!.base}/api/orders?page=2`, { headers: { authorization: alice } });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'upstream says hi');
    assert.equal(reached.length, before + 1);
    assert.equal(reached.at(-1)!.url, '/api/orders?page=2');
    assert.equal(reached.at(-1)!.headers['x-user'], 'alice');
    assert.equal((await fetch(`${proxy!.base}/api/orders`)).status, 401);
    assert.equal((await fetch(`${proxy!.base}/api/orders`, { method: 'DELETE', headers: { authorization: alice } })).status, 403);
    assert.equal(reached.length, before + 1, 'denied requests never reach the upstream');
  });

  test('SIGTERM stops the gRPC server and the process exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(await refused(grpcPort), true);
    assert.match(log, /Starting gRPC server\./);
    assert.match(log, /gRPC server stopped\./);
    assert.match(log, /Server shutdown\./);
  });
});

test('a bad Envoy plugin setting stops verdict run with the key named', () => {
  const dir = writeTree({ 'a.yaml': 'plugins:\n  envoy_ext_authz_grpc:\n    adr: ":9191"\n', 'b.yaml': 'plugins:\n  envoy_ext_authz_grpc:\n    query: data.envoy.authz.allow\n' });
  const a = spawnSync(process.execPath, ['dist/src/main.js', 'run', '--config-file', `${dir}/a.yaml`], { encoding: 'utf8' });
  assert.equal(a.status, 2);
  assert.match(a.stderr, /at \/plugins\/envoy_ext_authz_grpc: unknown key "adr"/);
  const b = spawnSync(process.execPath, ['dist/src/main.js', 'run', '--config-file', `${dir}/b.yaml`], { encoding: 'utf8' });
  assert.equal(b.status, 2);
  assert.match(b.stderr, /plugins\.envoy_ext_authz_grpc\.query is not supported by Verdict \(use "path"\)/);
});
