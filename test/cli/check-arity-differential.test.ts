// A call with more or fewer operands than its function takes is a type error, reported as OPA reports it: for a
// builtin, "arity mismatch" with the operand types (a call inside a term gets an output of its own, shown as ???);
// for a function of the policy, its arity and the count of arguments. A call written as an expression may add
// one operand, the output it is compared with. Compared as text: the JSON form of a builtin's declaration carries
// OPA's prose descriptions of its arguments, which Verdict does not keep.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeTree } from '../server/harness.js';
import { runBoth } from './opa-differential.js';

const calls = [
  's := count([1], 2)',
  'r := time.now_ns(1)',
  'g if count()',
  'h := count()',
  'k if {\n  count([1], 1, 2)\n}',
  'v := sprintf("%d")',
  'w if {\n  x := time.now_ns()\n  time.now_ns(x)\n}',
  'u if {\n  count([1], 1)\n}',
  'f(x) := x\n\ns := f(1, 2)',
  'f(x) := x\n\nt if f(1, 2, 3)',
  'f(x) := x\n\nu if f(1, 2)',
  'f(x) := x\n\ng if f()\n\nh := f()',
  'm := [y | y := upper("a", "b", "c")]',
];

describe('opa and verdict agree on calls with the wrong number of operands', () => {
  calls.forEach((rules, i) => {
    it(`check: ${rules.replaceAll('\n', '; ')}`, () => {
      const dir = writeTree({ [`m${i}.rego`]: `package p\n\n${rules}\n` });
      const { theirs, ours } = runBoth(['check', `m${i}.rego`], dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.equal(ours.stderr, theirs.stderr);
      assert.equal(ours.stdout, theirs.stdout);
    });
  });
});
