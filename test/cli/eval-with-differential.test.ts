// `with` on an expression that has a value of its own (a term, a reference, a comprehension, a call), against the
// real OPA: `opa eval` reports the expression's value with the modifier in force, not `true`, and a false value
// alone in a query is reported as false. The same expressions in rule bodies must give the same document.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeTree } from '../server/harness.js';
import { sideBySide } from './command-runs.js';
import { runBoth } from './opa-differential.js';

const policy = `package t

h := 1

a if { 1 with input as 2 }
b if { false with input as 2 }
c := v if { v := input.x with input as {"x": 3} }
d := v if { v := count([1]) with count as 7 }
f if { input with input as false }
g := v if { v := data.t.h with data.t.h as 9 }
i if { count([1]) with input as 2 }
k := v if { v := [x | x := input[_]] with input as [1] }
l if { data.t.h with data.t.h as false }
`;

const queries = [
  '1 with input as 2',
  '"a" with input as 2',
  'input.x with input as {"x": 3}',
  'input.x with input as {}',
  '[x | x := input[_]] with input as [1, 2]',
  '{x | x := input[_]} with input as [1, 2]',
  'count([1]) with input as 2',
  'count(input) with input as [1, 2, 3]',
  '1 + 2 with input as 1',
  'input == 2 with input as 2',
  'count([1]) with count as 7',
  'x := 1 with input as 2',
  'x := input with input as 2',
  'data.t.h with data.t.h as 5',
  'data.t.h with input as 5',
  'data.t with data.t.h as 5',
  'input with input as false',
  'input with input as false; true',
  'true; input.x with input as {"x": [1]}',
  'not input.x with input as {}',
  'input.a with input.a as 1 with data.t.h as 2',
];

describe('opa eval and verdict eval agree on expressions under `with`', sideBySide, () => {
  const dir = writeTree({ 't.rego': policy });
  for (const q of queries) {
    it(q, async () => {
      const { theirs, ours } = await runBoth(['eval', '-d', 't.rego', '-f', 'json', q], dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.deepEqual(JSON.parse(ours.stdout), JSON.parse(theirs.stdout));
    });
  }
  it('in rule bodies', async () => {
    const { theirs, ours } = await runBoth(['eval', '-d', 't.rego', '-f', 'json', 'data.t'], dir);
    assert.deepEqual(JSON.parse(ours.stdout), JSON.parse(theirs.stdout));
  });
});
