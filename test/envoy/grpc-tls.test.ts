// The ext_authz gRPC port over TLS (plugins.envoy_ext_authz_grpc.tls-cert-file / tls-private-key-file) and
// mutual TLS (tls-ca-cert-file): a client trusting the CA is answered, a client without a certificate is not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { parseEnvoyGrpcConfig } from '../../src/envoy/config.js';
import type { Decide } from '../../src/engine/engine.js';
import { EnvoyExtAuthzGrpcServer } from '../../src/envoy/grpc-server.js';
import { ExtAuthzClient, httpCheckRequest } from './client.js';
import { makeCerts } from '../server/certs.js';

const certs = makeCerts();
const allowAll: Decide = async () => ({ result: true });

async function start(config: Record<string, unknown>) {
  const server = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: '127.0.0.1:0', ...config }), allowAll);
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
