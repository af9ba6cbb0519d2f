import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { envoyGrpcDefaults, parseEnvoyGrpcConfig, parseHttpAuthzConfig } from '../../src/envoy/config.js';
import type { Decide } from '../../src/engine/engine.js';
import { EnvoyExtAuthzGrpcServer } from '../../src/envoy/grpc-server.js';
import { ExtAuthzClient, httpCheckRequest } from './client.js';
import { envoyTestPolicy } from './policy.js';
import { wasmDecide } from './wasm-decide.js';

const PATH = 'envoy/authz/allow';

async function startServer(decide: Decide, config: Record<string, unknown> = {}) {
  const server = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: '127.0.0.1:0', ...config }), decide);
  await server.start();
  const client = new ExtAuthzClient(`127.0.0.1:${server.port}`);
  return { server, client };
}

const withCase = (name: string) => httpCheckRequest({ path: '/orders/7?x=1', headers: { 'x-case': name } });

function metadataWithoutId(response: Record<string, unknown>): Record<string, unknown> {
  const fields = { ...((response.dynamicMetadata as { fields: Record<string, unknown> }).fields) };
  assert.equal(typeof (fields.decision_id as { stringValue: string }).stringValue, 'string');
  delete fields.decision_id;
  return fields;
}

describe('envoy ext_authz gRPC server', () => {
  let decide: Decide;
  let server: EnvoyExtAuthzGrpcServer;
  let client: ExtAuthzClient;

  before(async () => {
    decide = await wasmDecide(envoyTestPolicy, [PATH]);
    ({ server, client } = await startServer(decide));
  });
  after(async () => {
    client.close();
    await server.stop();
  });

  test('a boolean true allows with status OK and a decision id in dynamic metadata', async () => {
    const { response } = await client.check(withCase('allow'));
    assert.deepEqual(response?.status, {});
    assert.equal(response?.okResponse, undefined);
    assert.deepEqual(metadataWithoutId(response!), {});
  });

  test('a boolean false denies with PERMISSION_DENIED and no HTTP response', async () => {
    const { response } = await client.check(withCase('deny'));
    assert.deepEqual(response?.status, { code: 7 });
    assert.equal(response?.deniedResponse, undefined);
  });

  test('an allowing object sets headers, removals, query changes and metadata', async () => {
    const { response } = await client.check(withCase('headers'));
    const ok = response?.okResponse as Record<string, unknown>;
    assert.deepEqual(response?.status, {});
    const byKey = (a: { header: { key: string } }, b: { header: { key: string } }) => a.header.key.localeCompare(b.header.key);
    assert.deepEqual((ok.headers as { header: { key: string } }[]).sort(byKey), [
      { header: { key: 'x-groups', value: 'admin' } },
      { header: { key: 'x-groups', value: 'dev' } },
      { header: { key: 'x-user', value: 'alice' } },
    ]);
    assert.deepEqual(ok.headersToRemove, ['authorization']);
    assert.deepEqual(ok.responseHeadersToAdd, [{ header: { key: 'x-trace', value: 't-1' } }]);
    assert.deepEqual((ok.queryParametersToSet as { key: string }[]).sort((a, b) => a.key.localeCompare(b.key)), [{ key: 'tag', value: 'a' }, { key: 'tag', value: 'b' }, { key: 'tenant', value: 't1' }]);
    assert.deepEqual(ok.queryParametersToRemove, ['debug']);
    assert.deepEqual(metadataWithoutId(response!), { user: { stringValue: 'alice' }, level: { numberValue: 3 } });
  });

  test('a denying object sets the HTTP status, body and client headers', async () => {
    const { response } = await client.check(withCase('denied-object'));
    assert.deepEqual(response?.status, { code: 7 });
    assert.deepEqual(response?.deniedResponse, {
      status: { code: 401 },
      body: 'login required',
      headers: [{ header: { key: 'www-authenticate', value: 'Bearer' } }, { header: { key: 'x-reason', value: 'no token' } }],
    });
  });

  test('a denying object without http_status answers 403', async () => {
    const { response } = await client.check(withCase('denied-plain-object'));
    assert.deepEqual((response?.deniedResponse as { status: unknown }).status, { code: 403 });
  });

  for (const [name, message] of [
    ['undefined', 'undefined decision'],
    ['allowed-not-boolean', "expected allowed to be of type 'boolean'"],
    ['allowed-missing', 'missing "allowed" key'],
    ['bad-status', 'invalid HTTP status code 999'],
    ['bad-header', "type assertion error for header 'x-n'"],
    ['string-result', 'illegal value for policy evaluation result'],
    ['conflict', ''],
  ]) {
    test(`a decision that is ${name} fails the call with UNKNOWN, and the server keeps serving`, async () => {
      const { error } = await client.check(withCase(name));
      assert.equal(error?.code, grpc.status.UNKNOWN);
      assert.ok(error?.details.includes(message), error?.details);
      assert.deepEqual((await client.check(withCase('allow'))).response?.status, {});
    });
  }

  test('the policy sees the same path it was configured with and the protojson input', async () => {
    const seen: unknown[] = [];
    const { server: spy, client: spyClient } = await startServer(async (path, input) => {
      seen.push([path, input]);
      return decide(path, input);
    }, { path: '/custom/authz/allow/' });
    try {
      await spyClient.check(withCase('allow'));
      assert.equal((seen[0] as unknown[])[0], 'custom/authz/allow');
      const input = (seen[0] as unknown[])[1] as Record<string, unknown>;
      assert.deepEqual(input.parsed_path, ['orders', '7']);
      assert.deepEqual(input.version, { ext_authz: 'v3', encoding: 'protojson' });
      assert.equal(input.source_principal, 'spiffe://cluster.local/ns/default/sa/client');
    } finally {
      spyClient.close();
      await spy.stop();
    }
  });

  test('dry-run allows what the policy denies', async () => {
    const { server: dry, client: dryClient } = await startServer(decide, { 'dry-run': true });
    try {
      const { response } = await dryClient.check(withCase('denied-object'));
      assert.deepEqual(response?.status, {});
      assert.deepEqual(response?.okResponse, {});
      assert.equal(response?.deniedResponse, undefined);
      const undefinedDecision = await dryClient.check(withCase('undefined'));
      assert.equal(undefinedDecision.error?.code, grpc.status.UNKNOWN);
    } finally {
      dryClient.close();
      await dry.stop();
    }
  });

  test('health reports SERVING for the server and the Authorization service, NOT_FOUND otherwise', async () => {
    assert.deepEqual(await client.healthCheck(), { status: 1 });
    assert.deepEqual(await client.healthCheck('envoy.service.auth.v3.Authorization'), { status: 1 });
    assert.deepEqual(await client.healthCheck('other.Service'), { code: grpc.status.NOT_FOUND });
    server.setServing(false);
    assert.deepEqual(await client.healthCheck(), { status: 2 });
    server.setServing(true);
  });

  test('listens on a unix socket given as unix:///path', async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'verdict-sock-')), 'authz.sock');
    const s = new EnvoyExtAuthzGrpcServer(parseEnvoyGrpcConfig({ addr: `unix://${socket}` }), decide);
    await s.start();
    const c = new ExtAuthzClient(`unix://${socket}`);
    try {
      assert.deepEqual((await c.check(withCase('allow'))).response?.status, {});
    } finally {
      c.close();
      await s.stop();
    }
  });

  test('stop closes the port', async () => {
    const { server: s, client: c } = await startServer(decide);
    assert.deepEqual((await c.check(withCase('allow'))).response?.status, {});
    await s.stop();
    const { error } = await c.check(withCase('allow'), 300);
    assert.ok(error?.code === grpc.status.UNAVAILABLE || error?.code === grpc.status.DEADLINE_EXCEEDED, `a stopped server must not answer: ${JSON.stringify(error)}`);
    c.close();
  });
});

