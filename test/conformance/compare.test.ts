import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryModule, queryVariables } from '../../scripts/conformance/build.js';
import { sameResultSet } from '../../scripts/conformance/compare.js';
import { regoValueToJson } from '../../scripts/conformance/rego-value.js';

test('result rows compare as a set, numbers by value, like OPA wasm e2e test', () => {
  assert.ok(sameResultSet([{ x: 1 }, { x: 2 }], [{ x: 2 }, { x: 1.0 }, { x: 2 }], false));
  assert.ok(!sameResultSet([{ x: 1 }], [{ x: 1 }, { x: 3 }], false));
  assert.ok(!sameResultSet([{ x: [1, 2] }], [{ x: [2, 1] }], false));
  assert.ok(sameResultSet([{ x: [1, 2] }], [{ x: [2, 1] }], true), 'sort_bindings sorts array values');
  assert.ok(!sameResultSet([{ x: { a: 1 } }], [{ x: { a: 1, b: 2 } }], false));
});

test('Rego value text reads sets as sorted arrays and keeps non-string keys as JSON text', () => {
  assert.deepEqual(regoValueToJson('[{"b", "a"}, set(), {1: {3, 2}}, {}]'), [['a', 'b'], [], { '1': [2, 3] }, {}]);
  assert.deepEqual(regoValueToJson('{"x": [null, true, -1.5e3, "q\\"s"]}'), { x: [null, true, -1500, 'q"s'] });
  assert.throws(() => regoValueToJson('[1,'), /bad Rego value text/);
});

test('the generated query module collects the expected variables in a comprehension', () => {
  const c = { note: 'n', query: 'data.test.p[x] = y', want_result: [{ y: 1, x: 'a' }], input_term: '{"a": {1}}' };
  assert.deepEqual(queryVariables(c), ['x', 'y']);
  assert.equal(
    queryModule(c),
    'package verdict_conformance\n\nbindings := [{"x": x, "y": y} |\ndata.test.p[x] = y\n]\n',
  );
  assert.equal(queryVariables({ note: 'n', query: 'data.x.p', want_defined: true }).length, 0);
});
