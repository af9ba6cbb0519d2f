// Bad input to the gRPC ext_authz server: each gets a clear gRPC status and the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { parseEnvoyGrpcConfig } from '../../src/envoy/config.js';
import type { Decide } from '../../src/engine/engine.js';
import { EnvoyExtAuthzGrpcServer } from '../../src/envoy/grpc-server.js';
import { ExtAuthzClient, httpCheckRequest } from './client.js';
import { envoyTestPolicy } from './policy.js';
import { wasmDecide } from './wasm-decide.js';

const allowRequest = httpCheckRequest({ path: '/', headers: { 'x-case': 'allow' } });

describe('ext_authz gRPC server under bad input', () => {
  let server: EnvoyExtAuthzGrpcServer;
  let client: ExtAuthzClient;
  let raw: grpc.Client;
  let decide: Decide;

  before(async () => {
    decide = await wasmDecide(envoyTestPolicy, ['envoy/authz/allow']);
    server = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: '127.0.0.1:0', 'grpc-max-recv-msg-size': 64 * 1024 }), decide);
    await server.start();
    client = new ExtAuthzClient(`127.0.0.1:${server.port}`);
    raw = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    raw.close();
    await server.stop();
  });

  const stillServing = async () => assert.deepEqual((await client.check(allowRequest)).response?.status, {});

  function sendBytes(bytes: Buffer): Promise<grpc.ServiceError | null> {
    return new Promise((resolve) => {
      raw.makeUnaryRequest('/envoy.service.auth.v3.Authorization/Check', (b: Buffer) => b, (b: Buffer) => b, bytes, (err) => resolve(err));
    });
  }

  test('malformed protobuf is INTERNAL "Error deserializing request"', async () => {
    const err = await sendBytes(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    assert.equal(err?.code, grpc.status.INTERNAL);
    assert.match(err?.details ?? '', /deserializing request/);
    await stillServing();
  });

  test('an empty CheckRequest (no attributes at all) still reaches the policy, which finds it undefined', async () => {
    const { error } = await client.check({});
    assert.equal(error?.code, grpc.status.UNKNOWN);
    assert.equal(error?.details, 'undefined decision');
    await stillServing();
  });

  test('a message above grpc-max-recv-msg-size is RESOURCE_EXHAUSTED', async () => {
    const huge = httpCheckRequest({ path: '/', headers: { 'x-case': 'allow', 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(100 * 1024) }) });
    const { error } = await client.check(huge);
    assert.equal(error?.code, grpc.status.RESOURCE_EXHAUSTED);
    await stillServing();
  });

  test('a body Envoy truncated at max_request_bytes is not parsed and is flagged', async () => {
    const seen: Record<string, unknown>[] = [];
    const spy = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: '127.0.0.1:0' }), async (path, input) => {
      seen.push(input as Record<string, unknown>);
      return decide(path, input);
    });
    await spy.start();
    const spyClient = new ExtAuthzClient(`127.0.0.1:${spy.port}`);
    try {
      const body = '{"data":"' + 'y'.repeat(8192);
      await spyClient.check(httpCheckRequest({ path: '/', headers: { 'x-case': 'allow', 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) }, body }));
      assert.equal(seen[0].truncated_body, true);
      assert.equal(seen[0].parsed_body, null);
    } finally {
      spyClient.close();
      await spy.stop();
    }
  });

  test('a policy slower than the caller deadline gives DEADLINE_EXCEEDED and the server keeps serving', async () => {
    const { error } = await client.check(httpCheckRequest({ path: '/', headers: { 'x-case': 'slow' } }), 50);
    assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
    await stillServing();
  });

  test('a decision source that answers after the deadline is abandoned with DEADLINE_EXCEEDED', async () => {
    const lagging = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: '127.0.0.1:0' }), async (path, input) => {
      await new Promise((resolve) => setTimeout(resolve, 400)); // an information point that is slow to answer
      return decide(path, input);
    });
    await lagging.start();
    const c = new ExtAuthzClient(`127.0.0.1:${lagging.port}`);
    try {
      const { error } = await c.check(allowRequest, 100);
      assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
      assert.deepEqual((await c.check(allowRequest, 2000)).response?.status, {});
    } finally {
      c.close();
      await lagging.stop();
    }
  });
});