describe('envoy_ext_authz_grpc config', () => {
  test('defaults match opa-envoy-plugin', () => {
    assert.deepEqual(parseEnvoyGrpcConfig(undefined), envoyGrpcDefaults);
    assert.equal(envoyGrpcDefaults.addr, ':9191');
    assert.equal(envoyGrpcDefaults.path, 'envoy/authz/allow');
  });

  test('accepts opa-envoy-plugin keys and rejects unknown ones by name', () => {
    const config = parseEnvoyGrpcConfig({ addr: 'grpc://127.0.0.1:9292', 'dry-run': true, 'enable-reflection': true, 'skip-request-body-parse': true });
    assert.equal(config.dryRun, true);
    assert.equal(config.enableReflection, true);
    assert.equal(config.skipRequestBodyParse, true);
    assert.throws(() => parseEnvoyGrpcConfig({ adr: ':1' }), /unknown key "adr"/);
    assert.throws(() => parseEnvoyGrpcConfig({ 'dry-run': 'yes' }), /dry-run must be a boolean/);
    assert.throws(() => parseEnvoyGrpcConfig({ addr: 'http://x:1' }), /invalid url scheme/);
  });

  test('opa-envoy-plugin keys Verdict does not act on are refused by name, never accepted and dropped', () => {
    assert.throws(() => parseEnvoyGrpcConfig({ 'enable-performance-metrics': true }), /plugins\.envoy_ext_authz_grpc\.enable-performance-metrics is not supported by Verdict: it has no per-call gRPC timing histograms/);
    assert.throws(() => parseEnvoyGrpcConfig({ 'grpc-request-duration-seconds-buckets': [0.1, 1] }), /plugins\.envoy_ext_authz_grpc\.grpc-request-duration-seconds-buckets is not supported by Verdict/);
    assert.throws(() => parseEnvoyGrpcConfig({ 'proto-descriptor': 'x.pb' }), /proto-descriptor is not supported by Verdict \(use "path"\)/);
  });

  test('the HTTP callout keys: defaults, spelling, errors by name', () => {
    assert.deepEqual(parseHttpAuthzConfig(undefined), { path: 'envoy/authz/allow', dryRun: false, skipRequestBodyParse: false, maxBodyBytes: 1048576 });
    assert.deepEqual(parseHttpAuthzConfig({ path: '/x/y/', 'path-prefix': '/ext_authz', 'max-body-bytes': 10 }), { path: 'x/y', pathPrefix: '/ext_authz', dryRun: false, skipRequestBodyParse: false, maxBodyBytes: 10 });
    assert.throws(() => parseHttpAuthzConfig({ 'max-body-bytes': -1 }), /max-body-bytes must be a positive integer/);
    assert.throws(() => parseHttpAuthzConfig({ prefix: '/a' }), /unknown key "prefix"/);
  });
});
