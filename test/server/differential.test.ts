// The differential API test: the same bundle and the same requests sent to the reference OPA
// (`opa run --server`, serving the Rego source) and to Verdict (serving the same bundle built with
// `opa build -t wasm`). Status codes and bodies must match, except for the documented differences
// (docs/server.md): decision ids, metric timings, the wording of JSON/YAML parser errors, and
// bundle names (each server names a bundle by the path it was loaded from).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWasmBundle } from '../engine/opa-fixture.js';
import { send, startOpa, startVerdict, writeTree, type OpaServer, type RawResponse } from './harness.js';
import type { RunningServer } from '../../src/server/start.js';

const policy = `package authz

default allow := false

allow if input.user in data.people.admins

reasons contains "not an admin" if not input.user in data.people.admins

reasons contains "no user given" if not input.user

maybe := true if input.flag

exact if input.n == 12345678901234567891
`;

const config = `
default_decision: /authz/allow
server:
  decoding:
    max_length: 4096
    gzip:
      max_length: 8192
`;

let opa: OpaServer;
let verdict: RunningServer;
let sourceDir: string;
let wasmBundle: string;

before(async () => {
  sourceDir = writeTree({
    '.manifest': JSON.stringify({ revision: 'diff-1', roots: ['authz', 'people'] }),
    'authz/policy.rego': policy,
    'people/data.json': JSON.stringify({ admins: ['alice', 'carol'] }),
  });
  const configFile = join(sourceDir, '..', `${sourceDir.split('/').pop()}-config.yaml`);
  writeFileSync(configFile, config);
  wasmBundle = buildWasmBundle(sourceDir, ['authz/allow', 'authz/reasons', 'authz/maybe', 'authz/exact']);
  [opa, verdict] = await Promise.all([startOpa(configFile, [sourceDir]), startVerdict(config, [wasmBundle])]);
});

after(async () => {
  await Promise.all([opa?.stop(), verdict?.close()]);
});

interface Case {
  name: string;
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Compare only the error envelope's code and the message up to and including this prefix. */
  messagePrefix?: string;
  /** Compare the raw bytes too (layout, trailing newline). */
  raw?: boolean;
}

const gateway = (user: string) => JSON.stringify({ input: { user } });
const big = JSON.stringify({ input: { pad: 'x'.repeat(5000) } });

