// `--authentication=token --authorization=basic` against the real OPA: the same system.authz bundle, tokens
// and requests sent to `opa run --server` and to `verdict run` with the same flags, both started on loopback.
// Each answer must have the same status and body (a few bodies that are each server's own, such as the
// metrics text, are compared by status only). The policy also echoes its whole input back in a denial
// reason for one token, so the input document (path, params, headers, identity, body) is compared too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { send, writeTree, type RawResponse } from './harness.js';
import { expectStartFailure, spawnServer, waitUntil, type RunningProcess } from './processes.js';
import { freePort } from '../free-port.js';

const authz = `package system.authz

default allow := false

token_roles := data.tokens[input.identity].roles

# The health check is open to probes, as in OPA's documented example.
allow if {
  input.method == "GET"
  input.path[0] == "health"
}

allow if "admin" in token_roles

allow if {
  "reader" in token_roles
  input.method == "GET"
  input.path[0] == "v1"
  input.path[1] == "data"
}

allow if {
  "decider" in token_roles
  input.method == "POST"
  input.path == ["v1", "data", "app", "allow"]
  input.body.input.user != ""
}

allow := {"allowed": false, "reason": sprintf("token %s is blocked", [input.identity])} if input.identity == "blocked-token"

allow := {"allowed": false, "reason": json.marshal(input)} if input.identity == "echo-token"

allow := {"verdict": "no allowed key"} if input.identity == "shapeless-token"

allow := 42 if input.identity == "number-token"
`;

const app = `package app

default allow := false

allow if input.user in data.app.admins
`;

const tokens = {
  'admin-token': { roles: ['admin'] },
  'reader-token': { roles: ['reader'] },
  'decider-token': { roles: ['decider'] },
};

let opa: RunningProcess;
let verdict: RunningProcess;
let opaUrl: string;
let verdictUrl: string;

before(async () => {
  const dir = writeTree({
    '.manifest': JSON.stringify({ revision: 'authz-1', roots: ['system/authz', 'tokens', 'app'] }),
    'system/authz/authz.rego': authz,
    'app/app.rego': app,
    'app/data.json': JSON.stringify({ admins: ['alice'] }),
    'tokens/data.json': JSON.stringify(tokens),
  });
  // Verdict's decision log is on by default and adds decision ids, which OPA (no decision log) does not send.
  const config = join(dir, '..', `${dir.split('/').pop()}-verdict.yaml`);
  writeFileSync(config, 'decision_logs:\n  store:\n    enabled: false\n');
  const [opaPort, verdictPort] = await Promise.all([freePort(), freePort()]);
  const flags = ['--authentication=token', '--authorization=basic', '--log-level', 'error'];
  opa = spawnServer('opa', [...flags, '--addr', `127.0.0.1:${opaPort}`, '-b', dir]);
  verdict = spawnServer('verdict', [...flags, '--addr', `127.0.0.1:${verdictPort}`, '-c', config, '-b', dir]);
  opaUrl = `http://127.0.0.1:${opaPort}`;
  verdictUrl = `http://127.0.0.1:${verdictPort}`;
  // /health?bundles answers 200 only once the bundle (and so the authz policy) is active.
  await Promise.all([
    waitUntil(opa, async () => (await send(opaUrl, 'GET', '/health?bundles')).status === 200),
    waitUntil(verdict, async () => (await send(verdictUrl, 'GET', '/health?bundles')).status === 200),
  ]);
});

after(async () => {
  await Promise.all([opa?.stop(), verdict?.stop()]);
});

interface Case {
  name: string;
  method: string;
  path: string;
  token?: string;
  /** The whole Authorization header, when it is not `Bearer <token>`. */
  authorization?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Bodies that are each server's own (metrics text, configuration): the status only. */
  statusOnly?: boolean;
  /** Parser error wording differs (Go's encoding/json vs JSON.parse): compare the code and status only. */
  codeOnly?: boolean;
}

const input = (user: string) => JSON.stringify({ input: { user } });
const scratchPolicy = 'package scratch\n\nanswer := 42\n';

