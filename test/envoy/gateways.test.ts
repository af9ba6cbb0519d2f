// The example gateway policies (rego/kong, rego/apisix) evaluated through a real Decide on the input
// shapes Kong's and APISIX's OPA plugins send, with their results checked against what each plugin
// accepts (anything else makes the gateway fail the request with 500).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import type { Decide } from '../../src/engine/engine.js';
import { wasmDecide } from './wasm-decide.js';

const isStringMap = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string' || (Array.isArray(x) && x.every((y) => typeof y === 'string')));

// Kong handler.lua: boolean, or {allow: boolean, status?: integer, headers?: map, message?: string}.
function assertKongAccepts(result: unknown): asserts result is boolean | Record<string, unknown> {
  if (typeof result === 'boolean') return;
  assert.ok(typeof result === 'object' && result !== null, 'Kong needs a boolean or an object');
  const r = result as Record<string, unknown>;
  assert.equal(typeof r.allow, 'boolean', 'Kong needs a boolean "allow"');
  if ('status' in r) assert.ok(Number.isInteger(r.status), 'status must be an integer');
  if ('headers' in r) assert.ok(isStringMap(r.headers), 'headers must map names to strings');
  if ('message' in r) assert.equal(typeof r.message, 'string');
}

// APISIX opa plugin: {allow: boolean, reason?: string|object, headers?: map, status_code?: integer}.
function assertApisixAccepts(result: unknown): asserts result is Record<string, unknown> {
  assert.ok(typeof result === 'object' && result !== null, 'APISIX needs an object');
  const r = result as Record<string, unknown>;
  assert.equal(typeof r.allow, 'boolean', 'APISIX needs a boolean "allow"');
  if ('status_code' in r) assert.ok(Number.isInteger(r.status_code));
  if ('headers' in r) assert.ok(isStringMap(r.headers));
  if ('reason' in r) assert.ok(typeof r.reason === 'string' || typeof r.reason === 'object');
}

function kongInput(method: string, path: string, consumer?: string) {
  return {
    request: {
      http: {
        method, scheme: 'http', host: 'api.example.com', port: 8000, path,
        headers: { host: 'api.example.com', 'user-agent': 'curl/8', accept: ['application/json', 'text/plain'] },
        querystring: { page: '2', flag: true },
      },
    },
    client_ip: '203.0.113.5',
    ...(consumer ? { consumer: { id: 'c-1', username: consumer } } : {}),
  };
}

function apisixInput(method: string, path: string, authorization?: string) {
  return {
    type: 'http',
    request: {
      scheme: 'http', path, method, host: 'api.example.com', port: 9080,
      headers: { host: 'api.example.com', ...(authorization ? { authorization } : {}) },
      query: { page: '2' },
    },
    var: { server_addr: '127.0.0.1', server_port: '9080', remote_addr: '203.0.113.5', remote_port: '40000', timestamp: 1764000000 },
    route: { id: 'r1', uri: '/orders/*' },
  };
}

describe('Kong OPA plugin policy (rego/kong/authz.rego)', () => {
  let decide: Decide;
  before(async () => {
    decide = await wasmDecide(readFileSync('rego/kong/authz.rego', 'utf8'), ['kong/authz/decision']);
  });

  const kong = async (input: unknown) => {
    const { result } = await decide('kong/authz/decision', input);
    assertKongAccepts(result);
    return result as Record<string, unknown>;
  };

  test('health checks pass without a consumer', async () => {
    assert.deepEqual(await kong(kongInput('GET', '/health')), { allow: true });
  });
  test('no consumer: 401 with a challenge header and message', async () => {
    assert.deepEqual(await kong(kongInput('GET', '/orders')), {
      allow: false, status: 401, message: 'authentication required', headers: { 'WWW-Authenticate': 'Key realm="kong"' },
    });
  });
  test('a consumer may read; its name goes upstream as a header', async () => {
    assert.deepEqual(await kong(kongInput('GET', '/orders', 'alice')), { allow: true, headers: { 'X-Authz-User': 'alice' } });
  });
  test('a consumer may not write: 403 with a message', async () => {
    assert.deepEqual(await kong(kongInput('POST', '/orders', 'alice')), { allow: false, status: 403, message: 'alice may only read' });
  });
});

describe('APISIX opa plugin policy (rego/apisix/authz.rego)', () => {
  let decide: Decide;
  before(async () => {
    decide = await wasmDecide(readFileSync('rego/apisix/authz.rego', 'utf8'), ['apisix/authz/decision']);
  });

  const apisix = async (input: unknown) => {
    const { result } = await decide('apisix/authz/decision', input);
    assertApisixAccepts(result);
    return result;
  };

  test('health checks pass', async () => {
    assert.deepEqual(await apisix(apisixInput('GET', '/health')), { allow: true });
  });
  test('no bearer token: 401 with reason and header', async () => {
    assert.deepEqual(await apisix(apisixInput('GET', '/orders/1')), {
      allow: false, status_code: 401, reason: 'missing bearer token', headers: { 'WWW-Authenticate': 'Bearer' },
    });
  });
  test('GET with a token is allowed and annotated', async () => {
    assert.deepEqual(await apisix(apisixInput('GET', '/orders/1', 'Bearer abcdef')), { allow: true, headers: { 'X-Authz-Token-Length': '6' } });
  });
  test('writes are denied with a structured reason', async () => {
    assert.deepEqual(await apisix(apisixInput('DELETE', '/orders/1', 'Bearer abcdef')), {
      allow: false, status_code: 403, reason: { message: 'read only', method: 'DELETE' },
    });
  });
});