// Order matters for the data-write cases: each builds on the previous one.
const cases: Case[] = [
  { name: 'allowed decision', method: 'POST', path: '/v1/data/authz/allow', body: gateway('alice'), raw: true },
  { name: 'denied decision', method: 'POST', path: '/v1/data/authz/allow', body: gateway('mallory') },
  { name: 'set result', method: 'POST', path: '/v1/data/authz/reasons', body: JSON.stringify({ input: {} }) },
  { name: 'undefined rule', method: 'POST', path: '/v1/data/authz/maybe', body: gateway('alice'), raw: true },
  { name: 'integers beyond 2^53 reach the policy exactly', method: 'POST', path: '/v1/data/authz/exact', body: '{"input":{"n":12345678901234567891}}' },
  { name: 'the same with whitespace around the input', method: 'POST', path: '/v1/data/authz/exact', body: ' { "input" : {"n":12345678901234567891} } \n' },
  { name: 'and as the v0 body', method: 'POST', path: '/v0/data/authz/exact', body: '{"n":12345678901234567891}' },
  { name: 'a near miss stays a miss', method: 'POST', path: '/v1/data/authz/exact', body: '{"input":{"n":12345678901234567890}}' },
  { name: 'an input key next to others', method: 'POST', path: '/v1/data/authz/allow', body: '{"input":{"user":"alice"},"other":1}' },
  { name: 'unknown path', method: 'POST', path: '/v1/data/authz/nope', body: gateway('alice') },
  { name: 'missing input key', method: 'POST', path: '/v1/data/authz/allow', body: '{}', raw: true },
  { name: 'empty body', method: 'POST', path: '/v1/data/authz/allow', body: '' },
  { name: 'null body', method: 'POST', path: '/v1/data/authz/allow', body: 'null' },
  { name: 'non-object input', method: 'POST', path: '/v1/data/authz/allow', body: '{"input":5}' },
  { name: 'string input', method: 'POST', path: '/v1/data/authz/allow', body: '{"input":"alice"}' },
  { name: 'malformed JSON', method: 'POST', path: '/v1/data/authz/allow', body: '{"input":' },
  { name: 'array body', method: 'POST', path: '/v1/data/authz/allow', body: '[1]' },
  { name: 'string body', method: 'POST', path: '/v1/data/authz/allow', body: '"alice"' },
  { name: 'number body', method: 'POST', path: '/v1/data/authz/allow', body: '12345678901234567890' },
  { name: 'boolean body', method: 'POST', path: '/v1/data/authz/allow', body: 'true' },
  { name: 'YAML body', method: 'POST', path: '/v1/data/authz/allow', body: 'input:\n  user: carol\n', headers: { 'Content-Type': 'application/x-yaml' } },
  { name: 'YAML indented with a tab', method: 'POST', path: '/v1/data/authz/allow', body: 'input:\n\tuser: carol\n', headers: { 'Content-Type': 'application/yaml' } },
  { name: 'malformed YAML', method: 'POST', path: '/v1/data/authz/allow', body: 'input: [\n', headers: { 'Content-Type': 'application/yaml' } },
  { name: 'text/plain content type is read as JSON', method: 'POST', path: '/v1/data/authz/allow', body: gateway('alice'), headers: { 'Content-Type': 'text/plain' } },
  { name: 'pretty', method: 'POST', path: '/v1/data/authz/allow?pretty', body: gateway('alice'), raw: true },
  { name: 'pretty=false and unknown parameters', method: 'POST', path: '/v1/data/authz/allow?pretty=false&foo=bar', body: gateway('alice'), raw: true },
  { name: 'GET with input parameter', method: 'GET', path: `/v1/data/authz/allow?input=${encodeURIComponent('{"user":"carol"}')}` },
  { name: 'GET with malformed input parameter', method: 'GET', path: '/v1/data/authz/allow?input=%7Bbad' },
  { name: 'GET with the input parameter repeated: the last counts', method: 'GET', path: `/v1/data/authz/allow?input=${encodeURIComponent('{"user":"mallory"}')}&input=${encodeURIComponent('{"user":"carol"}')}` },
  { name: 'GET with an empty input parameter', method: 'GET', path: '/v1/data/authz/allow?input=' },
  { name: 'GET with a blank input parameter', method: 'GET', path: '/v1/data/authz/allow?input=%20%0A' },
  { name: 'GET with text after the input parameter\'s document', method: 'GET', path: `/v1/data/authz/allow?input=${encodeURIComponent('{"user":"carol"} x')}` },
  { name: 'GET with a second document after the input parameter\'s', method: 'GET', path: `/v1/data/authz/allow?input=${encodeURIComponent('{"user":"carol"} {}')}` },
  { name: 'GET with null after the input parameter\'s document', method: 'GET', path: `/v1/data/authz/allow?input=${encodeURIComponent('{"user":"carol"} null')}` },
  { name: 'GET base data', method: 'GET', path: '/v1/data/people/admins' },
  { name: 'GET package composes rules', method: 'GET', path: `/v1/data/authz?input=${encodeURIComponent('{"user":"alice","flag":true}')}` },
  { name: 'GET array element', method: 'GET', path: '/v1/data/people/admins/1' },
  { name: 'body over max_length', method: 'POST', path: '/v1/data/authz/allow', body: big },
  { name: 'gzip body', method: 'POST', path: '/v1/data/authz/allow', body: gzipSync(gateway('alice')), headers: { 'Content-Encoding': 'gzip' } },
  { name: 'gzip over gzip max_length', method: 'POST', path: '/v1/data/authz/allow', body: gzipSync(JSON.stringify({ input: 'y'.repeat(10000) })), headers: { 'Content-Encoding': 'gzip' } },
  { name: 'small response is not gzipped', method: 'POST', path: '/v1/data/authz/allow', body: gateway('alice'), headers: { 'Accept-Encoding': 'gzip' }, raw: true },
  { name: 'HEAD is not allowed', method: 'HEAD', path: '/v1/data' },
  { name: 'OPTIONS is not allowed', method: 'OPTIONS', path: '/v1/data/authz' },
  { name: 'DELETE of all data is not allowed', method: 'DELETE', path: '/v1/data' },
  { name: 'GET on v0 is not allowed', method: 'GET', path: '/v0/data/authz/allow' },
  { name: 'write inside a bundle root', method: 'PUT', path: '/v1/data/authz/x', body: '1' },
  { name: 'write to the root', method: 'PUT', path: '/v1/data', body: '{}' },
  { name: 'malformed write', method: 'PUT', path: '/v1/data/extra/x', body: '{bad', messagePrefix: '' },
  { name: 'write outside the roots', method: 'PUT', path: '/v1/data/extra/x', body: '1' },
  { name: 'read back', method: 'GET', path: '/v1/data/extra' },
  { name: 'create-only write of an existing document', method: 'PUT', path: '/v1/data/extra/x', body: '2', headers: { 'If-None-Match': '*' } },
  { name: 'YAML write is refused: writes are JSON only', method: 'PUT', path: '/v1/data/extra/y', body: 'a: [1, 2]\n', headers: { 'Content-Type': 'application/yaml' }, messagePrefix: '' },
  { name: 'write of a nested document', method: 'PUT', path: '/v1/data/extra/y', body: '{"a":[1,2]}' },
  { name: 'patch add', method: 'PATCH', path: '/v1/data/extra', body: '[{"op":"add","path":"/z","value":3}]' },
  { name: 'patch replace into an array', method: 'PATCH', path: '/v1/data/extra/y/a', body: '[{"op":"replace","path":"/0","value":9}]' },
  { name: 'patch remove of a missing key', method: 'PATCH', path: '/v1/data/extra', body: '[{"op":"remove","path":"/nope"}]' },
  { name: 'patch with an unsupported op', method: 'PATCH', path: '/v1/data/extra', body: '[{"op":"move","path":"/z"}]' },
  // The body as Go's encoding/json fills []PatchV1: a null body or operation, member names in any case, wrong types.
  { name: 'patch with a null body', method: 'PATCH', path: '/v1/data/extra', body: 'null' },
  { name: 'patch with an object body', method: 'PATCH', path: '/v1/data/extra', body: '{"op":"add","path":"/q","value":1}' },
  { name: 'patch with a number for an operation', method: 'PATCH', path: '/v1/data/extra', body: '[1]' },
  { name: 'patch with a null operation', method: 'PATCH', path: '/v1/data/extra', body: '[null]' },
  { name: 'patch with a number for op', method: 'PATCH', path: '/v1/data/extra', body: '[{"op":1,"path":"/q"}]' },
  { name: 'patch with a number for path', method: 'PATCH', path: '/v1/data/extra', body: '[{"op":"add","path":1}]' },
  { name: 'patch with member names in another case', method: 'PATCH', path: '/v1/data/extra', body: '[{"OP":"add","Path":"/w","VALUE":4}]' },
  { name: 'patch path without its leading slash', method: 'PATCH', path: '/v1/data/extra', body: '[{"op":"add","path":"v","value":5}]' },
  // Array indexes: past the end is not found, the end itself (or -) an invalid path for remove and replace.
  { name: 'patch add past the end of an array', method: 'PATCH', path: '/v1/data/extra/y/a', body: '[{"op":"add","path":"/5","value":1}]' },
  { name: 'patch add at a negative index', method: 'PATCH', path: '/v1/data/extra/y/a', body: '[{"op":"add","path":"/-1","value":1}]' },
  { name: 'patch add at a non-integer index', method: 'PATCH', path: '/v1/data/extra/y/a', body: '[{"op":"add","path":"/x","value":1}]' },
  { name: 'patch replace at the end of an array', method: 'PATCH', path: '/v1/data/extra/y/a', body: '[{"op":"replace","path":"/2","value":1}]' },
  { name: 'patch remove at -', method: 'PATCH', path: '/v1/data/extra/y/a', body: '[{"op":"remove","path":"/-"}]' },
  { name: 'patch remove past the end of an array', method: 'PATCH', path: '/v1/data/extra/y/a', body: '[{"op":"remove","path":"/7"}]' },
  { name: 'read back after patches', method: 'GET', path: '/v1/data/extra' },
  { name: 'delete', method: 'DELETE', path: '/v1/data/extra/x' },
  { name: 'delete of a missing document', method: 'DELETE', path: '/v1/data/extra/x' },
  { name: 'delete inside a bundle root', method: 'DELETE', path: '/v1/data/people' },
  { name: 'v0 decision', method: 'POST', path: '/v0/data/authz/allow', body: '{"user":"alice"}', raw: true },
  { name: 'v0 with empty body', method: 'POST', path: '/v0/data/authz/allow', body: '' },
  { name: 'v0 missing document', method: 'POST', path: '/v0/data/nothing/here', body: '{}' },
  { name: 'v0 undefined rule', method: 'POST', path: '/v0/data/authz/maybe', body: '{}' },
  { name: 'v0 malformed body', method: 'POST', path: '/v0/data/authz/allow', body: '{bad' },
  { name: 'default decision', method: 'POST', path: '/', body: '{"user":"carol"}' },
  { name: 'health', method: 'GET', path: '/health', raw: true },
  { name: 'HEAD on health', method: 'HEAD', path: '/health' },
  { name: 'POST on health', method: 'POST', path: '/health', body: '{}', raw: true },
  { name: 'POST on config', method: 'POST', path: '/v1/config', body: '{}', raw: true },
  { name: 'PUT on the default decision', method: 'PUT', path: '/', body: '{}', raw: true },
  { name: 'HEAD on the default decision', method: 'HEAD', path: '/' },
  { name: 'health with bundles', method: 'GET', path: '/health?bundles' },
  { name: 'health with plugins', method: 'GET', path: '/health?plugins' },
  { name: 'status without the status plugin', method: 'GET', path: '/v1/status', raw: true },
  { name: 'unknown policy', method: 'GET', path: '/v1/policies/nope' },
  { name: 'policy PUT', method: 'PUT', path: '/v1/policies/extra', body: 'package extra\n\nanswer := 42\n', raw: true },
  { name: 'policy is evaluated', method: 'POST', path: '/v1/data/extra/answer', body: '{}' },
  { name: 'policy PUT inside a bundle root', method: 'PUT', path: '/v1/policies/intruder', body: 'package authz.sub\n\np := 1\n' },
  // Parse errors in full, details included: the term's error and the rule head's, as OPA reports them.
  { name: 'policy PUT that does not parse', method: 'PUT', path: '/v1/policies/broken', body: 'package broken\n\np := \n' },
  { name: 'policy PUT cut off inside an array', method: 'PUT', path: '/v1/policies/broken', body: 'package broken\n\np := [1,\n' },
  { name: 'policy PUT with an unterminated string', method: 'PUT', path: '/v1/policies/broken', body: 'package broken\n\np := "abc\nq := 1\n' },
  { name: 'policy DELETE', method: 'DELETE', path: '/v1/policies/extra', raw: true },
  { name: 'deleted policy is gone', method: 'POST', path: '/v1/data/extra/answer', body: '{}' },
  { name: 'policy DELETE of an unknown id', method: 'DELETE', path: '/v1/policies/extra' },
  { name: 'unknown route', method: 'GET', path: '/nope', raw: true },
  { name: 'trailing slash on GET is redirected', method: 'GET', path: '/v1/data/people/admins/?pretty', raw: true },
  { name: 'trailing slash on POST is redirected', method: 'POST', path: '/v1/data/authz/allow/', body: gateway('alice'), raw: true },
  { name: 'double slashes are redirected to the clean path', method: 'GET', path: '/v1/data//people//admins?pretty', raw: true },
  { name: 'undecodable percent-escape', method: 'GET', path: '/v1/data/%zz', raw: true },
  { name: 'undecodable percent-escape in a policy id', method: 'GET', path: '/v1/policies/%', raw: true },
];

