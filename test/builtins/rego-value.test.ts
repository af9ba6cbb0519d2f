// Reading and writing the Rego value text that crosses the host boundary (src/builtins/rego-value.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NumberText, RegoSet, needsValueText, isRegoSet, parseRegoValue, regoSet, regoValueText } from '../../src/builtins/rego-value.js';

test('sets read as RegoSet arrays, objects and non-string keys as JSON would give them', () => {
  const v = parseRegoValue('{"a": {1, [2, 3]}, "b": set(), "c": {1: "x", [1]: "y"}, "d": .5}') as Record<string, unknown>;
  assert.ok(isRegoSet(v.a));
  assert.deepEqual([...(v.a as RegoSet)], [1, [2, 3]]);
  assert.ok(isRegoSet(v.b) && (v.b as RegoSet).length === 0);
  assert.deepEqual(v.c, { '1': 'x', '[1]': 'y' });
  assert.equal(v.d, 0.5);
  assert.equal(isRegoSet(parseRegoValue('[1, 2]')), false);
});

test('a set mapped or filtered is a plain array; only RegoSet values go back as sets', () => {
  const s = regoSet([1, 2]);
  assert.equal(isRegoSet(s.map((x) => x)), false);
  assert.equal(needsValueText({ a: [s] }), true);
  assert.equal(needsValueText({ a: [[1, 2]] }), false);
  assert.equal(needsValueText([new NumberText('1152921504606846976')]), true);
  assert.equal(regoValueText([new NumberText('1152921504606846976'), 1.5]), '[1152921504606846976,1.5]');
  assert.equal(regoValueText({ a: s, b: regoSet([]), c: [1, 'x'] }), '{"a":{1,2},"b":set(),"c":[1,"x"]}');
});

test('number text is kept when asked for: 1.0 is not 1, big integers keep their digits', () => {
  const [a, b, c] = parseRegoValue('[1.0, 123456789123456789123, 2e308]', true) as NumberText[];
  assert.deepEqual([a!.text, b!.text, c!.text], ['1.0', '123456789123456789123', '2e308']);
  assert.deepEqual(parseRegoValue('{1.0: "x"}', true), { '1.0': 'x' });
});
