// Data loaded into a module built by Verdict keeps nothing of its JSON text: the values stand alone (the
// memory the text was written to can be reused), they print exactly as the text was written, and pieces whose
// values need more room than first given are parsed again with more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmPolicy } from '../../src/engine/wasm-host.js';
import { compilePlan } from '../../src/wasm/compile.js';
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

test('records of users take less than 2.4 times their text (3.6 times with the text kept and collections grown)', () => {
  const pieces: { path: string[]; json: string }[] = [{ path: [], json: '{"users":{}}' }];
  let text = 0;
  for (let t = 0; t < 50; t++) {
    const team = Object.fromEntries(Array.from({ length: 100 }, (_, u) => [`u${t * 100 + u}`, { name: `user-${t * 100 + u}-1`, roles: ['reader', u % 7 === 0 ? 'admin' : 'dev'], quota: u * 3, active: u % 2 === 0 }]));
    pieces.push({ path: ['users', `t${t}`], json: JSON.stringify(team) });
    text += pieces[pieces.length - 1]!.json.length;
  }
  const { policy } = load(pieces);
  assert.ok(policy.dataBytes < 2.4 * text, `${policy.dataBytes} bytes of values for ${text} of text`);
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
