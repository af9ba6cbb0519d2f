// enable-reflection: grpcurl-style clients can list the services and fetch their descriptors, and the real
// grpcurl (scripts/install-grpcurl.sh, from the Go module proxy) can describe every type and call Check
// through reflection alone.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
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

/** grpcurl from scripts/install-grpcurl.sh; under CI a failed install fails the run instead of skipping. */
function installGrpcurl(): string | undefined {
  const installed = spawnSync('scripts/install-grpcurl.sh', { encoding: 'utf8' });
  if (installed.status === 0) return installed.stdout.trim().split('\n').pop();
  if (process.env.CI === 'true') throw new Error(`scripts/install-grpcurl.sh failed: ${installed.stderr}`);
  return undefined;
}
const grpcurl = installGrpcurl();

/** Runs grpcurl without blocking: the server under test answers from this process. */
function runGrpcurl(port: number, flags: string[], ...rest: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(grpcurl!, ['-plaintext', ...flags, `127.0.0.1:${port}`, ...rest], { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
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

  const skip = grpcurl ? false : 'grpcurl could not be installed (Go or the module proxy unavailable; CI fails instead)';

  test('grpcurl describes the services and every message they use, resolving each type', { skip }, async () => {
    for (const symbol of ['envoy.service.auth.v3.Authorization', 'grpc.health.v1.Health', 'envoy.service.auth.v3.AttributeContext', 'envoy.service.auth.v3.CheckResponse']) {
      const described = await runGrpcurl(withReflection.port, [], 'describe', symbol);
      assert.equal(described.status, 0, `${symbol}: ${described.stderr}`);
    }
    const request = await runGrpcurl(withReflection.port, [], 'describe', 'envoy.service.auth.v3.AttributeContext.HttpRequest');
    assert.match(request.stdout, /map<string, string> headers = 3;/);
    const context = await runGrpcurl(withReflection.port, [], 'describe', 'envoy.service.auth.v3.AttributeContext');
    assert.match(context.stdout, /\.envoy\.config\.core\.v3\.Metadata metadata_context = 11;/);
  });

  test('grpcurl calls Check and the health service through reflection', { skip }, async () => {
    const allowed = await runGrpcurl(withReflection.port, ['-d', JSON.stringify({ attributes: { request: { http: { method: 'GET', path: '/', headers: { 'x-case': 'headers' } } } } })], 'envoy.service.auth.v3.Authorization/Check');
    assert.equal(allowed.status, 0, allowed.stderr);
    // The policy's headers reached the answer, and grpcurl decoded it from the reflected descriptors.
    const response = JSON.parse(allowed.stdout) as { ok_response?: { headers?: { header?: { key: string; value: string } }[] } };
    assert.ok(response.ok_response?.headers?.some((h) => h.header?.key === 'x-user' && h.header.value === 'alice'), allowed.stdout);
    const health = await runGrpcurl(withReflection.port, ['-d', '{}'], 'grpc.health.v1.Health/Check');
    assert.equal(health.status, 0, health.stderr);
    assert.deepEqual(JSON.parse(health.stdout), { status: 'SERVING' });
  });

  test('is off unless enable-reflection is set', async () => {
    await assert.rejects(ask(without.port, { listServices: '' }), (err: grpc.ServiceError) => err.code === grpc.status.UNIMPLEMENTED);
  });
});