/** Each server names its bundle after the path it loaded; compare with a neutral name. */
function normalise(text: string): string {
  return text.split(sourceDir).join('<bundle>').split(wasmBundle).join('<bundle>');
}

function parsed(res: RawResponse): unknown {
  const text = normalise(res.body.toString('utf8'));
  if (!(res.headers['content-type'] ?? '').includes('application/json')) return text;
  const value = JSON.parse(text) as Record<string, unknown>;
  delete value.decision_id;
  return value;
}

for (const c of cases) {
  test(`same answer as OPA: ${c.name}`, async () => {
    const theirs = await send(opa.url, c.method, c.path, c.body, c.headers);
    const ours = await send(verdict.url, c.method, c.path, c.body, c.headers);
    assert.equal(ours.status, theirs.status, `status for ${c.method} ${c.path}: OPA said ${theirs.status} ${theirs.body}`);
    assert.equal(ours.headers['content-encoding'], theirs.headers['content-encoding']);
    assert.equal(ours.headers.location, theirs.headers.location);
    assert.equal(String(ours.headers['content-type'] ?? '').split(';')[0], String(theirs.headers['content-type'] ?? '').split(';')[0]);
    if (c.messagePrefix !== undefined) {
      const [o, t] = [parsed(ours), parsed(theirs)] as { code: string; message: string }[];
      assert.equal(o.code, t.code);
      assert.ok(t.message.startsWith(c.messagePrefix), `OPA's message ${t.message}`);
      assert.ok(o.message.startsWith(c.messagePrefix) && o.message.length > c.messagePrefix.length, `our message ${o.message}`);
      return;
    }
    assert.deepEqual(parsed(ours), parsed(theirs));
    if (c.raw) assert.equal(normalise(ours.body.toString()), normalise(theirs.body.toString()));
  });
}

