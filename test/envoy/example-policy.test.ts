// rego/envoy/authz.rego, the example in the README, evaluated on ext_authz inputs built by our own
// gRPC server, so the example is known to work with the input Verdict really builds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseEnvoyGrpcConfig } from '../../src/envoy/config.js';
import { EnvoyExtAuthzGrpcServer } from '../../src/envoy/grpc-server.js';
import { ExtAuthzClient, httpCheckRequest } from './client.js';
import { wasmDecide } from './wasm-decide.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const token = (claims: Record<string, unknown>) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.sig`;

describe('example policy rego/envoy/authz.rego', () => {
  let server: EnvoyExtAuthzGrpcServer;
  let client: ExtAuthzClient;

  before(async () => {
    server = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: '127.0.0.1:0' }), await wasmDecide(readFileSync('rego/envoy/authz.rego', 'utf8'), ['envoy/authz/allow']));
    await server.start();
    client = new ExtAuthzClient(`127.0.0.1:${server.port}`);
  });
  after(async () => {
    client.close();
    await server.stop();
  });

  const check = (method: string, path: string, headers: Record<string, string>, body = '') =>
    client.check(httpCheckRequest({ method, path, headers, body }));

  test('no token: 401 with a challenge', async () => {
    const { response } = await check('GET', '/api/orders', {});
    assert.deepEqual(response?.deniedResponse, { status: { code: 401 }, body: 'authentication required', headers: [{ header: { key: 'www-authenticate', value: 'Bearer' } }] });
  });

  test('GET under /api with a token: allowed, user header added, authorization removed', async () => {
    const { response } = await check('GET', '/api/orders?page=2', { authorization: `Bearer ${token({ sub: 'alice' })}` });
    assert.deepEqual(response?.okResponse, { headers: [{ header: { key: 'x-user', value: 'alice' } }], headersToRemove: ['authorization'] });
  });

  test('POST of a small order by a writer: allowed; a large one or a reader: 403', async () => {
    const writer = { authorization: `Bearer ${token({ sub: 'bob', roles: ['writer'] })}`, 'content-type': 'application/json' };
    assert.deepEqual((await check('POST', '/api/orders', writer, '{"amount":10}')).response?.status, {});
    assert.deepEqual((await check('POST', '/api/orders', writer, '{"amount":5000}')).response?.deniedResponse, { status: { code: 403 }, body: 'forbidden' });
    const reader = { ...writer, authorization: `Bearer ${token({ sub: 'carol' })}` };
    assert.deepEqual((await check('POST', '/api/orders', reader, '{"amount":10}')).response?.deniedResponse, { status: { code: 403 }, body: 'forbidden' });
  });
});
