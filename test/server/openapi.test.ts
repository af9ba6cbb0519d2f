// schemas/openapi.json is kept true here: real responses from a running Verdict are validated against the
// operation and status they answer, and every documented operation is exercised at least once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { pino } from 'pino';
import { buildWasmBundle } from '../engine/opa-fixture.js';
import { adminApiAuth, send, startVerdict, writeTree } from './harness.js';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { writeBundleArchive } from '../../src/bundle/files.js';

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
let token: string;

before(async () => {
  const bundle = buildWasmBundle('bundles/sample', ['gateway/authz/allow', 'gateway/authz/deny']);
  verdict = await startVerdict('status: {}\nkeys:\n  k:\n    key: secret\n', [bundle]);
  const auth = adminApiAuth('admin');
  token = await auth.token();
  const dir = writeTree({ 'envoy/policy.rego': 'package envoy.authz\n\ndefault allow := false\n\nallow if input.attributes.request.http.method == "GET"\n' });
  const config = `
persistence_directory: ${dir}/persist
decision_logs:
  store:
    file: ${dir}/decisions.db
plugins:
  envoy_ext_authz_http: {}
${auth.config}`;
  admin = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'test config'), bundlePaths: [dir], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
});

after(async () => {
  await Promise.all([verdict?.close(), admin?.close(1000)]);
});

function templateOf(path: string): string {
  const bare = path.split('?')[0];
  if (spec.paths[bare]) return bare;
  const prefixes = [
    ['/v1/data/', '/v1/data/{path}'],
    ['/v0/data/', '/v0/data/{path}'],
    ['/v1/policies/', '/v1/policies/{id}'],
    ['/health/', '/health/{path}'],
    ['/v1/decisions/', '/v1/decisions/{decision_id}'],
    ['/v1/authz/', '/v1/authz/{path}'],
    ['/v1/bundles/', '/v1/bundles/{name}'],
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
  ['POST', '/v1/query', '{"query":"x := input.a","input":{"a":1}}'],
  ['POST', '/v1/query', 'bad'],
  ['POST', '/v1/query', '{}'],
  ['PUT', '/v1/policies/health', 'package system.health\nlive := true\n'],
  ['GET', '/health/live'],
  ['GET', '/health/ready'],
  ['GET', '/'],
];

/** Requests to the configured server; `authorized` sends the admin token. */
const adminRequests: { method: string; path: string; body?: string | (() => Promise<Buffer>); authorized?: boolean }[] = [
  { method: 'GET', path: '/v1/authz/some/resource' },
  { method: 'POST', path: '/v1/authz/some/resource', body: '{}' },
  { method: 'GET', path: '/v1/decisions', authorized: true },
  { method: 'GET', path: '/v1/decisions?limit=x', authorized: true },
  { method: 'GET', path: '/v1/decisions' },
  { method: 'GET', path: '/v1/decisions/nope', authorized: true },
  { method: 'GET', path: '/ui/decisions', authorized: true },
  { method: 'GET', path: '/v1/bundles', authorized: true },
  { method: 'PUT', path: '/v1/bundles/up', authorized: true, body: async () => writeBundleArchive([{ path: '.manifest', data: Buffer.from('{"revision":"u1","roots":["up"]}') }, { path: 'up/data.json', data: Buffer.from('{"a":1}') }]) },
  { method: 'PUT', path: '/v1/bundles/bad', authorized: true, body: 'not a bundle' },
  { method: 'GET', path: '/v1/bundles/up', authorized: true },
  { method: 'DELETE', path: '/v1/bundles/up', authorized: true },
  { method: 'GET', path: '/v1/bundles/up', authorized: true },
  { method: 'DELETE', path: '/v1/bundles/up', authorized: true },
];

test('real responses match schemas/openapi.json and every operation is exercised', async () => {
  const exercised = new Set<string>();
  await send(admin.url, 'GET', '/v1/authz/first');
  await admin.decisionLog!.flush();
  const decided = await send(admin.url, 'GET', '/v1/decisions?limit=1', undefined, { Authorization: `Bearer ${token}` });
  const decisionId = (JSON.parse(decided.body.toString()) as { result: { decision_id: string }[] }).result[0]!.decision_id;
  const all: [RunningServer, string, string, string | Buffer | undefined, Record<string, string>][] = [
    ...requests.map(([method, path, body]): [RunningServer, string, string, string | undefined, Record<string, string>] => [verdict, method, path, body, {}]),
    ...(await Promise.all(
      [...adminRequests, { method: 'GET', path: `/v1/decisions/${decisionId}`, authorized: true }].map(async (r): Promise<[RunningServer, string, string, string | Buffer | undefined, Record<string, string>]> => [
        admin,
        r.method,
        r.path,
        typeof r.body === 'function' ? await r.body() : r.body,
        r.authorized ? { Authorization: `Bearer ${token}` } : {},
      ]),
    )),
  ];
  for (const [server, method, path, body, headers] of all) {
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
  assert.deepEqual(documented.filter((op) => !exercised.has(op)), []);
});

test('/v1/config shows no key material', async () => {
  const res = await send(verdict.url, 'GET', '/v1/config');
  assert.doesNotMatch(res.body.toString(), /secret/);
});
