// Data loaded into a module built by Verdict keeps nothing of its JSON text: the values stand alone (the
// memory the text was written to can be reused), they print exactly as the text was written, and pieces whose
// values need more room than first given are parsed again with more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmPolicy } from '../../src/engine/wasm-host.js';
import { compilePlan } from '../../src/wasm/compile.js';
import { planRego } from '../../src/compiler/compile-rego.js';
import { verdictBuiltins, verdictDeprecated } from '../../src/compiler/builtins.js';
import { EMPTY_PLAN, readCString } from './module-helper.js';

const encoder = new TextEncoder();

function load(pieces: { path: string[]; json: string }[]): { policy: WasmPolicy; dump: () => string } {
  const policy = new WasmPolicy(new WebAssembly.Module(new Uint8Array(compilePlan(EMPTY_PLAN))), {});
  policy.beginData();
  for (const piece of pieces) policy.addData({ path: piece.path, json: encoder.encode(piece.json) });
  policy.endData();
  const dump = () => readCString(policy.mem, (policy.wasmInstance.exports.opa_json_dump as (v: number) => number)(policy.dataAddr));
  return { policy, dump };
}

/** Overwrites every byte of linear memory above the data document. */
function scribbleAboveData(policy: WasmPolicy): void {
  new Uint8Array(policy.mem.buffer).fill(0x7b, policy.dataHeapPtr);
}

test('loaded data keeps nothing of its text: the memory above the document can be overwritten', () => {
  const users = Object.fromEntries(
    Array.from({ length: 300 }, (_, i) => [`u${i}`, { name: `user-${i}`, roles: ['reader', i % 7 === 0 ? 'admin' : 'dev'], quota: i * 3, ratio: '1.50', big: 0, esc: 'a"b\\u00e9' }]),
  );
  const text = JSON.stringify({ users }).replace(/"big":0/g, '"big":123456789012345678901234567890').replace(/"ratio":"1.50"/g, '"ratio":1.50');
  const { policy, dump } = load([
    { path: [], json: '{}' },
    { path: ['team'], json: text },
    { path: ['n'], json: '[0, -0, 1.0, 1e3, -7, 9223372036854775807]' },
  ]);
  const expected = dump();
  assert.match(expected, /"ratio":1.50/);
  assert.match(expected, /"big":123456789012345678901234567890/);
  assert.match(expected, /"n":\[0,-0,1.0,1e3,-7,9223372036854775807\]/);
  scribbleAboveData(policy);
  assert.equal(dump(), expected);
});

test('records of users take about their text, a tenth more at most (3.6 times with the text kept and collections grown)', () => {
  const pieces: { path: string[]; json: string }[] = [{ path: [], json: '{"users":{}}' }];
  let text = 0;
  for (let t = 0; t < 50; t++) {
    const team = Object.fromEntries(Array.from({ length: 100 }, (_, u) => [`u${t * 100 + u}`, { name: `user-${t * 100 + u}-1`, roles: ['reader', u % 7 === 0 ? 'admin' : 'dev'], quota: u * 3, active: u % 2 === 0 }]));
    pieces.push({ path: ['users', `t${t}`], json: JSON.stringify(team) });
    text += pieces[pieces.length - 1]!.json.length;
  }
  const { policy } = load(pieces);
  assert.ok(policy.dataBytes < 1.1 * text, `${policy.dataBytes} bytes of values for ${text} of text`);
});

test('a piece whose values need more than the room first given is parsed again with more', () => {
  // One-digit numbers: 2 bytes of text, 28 bytes of values each.
  const zeros = `[${Array.from({ length: 50_000 }, (_, i) => i % 10).join(',')}]`;
  const { policy, dump } = load([
    { path: [], json: '{}' },
    { path: ['a'], json: '{}' },
    { path: ['a', 'z'], json: zeros },
    { path: ['b'], json: '"after"' },
  ]);
  scribbleAboveData(policy);
  assert.equal(dump(), `{"a":{"z":${zeros}},"b":"after"}`);
});

test('collections of any size are made at their size: duplicate keys keep the last value, lookups find every key', () => {
  const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
  const big = `{${keys.map((k, i) => `"${k}":[${i},[],{},[[${i}]]]`).join(',')},"k5":"last","k1999":{"a":1,"a":2}}`;
  const { policy, dump } = load([
    { path: [], json: '{}' },
    { path: ['big'], json: big },
    { path: ['small'], json: '{"b":[1,2,3],"a":{"x":[]},"b":null}' },
  ]);
  scribbleAboveData(policy);
  const expected = JSON.parse(big) as Record<string, unknown>;
  const sorted = Object.fromEntries(Object.keys(expected).sort().map((k) => [k, expected[k]]));
  assert.equal(dump(), JSON.stringify({ big: sorted, small: { a: { x: [] }, b: null } }));
});