// Order matters for the write cases: each builds on the previous one.
const cases: Case[] = [
  { name: 'health without a token (open by policy)', method: 'GET', path: '/health' },
  { name: 'health?bundles without a token', method: 'GET', path: '/health?bundles' },
  { name: 'health with a wrong token', method: 'GET', path: '/health', token: 'wrong' },
  { name: 'health?plugins without a token', method: 'GET', path: '/health?plugins' },
  { name: 'health with POST is not open', method: 'POST', path: '/health' },
  { name: 'metrics without a token', method: 'GET', path: '/metrics' },
  { name: 'metrics as admin', method: 'GET', path: '/metrics', token: 'admin-token', statusOnly: true },
  { name: 'data read without a token', method: 'GET', path: '/v1/data/app' },
  { name: 'data read with a wrong token', method: 'GET', path: '/v1/data/app', token: 'wrong' },
  { name: 'data read as reader', method: 'GET', path: '/v1/data/app', token: 'reader-token' },
  { name: 'data read as admin', method: 'GET', path: '/v1/data/app/admins', token: 'admin-token' },
  { name: 'data read as decider (not its route)', method: 'GET', path: '/v1/data/app', token: 'decider-token' },
  { name: 'decision without a token', method: 'POST', path: '/v1/data/app/allow', body: input('alice') },
  { name: 'decision with a wrong token', method: 'POST', path: '/v1/data/app/allow', token: 'nope', body: input('alice') },
  { name: 'decision as decider', method: 'POST', path: '/v1/data/app/allow', token: 'decider-token', body: input('alice') },
  { name: 'decision as decider, denied by the app policy', method: 'POST', path: '/v1/data/app/allow', token: 'decider-token', body: input('mallory') },
  { name: 'decision as decider with an empty user (the body is policy input)', method: 'POST', path: '/v1/data/app/allow', token: 'decider-token', body: input('') },
  { name: 'decision as decider, gzip body', method: 'POST', path: '/v1/data/app/allow', token: 'decider-token', body: gzipSync(input('alice')), headers: { 'Content-Encoding': 'gzip' } },
  { name: 'decision as reader (POST not allowed)', method: 'POST', path: '/v1/data/app/allow', token: 'reader-token', body: input('alice') },
  { name: 'decision as decider on another path', method: 'POST', path: '/v1/data/app', token: 'decider-token', body: input('alice') },
  { name: 'v0 decision as decider (other path)', method: 'POST', path: '/v0/data/app/allow', token: 'decider-token', body: JSON.stringify({ user: 'alice' }) },
  { name: 'v0 decision as admin', method: 'POST', path: '/v0/data/app/allow', token: 'admin-token', body: JSON.stringify({ user: 'alice' }) },
  { name: 'malformed decision body as admin', method: 'POST', path: '/v1/data/app/allow', token: 'admin-token', body: '{"input":', codeOnly: true },
  { name: 'data write without a token', method: 'PUT', path: '/v1/data/scratch', body: '{"a":1}' },
  { name: 'data write as reader', method: 'PUT', path: '/v1/data/scratch', token: 'reader-token', body: '{"a":1}' },
  { name: 'data write as decider', method: 'PUT', path: '/v1/data/scratch', token: 'decider-token', body: '{"a":1}' },
  { name: 'data write as admin', method: 'PUT', path: '/v1/data/scratch', token: 'admin-token', body: '{"a":1}' },
  { name: 'the write is there for the reader', method: 'GET', path: '/v1/data/scratch', token: 'reader-token' },
  { name: 'data patch without a token', method: 'PATCH', path: '/v1/data/scratch', body: '[{"op":"add","path":"/b","value":2}]' },
  { name: 'data patch as admin', method: 'PATCH', path: '/v1/data/scratch', token: 'admin-token', body: '[{"op":"add","path":"/b","value":2}]' },
  { name: 'write into a bundle root as admin', method: 'PUT', path: '/v1/data/tokens/evil', token: 'admin-token', body: '{"roles":["admin"]}' },
  { name: 'token data cannot be rewritten without a token', method: 'PUT', path: '/v1/data/tokens/evil', body: '{"roles":["admin"]}' },
  { name: 'data delete as reader', method: 'DELETE', path: '/v1/data/scratch', token: 'reader-token' },
  { name: 'data delete as admin', method: 'DELETE', path: '/v1/data/scratch', token: 'admin-token' },
  { name: 'the delete happened', method: 'GET', path: '/v1/data/scratch', token: 'reader-token' },
  { name: 'policy upload without a token', method: 'PUT', path: '/v1/policies/evil', body: scratchPolicy },
  { name: 'policy upload with a wrong token', method: 'PUT', path: '/v1/policies/evil', token: 'wrong', body: scratchPolicy },
  { name: 'policy upload as reader', method: 'PUT', path: '/v1/policies/evil', token: 'reader-token', body: scratchPolicy },
  { name: 'policy that would open the door, without a token', method: 'PUT', path: '/v1/policies/open', body: 'package system.authz\n\nallow := true\n' },
  { name: 'policy upload as admin', method: 'PUT', path: '/v1/policies/scratch', token: 'admin-token', body: scratchPolicy },
  { name: 'the uploaded policy answers the reader', method: 'GET', path: '/v1/data/scratch/answer', token: 'reader-token' },
  { name: 'policy read without a token', method: 'GET', path: '/v1/policies/scratch' },
  { name: 'policy delete as decider', method: 'DELETE', path: '/v1/policies/scratch', token: 'decider-token' },
  { name: 'policy delete as admin', method: 'DELETE', path: '/v1/policies/scratch', token: 'admin-token' },
  { name: 'policy list without a token', method: 'GET', path: '/v1/policies' },
  { name: 'query without a token', method: 'GET', path: '/v1/query?q=data' },
  { name: 'compile without a token', method: 'POST', path: '/v1/compile', body: '{"query":"data.app.allow"}' },
  { name: 'compile as admin', method: 'POST', path: '/v1/compile', token: 'admin-token', body: '{"query":"data.app.allow == true","unknowns":["input.user"]}', statusOnly: true },
  { name: 'data filter without a token', method: 'POST', path: '/v1/compile/app/allow', body: '{"unknowns":["input.user"]}' },
  { name: 'config without a token', method: 'GET', path: '/v1/config' },
  { name: 'config as admin', method: 'GET', path: '/v1/config', token: 'admin-token', statusOnly: true },
  { name: 'status as admin (no status plugin)', method: 'GET', path: '/v1/status', token: 'admin-token' },
  { name: 'default decision without a token', method: 'POST', path: '/', body: '{}' },
  { name: 'unknown path without a token', method: 'GET', path: '/nope' },
  { name: 'unknown path as admin', method: 'GET', path: '/nope', token: 'admin-token' },
  { name: 'wrong method on data as admin', method: 'POST', path: '/v1/policies', token: 'admin-token' },
  { name: 'HEAD without a token', method: 'HEAD', path: '/v1/data/app' },
  { name: 'HEAD as admin', method: 'HEAD', path: '/v1/data/app', token: 'admin-token' },
  { name: 'a path that is not a valid escape, without a token', method: 'GET', path: '/v1/data/%ZZ' },
  { name: 'blocked token: the policy gives a reason', method: 'GET', path: '/v1/data', token: 'blocked-token' },
  { name: 'an object decision without "allowed"', method: 'GET', path: '/v1/data', token: 'shapeless-token' },
  { name: 'a decision that is neither true nor {"allowed": true}', method: 'GET', path: '/v1/data', token: 'number-token' },
  { name: 'Bearer with two spaces is still the token', method: 'GET', path: '/v1/data/app', authorization: 'Bearer  reader-token' },
  { name: 'lower-case bearer is no token', method: 'GET', path: '/v1/data/app', authorization: 'bearer reader-token' },
  { name: 'Basic credentials are no token', method: 'GET', path: '/v1/data/app', authorization: 'Basic cmVhZGVyOnRva2Vu' },
  { name: 'a token with a trailing word is no token', method: 'GET', path: '/v1/data/app', authorization: 'Bearer reader-token extra' },
  { name: 'an over-long Authorization header is ignored', method: 'GET', path: '/v1/data/app', authorization: `Bearer ${'x'.repeat(8200)}` },
  { name: 'input: path, params and headers', method: 'GET', path: '/v1/data/a%2Fb/c%20d?x=1&x=2&y&z=a+b', token: 'echo-token', headers: { 'X-Trace': 'abc', 'x-lower': 'v' } },
  { name: 'input: root path', method: 'GET', path: '/', token: 'echo-token' },
  { name: 'input: decision body is parsed', method: 'POST', path: '/v1/data/app/allow', token: 'echo-token', body: input('alice'), headers: { 'Content-Type': 'application/json' } },
  { name: 'input: YAML decision body', method: 'POST', path: '/v1/data/app/allow', token: 'echo-token', body: 'input:\n  user: alice\n', headers: { 'Content-Type': 'application/x-yaml' } },
  { name: 'input: v0 body', method: 'POST', path: '/v0/data/app/allow', token: 'echo-token', body: '{"user":"bob"}' },
  { name: 'input: default decision body', method: 'POST', path: '/', token: 'echo-token', body: '{"user":"bob"}' },
  { name: 'input: no body read for a data write', method: 'PUT', path: '/v1/data/x', token: 'echo-token', body: '{"a":1}' },
  { name: 'input: empty decision body', method: 'POST', path: '/v1/data/app/allow', token: 'echo-token' },
  { name: 'input: a Verdict route (decision log query)', method: 'GET', path: '/v1/decisions?limit=1', token: 'echo-token' },
];

