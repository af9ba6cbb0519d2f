// The ext_authz gRPC server serving on a listening socket it is handed by descriptor (a server thread's copy of
// the shared port) instead of binding its addr: checks and health answered, TLS and mutual TLS as on a bound
// port, and a check in flight when it stops still answered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { parseEnvoyGrpcConfig } from '../../src/envoy/config.js';
import type { Decide } from '../../src/engine/engine.js';
import { EnvoyExtAuthzGrpcServer } from '../../src/envoy/grpc-server.js';
import { ExtAuthzClient, httpCheckRequest } from './client.js';
import { makeCerts } from '../server/certs.js';
import { listeningFd } from '../listening-fd.js';

const certs = makeCerts();
const allowGet: Decide = async (_path, input) => ({ result: (input as { attributes: { request: { http: { method: string } } } }).attributes.request.http.method === 'GET' });

// addr names the very port the descriptor is bound to: binding it again would fail, so an answer proves the
// server served the descriptor.
async function startOnFd(config: Record<string, unknown> = {}, decide: Decide = allowGet) {
  const socket = await listeningFd();
  const server = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: `127.0.0.1:${socket.port}`, ...config }), decide, { listenOn: [{ fd: socket.fd }] });
  await server.start();
  return { server, socket };
}

test('checks and health are answered on a descriptor, and the port is reported', async () => {
  const { server, socket } = await startOnFd();
  const client = new ExtAuthzClient(`127.0.0.1:${socket.port}`);
  try {
    assert.equal(server.port, socket.port);
    assert.deepEqual((await client.check(httpCheckRequest({ method: 'GET', path: '/' }))).response?.status, {});
    assert.deepEqual((await client.check(httpCheckRequest({ method: 'POST', path: '/' }))).response?.status, { code: 7 });
    assert.deepEqual(await client.healthCheck(), { status: 1 });
  } finally {
    client.close();
    await server.stop(0);
  }
});

test('several descriptors are all served; a bad one fails start naming it and leaves nothing accepting', async () => {
  const [a, b] = [await listeningFd(), await listeningFd()];
  const server = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: `127.0.0.1:${a.port}` }), allowGet, { listenOn: [{ fd: a.fd }, { fd: b.fd }] });
  await server.start();
  const clients = [new ExtAuthzClient(`127.0.0.1:${a.port}`), new ExtAuthzClient(`127.0.0.1:${b.port}`)];
  try {
    for (const client of clients) assert.deepEqual((await client.check(httpCheckRequest({ method: 'GET', path: '/' }))).response?.status, {});
  } finally {
    for (const client of clients) client.close();
    await server.stop(0);
  }
  const c = await listeningFd();
  const failing = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({}), allowGet, { listenOn: [{ fd: c.fd }, { fd: 987_654 }] });
  await assert.rejects(failing.start(), /envoy_ext_authz_grpc: cannot listen on descriptor 987654/);
  const late = new ExtAuthzClient(`127.0.0.1:${c.port}`);
  try {
    assert.ok((await late.check(httpCheckRequest({ method: 'GET', path: '/' }), 1000)).error, 'the first descriptor no longer served');
  } finally {
    late.close();
  }
});

test('without a descriptor, addr is bound as before: the same port cannot be bound twice', async () => {
  const { server, socket } = await startOnFd();
  try {
    const second = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: `127.0.0.1:${socket.port}` }), allowGet);
    await assert.rejects(second.start(), new RegExp(`envoy_ext_authz_grpc: cannot listen on 127\\.0\\.0\\.1:${socket.port}`));
  } finally {
    await server.stop(0);
  }
});

test('TLS on a descriptor: the handshake is done with the configured certificate; plaintext is refused', async () => {
  const { server, socket } = await startOnFd({ 'tls-cert-file': certs.serverA.cert, 'tls-private-key-file': certs.serverA.key });
  const secure = new ExtAuthzClient(`127.0.0.1:${socket.port}`, grpc.credentials.createSsl(readFileSync(certs.ca)));
  const plain = new ExtAuthzClient(`127.0.0.1:${socket.port}`);
  try {
    assert.deepEqual((await secure.check(httpCheckRequest({ method: 'GET', path: '/' }))).response?.status, {});
    assert.ok((await plain.check(httpCheckRequest({ method: 'GET', path: '/' }), 1500)).error);
  } finally {
    secure.close();
    plain.close();
    await server.stop(0);
  }
});

test('mutual TLS on a descriptor: a client certificate signed by tls-ca-cert-file is required', async () => {
  const { server, socket } = await startOnFd({ 'tls-cert-file': certs.serverA.cert, 'tls-private-key-file': certs.serverA.key, 'tls-ca-cert-file': certs.ca });
  const withCert = new ExtAuthzClient(`127.0.0.1:${socket.port}`, grpc.credentials.createSsl(readFileSync(certs.ca), readFileSync(certs.client.key), readFileSync(certs.client.cert)));
  const without = new ExtAuthzClient(`127.0.0.1:${socket.port}`, grpc.credentials.createSsl(readFileSync(certs.ca)));
  try {
    assert.deepEqual((await withCert.check(httpCheckRequest({ method: 'GET', path: '/' }))).response?.status, {});
    assert.ok((await without.check(httpCheckRequest({ method: 'GET', path: '/' }), 1500)).error);
  } finally {
    withCert.close();
    without.close();
    await server.stop(0);
  }
});

test('a check in flight when the server stops is answered within the grace period', async () => {
  let started!: () => void;
  const decisionStarted = new Promise<void>((resolve) => (started = resolve));
  const slow: Decide = async () => {
    started();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { result: true };
  };
  const { server, socket } = await startOnFd({}, slow);
  const client = new ExtAuthzClient(`127.0.0.1:${socket.port}`);
  try {
    const pending = client.check(httpCheckRequest({ method: 'GET', path: '/' }));
    await decisionStarted;
    await server.stop(5000);
    assert.deepEqual((await pending).response?.status, {});
  } finally {
    client.close();
  }
});
