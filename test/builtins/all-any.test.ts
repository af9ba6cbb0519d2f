// all and any (deprecated, Rego v0 only) against the reference OPA in v0 mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hostBuiltins } from '../../src/builtins/index.js';
import { referenceOpa } from '../engine/opa-fixture.js';
import { regoSet } from '../../src/builtins/rego-value.js';

const OPERANDS: Array<[string, unknown]> = [
  ['[]', []],
  ['set()', regoSet([])],
  ['[true, true]', [true, true]],
  ['{false, true}', regoSet([false, true])],
  ['[{}, "", true, 123]', [{}, '', true, 123]],
  ['[false]', [false]],
];

test('all and any answer as OPA v0 does for arrays and sets', () => {
  const query = `x := [[all(o), any(o)] | o := [${OPERANDS.map(([rego]) => rego).join(', ')}][_]]`;
  const out = execFileSync(referenceOpa(), ['eval', '--v0-compatible', '--format', 'json', query], { encoding: 'utf8' });
  const want = (JSON.parse(out) as { result: Array<{ bindings: { x: unknown } }> }).result[0]!.bindings.x;
  const ours = OPERANDS.map(([, v]) => [hostBuiltins.all!(v), hostBuiltins.any!(v)]);
  assert.deepEqual(ours, want);
  assert.equal(hostBuiltins.all!('not a collection'), undefined);
});
