// The Envoy gRPC address as the primary of `verdict run` binds it for its threads (shared-listeners.ts): a host
// name with several addresses is bound on each, on one port, as grpc-js binds it, and the threads serve them all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnvoyGrpcConfig } from '../../src/envoy/config.js';
import type { Decide } from '../../src/engine/engine.js';
import { EnvoyExtAuthzGrpcServer } from '../../src/envoy/grpc-server.js';
import { SharedListeners } from '../../src/server/cluster/shared-listeners.js';
import { ExtAuthzClient, httpCheckRequest } from './client.js';

const allowGet: Decide = async (_path, input) => ({ result: (input as { attributes: { request: { http: { method: string } } } }).attributes.request.http.method === 'GET' });

// grpc-js given a host name binds every address it resolves to, on one port; the threads of `verdict run` serve
// the descriptors the primary binds (shared-listeners.ts), so it binds them the same way.
test('an addr naming a host with several addresses is served on each of them, as grpc-js binds it', async () => {
  const addr = 'envoy-grpc.test:0';
  const resolve = async (host: string) => (host === 'envoy-grpc.test' ? ['127.0.0.1', '::1'] : []);
  const listeners = await SharedListeners.bind([addr], false, { everyAddress: new Set([addr]), resolve });
  assert.deepEqual(listeners.unbound, []);
  const [fds] = await listeners.forThreads(1);
  assert.equal(fds[addr]!.length, 2);
  const port = listeners.port(addr)!;
  const server = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: `localhost:${port}` }), allowGet, { listenOn: fds[addr]!.map((fd) => ({ fd })) });
  await server.start();
  const clients = [new ExtAuthzClient(`127.0.0.1:${port}`), new ExtAuthzClient(`[::1]:${port}`)];
  try {
    for (const client of clients) assert.deepEqual((await client.check(httpCheckRequest({ method: 'GET', path: '/' }))).response?.status, {});
  } finally {
    for (const client of clients) client.close();
    await server.stop(0);
  }
});

test('an address of the host that cannot be bound is reported while the others serve; none bound is an error', async () => {
  const addr = 'envoy-grpc.test:0';
  // 192.0.2.1 (TEST-NET-1) is no address of this machine.
  const partly = await SharedListeners.bind([addr], false, { everyAddress: new Set([addr]), resolve: async () => ['192.0.2.1', '127.0.0.1'] });
  assert.equal(partly.unbound.length, 1);
  assert.match(partly.unbound[0]!, /^cannot listen on envoy-grpc\.test:0 \(192\.0\.2\.1:0\): /);
  assert.equal((await partly.forThreads(1))[0]![addr]!.length, 1);
  await assert.rejects(
    SharedListeners.bind([addr], false, { everyAddress: new Set([addr]), resolve: async () => ['192.0.2.1'] }),
    /cannot listen on envoy-grpc\.test:0 \(192\.0\.2\.1:0\)/,
  );
  await assert.rejects(
    SharedListeners.bind([addr], false, { everyAddress: new Set([addr]), resolve: async () => { throw new Error('getaddrinfo ENOTFOUND envoy-grpc.test'); } }),
    /cannot listen on envoy-grpc\.test:0: getaddrinfo ENOTFOUND/,
  );
});