// OPA v1.22.2 panics on a body that is not gzip (nil reader closed in ReadMaybeCompressedBody) and drops
// the connection; Verdict answers 400 in Go's gzip words (a documented difference).
test('a body that is not gzip gets 400, and the server keeps serving', async () => {
  for (const [body, reason] of [['notgzip', 'unexpected EOF'], ['not gzip at all, but longer than a header', 'gzip: invalid header']]) {
    const res = await send(verdict.url, 'POST', '/v1/data/authz/allow', body, { 'Content-Encoding': 'gzip' });
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body.toString()), { code: 'invalid_parameter', message: `could not decompress the body: ${reason}` });
  }
  assert.equal((await send(verdict.url, 'POST', '/v1/data/authz/allow', gateway('alice'))).status, 200);
});

test('same answer as OPA: metrics and provenance are present with the same shape', async () => {
  const path = '/v1/data/authz/allow?metrics&provenance';
  const [theirs, ours] = await Promise.all([send(opa.url, 'POST', path, gateway('alice')), send(verdict.url, 'POST', path, gateway('alice'))]);
  const t = JSON.parse(theirs.body.toString()) as Record<string, Record<string, unknown>>;
  const o = JSON.parse(ours.body.toString()) as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(o), Object.keys(t));
  for (const key of ['timer_rego_query_eval_ns', 'timer_server_handler_ns']) assert.equal(typeof o.metrics[key], 'number');
  assert.deepEqual(Object.keys(o.provenance).sort(), Object.keys(t.provenance).sort());
  assert.deepEqual(Object.values(o.provenance.bundles as object), Object.values(t.provenance.bundles as object));
});

