// cloneJson with sorted keys over packed data, as the whole-document GET /v1/data copies it: each packed part is
// parsed from its text, copied sorted and let go, so the copy equals that of the same data unpacked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cloneJson } from '../../src/json/clone.js';
import { packData, packedText } from '../../src/json/packed.js';
import { writeJson } from '../../src/json/writer.js';

test('a sorted copy of packed objects and arrays equals the sorted copy of the same data unpacked', () => {
  const record = (i: number) => ({ zeta: i, name: `user ${i}`, alpha: { y: [{ d: 1, c: 2 }], x: 'x'.repeat(40) } });
  const plain = {
    app: {
      groups: Object.fromEntries(Array.from({ length: 5 }, (_, g) => [`g${4 - g}`, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`u${19 - i}`, record(i)]))])),
      list: Array.from({ length: 30 }, (_, i) => record(i)),
    },
  };
  const packed = packData(structuredClone(plain), 3);
  const app = packed.app as { groups: Record<string, unknown>; list: unknown };
  assert.ok(packedText(app.list) && Object.values(app.groups).every((g) => packedText(g)), 'the parts are packed');
  const copy = cloneJson(packed, { sortKeys: true });
  assert.equal(writeJson(copy), writeJson(cloneJson(plain, { sortKeys: true })));
  assert.ok(writeJson(copy).startsWith('{"app":{"groups":{"g0":{"u0":{"alpha":{"x":"'));
  assert.equal(packedText((copy as typeof packed & { app: { list: unknown } }).app.list), undefined, 'the copy is plain data');
});
