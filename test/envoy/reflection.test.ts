// enable-reflection: grpcurl-style clients can list the services and fetch their descriptors.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { parseEnvoyGrpcConfig } from '../../src/envoy/config.js';
import { EnvoyExtAuthzGrpcServer } from '../../src/envoy/grpc-server.js';
import { envoyTestPolicy } from './policy.js';
import { wasmDecide } from './wasm-decide.js';

// The reflection protocol's client side, from the declaration @grpc/reflection ships.
const reflectionProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto/grpc/reflection/v1/reflection.proto');
const definition = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto)) as any;

interface ReflectionReply {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number };
}

function ask(port: number, request: Record<string, unknown>): Promise<ReflectionReply> {
  const client = new definition.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (reply: ReflectionReply) => {
      resolve(reply);
      call.end();
    });
    call.on('error', (err: Error) => reject(err));
    call.on('end', () => client.close());
    call.write(request);
  });
}

describe('gRPC server reflection', () => {
  let withReflection: EnvoyExtAuthzGrpcServer;
  let without: EnvoyExtAuthzGrpcServer;

  before(async () => {
    const decide = await wasmDecide(envoyTestPolicy, ['envoy/authz/allow']);
    withReflection = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: '127.0.0.1:0', 'enable-reflection': true }), decide);
    without = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: '127.0.0.1:0' }), decide);
    await withReflection.start();
    await without.start();
  });
  after(async () => {
    await withReflection.stop();
    await without.stop();
  });

  test('lists the Authorization and Health services', async () => {
    const reply = await ask(withReflection.port, { listServices: '' });
    const names = reply.listServicesResponse!.service.map((s) => s.name);
    assert.ok(names.includes('envoy.service.auth.v3.Authorization'), names.join(','));
    assert.ok(names.includes('grpc.health.v1.Health'), names.join(','));
  });

  test('serves the descriptor of the file declaring CheckRequest', async () => {
    const reply = await ask(withReflection.port, { fileContainingSymbol: 'envoy.service.auth.v3.CheckRequest' });
    const files = reply.fileDescriptorResponse!.fileDescriptorProto.map((b) => Buffer.from(b).toString('latin1'));
    assert.ok(files.some((f) => f.includes('envoy.service.auth.v3') && f.includes('CheckRequest')));
  });

  test('is off unless enable-reflection is set', async () => {
    await assert.rejects(ask(without.port, { listServices: '' }), (err: grpc.ServiceError) => err.code === grpc.status.UNIMPLEMENTED);
  });
});