function request(base: string, c: Case): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  if (c.authorization) headers.Authorization = c.authorization;
  else if (c.token) headers.Authorization = `Bearer ${c.token}`;
  return send(base, c.method, c.path, c.body, headers);
}

function comparable(res: RawResponse, c: Case): unknown {
  if (c.statusOnly) return { status: res.status };
  const text = res.body.toString();
  if (c.codeOnly) return { status: res.status, code: JSON.parse(text).code };
  return { status: res.status, body: text };
}

test('at least 40 cases', () => {
  assert.ok(cases.length >= 40, `${cases.length} cases`);
});

test('every request is answered as OPA answers it', async (t) => {
  for (const c of cases) {
    await t.test(c.name, async () => {
      const want = await request(opaUrl, c);
      const got = await request(verdictUrl, c);
      assert.deepEqual(comparable(got, c), comparable(want, c), `${c.method} ${c.path}`);
    });
  }
});

test('without a system.authz policy every request is refused (500), as OPA does: closed, not open', async () => {
  const dir = writeTree({ '.manifest': JSON.stringify({ revision: 'none', roots: ['app'] }), 'app/app.rego': app });
  const [opaPort, verdictPort] = await Promise.all([freePort(), freePort()]);
  const flags = ['--authentication=token', '--authorization=basic', '--log-level', 'error'];
  const servers = [spawnServer('opa', [...flags, '--addr', `127.0.0.1:${opaPort}`, '-b', dir]), spawnServer('verdict', [...flags, '--addr', `127.0.0.1:${verdictPort}`, '-b', dir])];
  const urls = [`http://127.0.0.1:${opaPort}`, `http://127.0.0.1:${verdictPort}`];
  try {
    await Promise.all(servers.map((s, i) => waitUntil(s, async () => (await send(urls[i], 'GET', '/health')).status === 500)));
    const requests: Case[] = [
      { name: 'health', method: 'GET', path: '/health' },
      { name: 'decision', method: 'POST', path: '/v1/data/app/allow', token: 'admin-token', body: input('alice') },
      { name: 'policy upload that would add an authz policy', method: 'PUT', path: '/v1/policies/open', body: 'package system.authz\n\nallow := true\n' },
      { name: 'data write that would define the decision', method: 'PUT', path: '/v1/data/system/authz/allow', body: 'true' },
    ];
    for (const c of requests) {
      const [want, got] = await Promise.all(urls.map((u) => request(u, c)));
      assert.deepEqual(comparable(got, c), comparable(want, c), c.name);
      assert.equal(got.status, 500, c.name);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
});

test('an authz policy that does not compile stops start-up, as OPA does', async () => {
  const dir = writeTree({ '.manifest': JSON.stringify({ revision: 'bad', roots: ['system'] }), 'system/authz.rego': 'package system.authz\n\nallow if {\n' });
  const flags = ['--authentication=token', '--authorization=basic', '--addr', '127.0.0.1:0'];
  const [opaRun, verdictRun] = await Promise.all([expectStartFailure('opa', [...flags, '-b', dir]), expectStartFailure('verdict', [...flags, '-b', dir])]);
  assert.notEqual(opaRun.code, 0);
  assert.notEqual(verdictRun.code, 0);
  assert.match(verdictRun.output, /authz\.rego/);
});
