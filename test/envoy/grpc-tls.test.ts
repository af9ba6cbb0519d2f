// The ext_authz gRPC port over TLS (plugins.envoy_ext_authz_grpc.tls-cert-file / tls-private-key-file) and
// mutual TLS (tls-ca-cert-file): a client trusting the CA is answered, a client without a certificate is not;
// a certificate replaced on disk is served to new connections without a restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { parseEnvoyGrpcConfig } from '../../src/envoy/config.js';
import type { Decide } from '../../src/engine/engine.js';
import { EnvoyExtAuthzGrpcServer } from '../../src/envoy/grpc-server.js';
import { ExtAuthzClient, httpCheckRequest } from './client.js';
import { makeCerts } from '../server/certs.js';
import { listeningFd } from '../listening-fd.js';

const certs = makeCerts();
const allowAll: Decide = async () => ({ result: true });

/** Bound by grpc-js on addr, or (`onDescriptor`) served on a listening socket handed over by descriptor. */
async function start(config: Record<string, unknown>, onDescriptor = false) {
  const listenOn = onDescriptor ? [{ fd: (await listeningFd()).fd }] : undefined;
  const server = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: '127.0.0.1:0', ...config }), allowAll, { listenOn });
  await server.start();
  return server;
}

const tlsKeys = { 'tls-cert-file': certs.serverA.cert, 'tls-private-key-file': certs.serverA.key };

test('TLS: a client trusting the CA gets its answer; a plaintext client does not', async () => {
  const server = await start(tlsKeys);
  const secure = new ExtAuthzClient(`127.0.0.1:${server.port}`, grpc.credentials.createSsl(readFileSync(certs.ca)));
  const plain = new ExtAuthzClient(`127.0.0.1:${server.port}`);
  try {
    const answer = await secure.check(httpCheckRequest({ path: '/' }));
    assert.equal((answer.response?.status as { code?: number } | undefined)?.code ?? 0, 0);
    assert.ok(answer.response, JSON.stringify(answer));
    assert.ok((await plain.check(httpCheckRequest({ path: '/' }), 1500)).error);
  } finally {
    secure.close();
    plain.close();
    await server.stop(0);
  }
});

test('mutual TLS: a client certificate signed by tls-ca-cert-file is required', async () => {
  const server = await start({ ...tlsKeys, 'tls-ca-cert-file': certs.ca });
  const withCert = new ExtAuthzClient(`127.0.0.1:${server.port}`, grpc.credentials.createSsl(readFileSync(certs.ca), readFileSync(certs.client.key), readFileSync(certs.client.cert)));
  const without = new ExtAuthzClient(`127.0.0.1:${server.port}`, grpc.credentials.createSsl(readFileSync(certs.ca)));
  const stranger = new ExtAuthzClient(`127.0.0.1:${server.port}`, grpc.credentials.createSsl(readFileSync(certs.ca), readFileSync(certs.stranger.key), readFileSync(certs.stranger.cert)));
  try {
    assert.ok((await withCert.check(httpCheckRequest({ path: '/' }))).response);
    assert.ok((await without.check(httpCheckRequest({ path: '/' }), 1500)).error);
    assert.ok((await stranger.check(httpCheckRequest({ path: '/' }), 1500)).error);
  } finally {
    for (const c of [withCert, without, stranger]) c.close();
    await server.stop(0);
  }
});

test('bad TLS settings are refused naming the key and the file', async () => {
  assert.throws(() => parseEnvoyGrpcConfig({ 'tls-cert-file': certs.serverA.cert }), /tls-cert-file and tls-private-key-file must be given together/);
  assert.throws(() => parseEnvoyGrpcConfig({ 'tls-ca-cert-file': certs.ca }), /tls-ca-cert-file needs tls-cert-file/);
  await assert.rejects(start({ 'tls-cert-file': '/nonexistent/cert.pem', 'tls-private-key-file': certs.serverA.key }), /plugins\.envoy_ext_authz_grpc\.tls-cert-file \/nonexistent\/cert\.pem: no such file/);
  await assert.rejects(start({ 'tls-cert-file': certs.serverA.cert, 'tls-private-key-file': certs.serverB.key }), /plugins\.envoy_ext_authz_grpc\.tls-private-key-file \S+ does not match/);
});

// The certificate a new TLS connection to the port is shown (ALPN h2, as a gRPC client negotiates).
function servedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca), ALPNProtocols: ['h2'], servername: 'localhost' }, () => {
      const cn = String(socket.getPeerCertificate().subject.CN);
      socket.destroy();
      resolve(cn);
    });
    socket.on('error', reject);
  });
}

async function eventually(read: () => Promise<string>, want: string): Promise<string> {
  let seen = '';
  for (let i = 0; i < 50 && seen !== want; i++) {
    seen = await read();
    if (seen !== want) await new Promise((r) => setTimeout(r, 100));
  }
  return seen;
}

for (const onDescriptor of [false, true]) test(`a certificate replaced on disk is served to new connections; a broken replacement keeps the old one${onDescriptor ? ' (port given by descriptor)' : ''}`, async () => {
  const live = mkdtempSync(join(tmpdir(), 'verdict-grpc-tls-'));
  copyFileSync(certs.serverA.cert, join(live, 'cert.pem'));
  copyFileSync(certs.serverA.key, join(live, 'key.pem'));
  const server = await start({ 'tls-cert-file': join(live, 'cert.pem'), 'tls-private-key-file': join(live, 'key.pem') }, onDescriptor);
  const client = new ExtAuthzClient(`127.0.0.1:${server.port}`, grpc.credentials.createSsl(readFileSync(certs.ca)));
  try {
    assert.equal(await servedCommonName(server.port), 'verdict-a');
    copyFileSync(certs.serverB.key, join(live, 'key.pem'));
    copyFileSync(certs.serverB.cert, join(live, 'cert.pem'));
    assert.equal(await eventually(() => servedCommonName(server.port), 'verdict-b'), 'verdict-b');
    assert.ok((await client.check(httpCheckRequest({ path: '/' }))).response);

    writeFileSync(join(live, 'cert.pem'), 'not a certificate');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await servedCommonName(server.port), 'verdict-b');
  } finally {
    client.close();
    await server.stop(0);
    rmSync(live, { recursive: true, force: true });
  }
});
