// schemas/openapi.json is kept true here: real responses from a running Verdict are validated against the
// operation and status they answer, and every documented operation is exercised at least once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { pino } from 'pino';
import { buildWasmBundle } from '../engine/opa-fixture.js';
import { send, startVerdict, writeTree } from './harness.js';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { writeBundleArchive } from '../../src/bundle/files.js';
import { TestAdminIdp } from './admin-idp.js';

interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> }>>;
  components: { responses: Record<string, { content: Record<string, { schema: unknown }> }> };
}

const spec = JSON.parse(readFileSync('schemas/openapi.json', 'utf8')) as Spec;
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(spec, 'openapi.json');
const input = readFileSync('rego/gateway/input.json', 'utf8');
let verdict: RunningServer;
/** A second server with the parts that need configuring: admin_api, the decision-log store, HTTP ext_authz. */
let admin: RunningServer;
const idp = new TestAdminIdp();
const adminAuth: Record<string, Record<string, string>> = {};

before(async () => {
  const bundle = buildWasmBundle('bundles/sample', ['gateway/authz/allow', 'gateway/authz/deny']);
  verdict = await startVerdict('status: { console: true }\nkeys:\n  k:\n    key: secret\n', [bundle]);
  const dir = writeTree({ 'envoy/policy.rego': 'package envoy.authz\n\ndefault allow := false\n\nallow if input.attributes.request.http.method == "GET"\n' });
  const adminConfig = `persistence_directory: ${dir}/persist
decision_logs: {store: {file: ${dir}/decisions.db}}
plugins:
  envoy_ext_authz_http: {}
${idp.config()}`;
  admin = await startServer({ addr: '127.0.0.1:0', config: parseConfig(adminConfig, 'admin config'), bundlePaths: [dir], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
  for (const scope of ['bundles:read', 'bundles:write', 'decisions:read', 'bundles:write decisions:read']) adminAuth[scope] = await idp.bearer(scope);
  uploadBody = await writeBundleArchive([{ path: '.manifest', data: Buffer.from('{"revision":"up1","roots":["uploaded"]}') }]);
});

after(async () => {
  await Promise.all([verdict?.close(), admin?.close(1000)]);
});

function templateOf(path: string): string {
  const bare = path.split('?')[0];
  if (spec.paths[bare]) return bare;
  if (/^\/v1\/bundles\/[^/]+\/trigger$/.test(bare)) return '/v1/bundles/{name}/trigger';
  const prefixes = [
    ['/v1/data/', '/v1/data/{path}'],
    ['/v0/data/', '/v0/data/{path}'],
    ['/v1/policies/', '/v1/policies/{id}'],
    ['/health/', '/health/{path}'],
    ['/v1/decisions/', '/v1/decisions/{decision_id}'],
    ['/v1/authz/', '/v1/authz/{path}'],
    ['/v1/bundles/', '/v1/bundles/{name}'],
    ['/v1/compile/', '/v1/compile/{path}'],
  ];
  for (const [prefix, template] of prefixes) {
    if (bare.startsWith(prefix)) return template;
  }
  throw new Error(`no OpenAPI path for ${path}`);
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const requests: [string, string, string?][] = [
  ['POST', '/v1/data/gateway/authz/allow', input],
  ['POST', '/v1/data/gateway/authz/allow?metrics&provenance&pretty', '{}'],
  ['POST', '/v1/data', '{"input":{}}'],
  ['POST', '/v1/data/gateway/authz/allow', '{bad'],
  ['POST', '/v1/data/nothing', '{"input":1}'],
  ['GET', '/v1/data/gateway/role_bindings'],
  ['GET', '/v1/data?input=%7B%7D'],
  ['GET', '/v1/data/x?input=%7B'],
  ['PUT', '/v1/data/extra', '{"a":[1]}'],
  ['PUT', '/v1/data/extra', '1', ],
  ['PUT', '/v1/data', '{}'],
  ['PATCH', '/v1/data/extra', '[{"op":"add","path":"/b","value":2}]'],
  ['PATCH', '/v1/data/extra', '[{"op":"remove","path":"/zz"}]'],
  ['PATCH', '/v1/data/extra', '[{"op":"copy","path":"/b"}]'],
  ['DELETE', '/v1/data/extra'],
  ['DELETE', '/v1/data/extra'],
  ['DELETE', '/v1/data/gateway'],
  ['POST', '/v0/data/gateway/authz/allow', JSON.stringify(JSON.parse(input).input)],
  ['POST', '/v0/data/gateway/nothing', '{}'],
  ['POST', '/v0/data/gateway/authz/allow', '{bad'],
  ['POST', '/', '{}'],
  ['GET', '/v1/policies'],
  ['PUT', '/v1/policies/extra', 'package extra\np := 1\n'],
  ['GET', '/v1/policies/extra'],
  ['PUT', '/v1/policies/broken', 'package broken\np := \n'],
  ['DELETE', '/v1/policies/extra'],
  ['DELETE', '/v1/policies/extra'],
  ['GET', '/v1/policies/extra'],
  ['GET', '/health?bundles&plugins'],
  ['GET', '/metrics'],
  ['GET', '/v1/config'],
  ['GET', '/v1/status'],
  ['GET', '/v1/query?q=x%20%3A%3D%20data.gateway.authz.allow'],
  ['GET', '/v1/query?q=%5B'],
  ['GET', '/v1/query?q=x%20%3A%3D%201&metrics'],
  ['GET', '/v1/query?q=x%20%3A%3D%201&instrument=true'],
  ['POST', '/v1/data/gateway/authz/allow?instrument=true', input],
  ['POST', '/v1/query', '{"query":"x := input.a","input":{"a":1}}'],
  ['POST', '/v1/query', 'bad'],
  ['POST', '/v1/query', '{}'],
  ['POST', '/v1/compile', '{"query":"data.gateway.authz.allow == true","unknowns":["input.request"]}'],
  ['POST', '/v1/compile', '{}'],
  ['POST', '/v1/compile/gateway/authz/allow', '{"unknowns":["input.request"]}'],
  ['PUT', '/v1/policies/health', 'package system.health\nlive := true\n'],
  ['GET', '/health/live'],
  ['GET', '/health/ready'],
  ['GET', '/health/custom'],
  ['GET', '/'],
];

let uploadBody: Buffer;
/** The admin operations, on the admin server, each with the scope it needs and without it. */
const adminRequests = (): [string, string, (string | Buffer)?, Record<string, string>?][] => [
  ['GET', '/v1/authz/some/resource'],
  ['POST', '/v1/authz/some/resource', '{}'],
  ['PUT', '/v1/bundles/uploaded?dry_run=true', uploadBody, { ...adminAuth['bundles:write decisions:read'], 'Content-Type': 'application/gzip' }],
  ['PUT', '/v1/bundles/uploaded', uploadBody, { ...adminAuth['bundles:write'], 'Content-Type': 'application/gzip' }],
  ['PUT', '/v1/bundles/uploaded', uploadBody, adminAuth['decisions:read']],
  ['PUT', '/v1/bundles/uploaded', Buffer.from('not gzip'), adminAuth['bundles:write']],
  ['PUT', '/v1/bundles/uploaded', uploadBody],
  ['GET', '/v1/bundles', undefined, adminAuth['bundles:read']],
  ['GET', '/v1/bundles/uploaded', undefined, adminAuth['bundles:read']],
  ['GET', '/v1/bundles/nothing', undefined, adminAuth['bundles:read']],
  ['POST', '/v1/bundles/uploaded/trigger', undefined, adminAuth['bundles:write']],
  ['DELETE', '/v1/bundles/uploaded', undefined, adminAuth['bundles:write']],
  ['DELETE', '/v1/bundles/uploaded', undefined, adminAuth['bundles:write']],
  ['GET', '/v1/decisions?limit=5', undefined, adminAuth['decisions:read']],
  ['GET', '/v1/decisions?bogus=1', undefined, adminAuth['decisions:read']],
  ['GET', '/v1/decisions', undefined, adminAuth['bundles:read']],
  ['GET', '/v1/decisions/no-such-id', undefined, adminAuth['decisions:read']],
  ['GET', '/v1/decisions/export?format=csv', undefined, adminAuth['decisions:read']],
  ['GET', '/v1/decisions/export?format=xml', undefined, adminAuth['decisions:read']],
  ['GET', '/ui/decisions', undefined, adminAuth['decisions:read']],
  ['GET', '/ui/decisions'],
];

test('real responses match schemas/openapi.json and every operation is exercised', async () => {
  const exercised = new Set<string>();
  await send(admin.url, 'GET', '/v1/authz/first');
  await admin.decisionLog!.flush();
  const decided = await send(admin.url, 'GET', '/v1/decisions?limit=1', undefined, adminAuth['decisions:read']);
  const decisionId = (JSON.parse(decided.body.toString()) as { result: { decision_id: string }[] }).result[0]!.decision_id;
  const calls = [
    ...requests.map(([method, path, body]) => ({ server: verdict, method, path, body, headers: {} })),
    ...[...adminRequests(), ['GET', `/v1/decisions/${decisionId}`, undefined, adminAuth['decisions:read']] as const].map(
      ([method, path, body, headers]) => ({ server: admin, method, path, body, headers: headers ?? {} }),
    ),
  ];
  for (const { server, method, path, body, headers } of calls) {
    const res = await send(server.url, method, path, body, headers);
    const template = templateOf(path);
    const operation = spec.paths[template][method.toLowerCase()];
    assert.ok(operation, `${method} ${template} is not documented`);
    const response = operation.responses[String(res.status)];
    assert.ok(response, `${method} ${path} answered ${res.status}, which ${method} ${template} does not document`);
    exercised.add(`${method} ${template}`);
    const contentType = String(res.headers['content-type'] ?? '').split(';')[0];
    const content = response.$ref ? spec.components.responses[response.$ref.split('/').pop()!].content : response.content;
    if (!content) {
      assert.equal(res.body.length, 0, `${method} ${path} should have no body`);
      continue;
    }
    assert.ok(content[contentType], `${method} ${path}: content type ${contentType} not documented`);
    if (contentType !== 'application/json') continue;
    const ref = response.$ref
      ? `openapi.json#/${pointer('components', 'responses', response.$ref.split('/').pop()!, 'content', contentType, 'schema')}`
      : `openapi.json#/${pointer('paths', template, method.toLowerCase(), 'responses', String(res.status), 'content', contentType, 'schema')}`;
    const validate = ajv.getSchema(ref);
    assert.ok(validate, `no schema at ${ref}`);
    const value = JSON.parse(res.body.toString());
    assert.ok(validate(value), `${method} ${path} (${res.status}): ${ajv.errorsText(validate.errors)} in ${res.body}`);
  }
  const documented = Object.entries(spec.paths).flatMap(([template, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${template}`));
  // The collector needs a PostgreSQL store: test/decisionlog/postgres.test.ts sends it batches.
  const elsewhere = new Set(['POST /logs']);
  assert.deepEqual(documented.filter((op) => !exercised.has(op) && !elsewhere.has(op)), []);
});

test('/v1/config shows no key material', async () => {
  const res = await send(verdict.url, 'GET', '/v1/config');
  assert.doesNotMatch(res.body.toString(), /secret/);
});