test('objects of every size find each of their keys and none other: scanned, bisected and indexed', () => {
  const sizes = [1, 8, 9, 100, 1024, 1025, 5000];
  const data = Object.fromEntries(sizes.map((n) => [`o${n}`, Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${(i * 7919) % n}\u00e9${i % 3 ? '' : '"'}`, i]))]));
  const rego = 'package t\n\nfound := [n | some o, _ in data.d; some k, v in data.d[o]; data.d[o][k] == v; n := 1]\nmissing := [o | some o, _ in data.d; data.d[o][input.absent]]\nfirst := data.d[input.o][input.k]\n';
  const wasm = compilePlan(planRego([{ path: 't.rego', source: rego }], ['t/found', 't/missing', 't/first'], { builtins: verdictBuiltins, deprecated: verdictDeprecated }));
  const policy = new WasmPolicy(new WebAssembly.Module(new Uint8Array(wasm)), {});
  policy.setData({ d: data });
  const total = sizes.reduce((a, b) => a + b, 0);
  const result = (ep: string, input: unknown) => (policy.evaluate(input, ep) as { result: unknown }[])[0]?.result;
  assert.equal((result('t/found', {}) as number[]).length, total);
  assert.deepEqual(result('t/missing', { absent: 'k1' }), []);
  for (const n of sizes) {
    const keys = Object.keys(data[`o${n}`]!);
    for (const k of [keys[0]!, keys[keys.length - 1]!, keys[keys.length >> 1]!]) assert.equal(result('t/first', { o: `o${n}`, k }), data[`o${n}`]![k]);
  }
});

test('evaluation writes nothing into loaded data: iterating, comparing, hashing and printing leave its bytes as they were', () => {
  const data = {
    users: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`u${i}`, { name: `user-${i}`, roles: ['reader', i % 7 === 0 ? 'admin' : 'dev'], n: i % 2 ? i * 1e9 : i / 4 }])),
    small: { b: 1, a: [2, 1], c: { z: 1, y: 2 } },
  };
  const rego = `package t

names := {u.name | some u in data.users}
by_role[r] contains id if {
	some id, u in data.users
	some r in u.roles
}
same if data.small == {"a": [2, 1], "c": {"y": 2, "z": 1}, "b": 1}
sorted := sort([k | some k, _ in data.users])
text := json.marshal(data.small)
member if data.small.c in {data.small.c}
keyed := {data.small.c: 1, data.users.u3.roles: 2}
`;
  const eps = ['t/names', 't/by_role', 't/same', 't/sorted', 't/text', 't/member', 't/keyed'];
  const wasm = compilePlan(planRego([{ path: 't.rego', source: rego }], eps, { builtins: verdictBuiltins, deprecated: verdictDeprecated }));
  const policy = new WasmPolicy(new WebAssembly.Module(new Uint8Array(wasm)), {});
  policy.setData(data);
  const document = () => new Uint8Array(policy.mem.buffer).slice(policy.dataHeapPtr - policy.dataBytes, policy.dataHeapPtr);
  const before = document();
  for (const ep of eps) assert.notEqual((policy.evaluate({}, ep) as unknown[]).length, 0, ep);
  assert.ok(Buffer.from(document()).equals(before), 'the data document changed');
});

test('a loaded object is read-only: opa_value_add_path into it is refused as of an invalid type', () => {
  const { policy, dump } = load([{ path: [], json: '{"a":{"b":1},"e":{}}' }]);
  const exports = policy.wasmInstance.exports as unknown as Record<string, (...args: number[]) => number>;
  const parse = (json: string) => {
    const bytes = encoder.encode(json);
    const at = exports.opa_malloc!(bytes.length);
    new Uint8Array(policy.mem.buffer).set(bytes, at);
    return exports.opa_json_parse!(at, bytes.length);
  };
  assert.equal(exports.opa_value_add_path!(policy.dataAddr, parse('["a","c"]'), parse('2')), 2);
  assert.equal(exports.opa_value_add_path!(policy.dataAddr, parse('["x","c"]'), parse('2')), 2);
  assert.equal(exports.opa_value_remove_path!(policy.dataAddr, parse('["a","b"]')), 2);
  assert.equal(exports.opa_value_add_path!(policy.dataAddr, parse('["e","c"]'), parse('2')), 0);
  assert.equal(dump(), '{"a":{"b":1},"e":{"c":2}}');
});

test('an object of thousands of pieces is made at its size, its keys parsed without leaving a gap among the values', () => {
  const users = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`u${i}`, { active: i % 2 === 0, name: `user-${i}-1`, quota: i * 3, roles: ['reader', i % 7 === 0 ? 'admin' : 'dev'] }]));
  const pieces = [{ path: [], json: '{}' }, { path: ['users'], json: '{}' }, ...Object.entries(users).map(([k, u]) => ({ path: ['users', k], json: JSON.stringify(u) }))];
  const { policy, dump } = load(pieces);
  const text = JSON.stringify({ users });
  scribbleAboveData(policy);
  assert.equal(dump(), JSON.stringify({ users: Object.fromEntries(Object.keys(users).sort().map((k) => [k, users[k]])) }));
  assert.ok(policy.dataBytes < 1.15 * text.length, `${policy.dataBytes} bytes of values for ${text.length} of text`);
});