test('same answer as OPA: with no bundle, provenance names none (no bundles member)', async () => {
  const dir = writeTree({ 'config.yaml': '{}\n' });
  const [bare, ourBare] = await Promise.all([startOpa(join(dir, 'config.yaml'), []), startVerdict('{}', [])]);
  try {
    const [theirs, ours] = await Promise.all([send(bare.url, 'GET', '/v1/data?provenance'), send(ourBare.url, 'GET', '/v1/data?provenance')]);
    const keys = (r: RawResponse) => Object.keys((JSON.parse(r.body.toString()) as { provenance: object }).provenance).sort();
    assert.deepEqual(keys(theirs), ['build_commit', 'build_hostname', 'build_timestamp', 'version']);
    assert.deepEqual(keys(ours), keys(theirs));
  } finally {
    await bare.stop();
    await ourBare.close();
  }
});

test('same answer as OPA: bundle manifest revision and roots under data.system.bundles', async () => {
  const [theirs, ours] = await Promise.all([send(opa.url, 'GET', '/v1/data/system/bundles'), send(verdict.url, 'GET', '/v1/data/system/bundles')]);
  const pick = (r: RawResponse) =>
    Object.values((JSON.parse(r.body.toString()) as { result: Record<string, { manifest: { revision: string; roots: string[] } }> }).result).map((b) => ({
      revision: b.manifest.revision,
      roots: b.manifest.roots,
    }));
  assert.deepEqual(pick(ours), pick(theirs));
});

test('same answer as OPA: /v1/config has the same keys and defaults (labels.id and version differ by design)', async () => {
  const [theirs, ours] = await Promise.all([send(opa.url, 'GET', '/v1/config'), send(verdict.url, 'GET', '/v1/config')]);
  const t = JSON.parse(theirs.body.toString()).result;
  const o = JSON.parse(ours.body.toString()).result;
  assert.deepEqual(Object.keys(o).sort(), Object.keys(t).sort());
  assert.deepEqual(Object.keys(o.labels).sort(), Object.keys(t.labels).sort());
  assert.equal(o.default_decision, t.default_decision);
  assert.equal(o.default_authorization_decision, t.default_authorization_decision);
  assert.deepEqual(o.server, t.server);
});

test('same answer as OPA: /v1/config writes every object with its keys in order, as OPA does', async () => {
  const [theirs, ours] = await Promise.all([send(opa.url, 'GET', '/v1/config?pretty'), send(verdict.url, 'GET', '/v1/config?pretty')]);
  // The labels OPA sets itself (a random id, its version) are the only values that differ by design.
  const text = (r: RawResponse) => r.body.toString().replace(/("(id|version)": )"[^"]*"/g, '$1"…"');
  assert.equal(text(ours), text(theirs));
});
