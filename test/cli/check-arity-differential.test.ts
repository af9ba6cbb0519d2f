// A call with more or fewer operands than its function takes is a type error, reported as OPA reports it: for a
// builtin, "arity mismatch" with the operand types (a call inside a term gets an output of its own, shown as ???);
// for a function of the policy, its arity and the count of arguments. A call written as an expression may add
// one operand, the output it is compared with. Compared as text: the JSON form of a builtin's declaration carries
// OPA's prose descriptions of its arguments, which Verdict does not keep.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeTree } from '../server/harness.js';
import { runBoth } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

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
  // Arities are checked before safety and recursion: a call of the wrong arity reading its own package is that.
  'q := count(data.p, 1)',
  'q if {\n  x := count(data.p, 1)\n}',
  'f(x) := x\n\nq := f(data.p, 1)',
  'q if {\n  x := count(1, 2)\n  y > 1\n}',
  'q if {\n  x := count(1, 2)\n  foo(1)\n}',
  'q if {\n  count(data.p, 1)\n}',
];

describe('opa and verdict agree on calls with the wrong number of operands', sideBySide, () => {
  calls.forEach((rules, i) => {
    it(`check: ${rules.replaceAll('\n', '; ')}`, async () => {
      const dir = writeTree({ [`m${i}.rego`]: `package p\n\n${rules}\n` });
      const { theirs, ours } = await runBoth(['check', `m${i}.rego`], dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.equal(ours.stderr, theirs.stderr);
      assert.equal(ours.stdout, theirs.stdout);
    });
  });
});

// OPA checks arities before types, with the expression's variables untyped: an operand that is a variable, a ref
// below one or a nested call shows as ???, a ref into input or data as any, inside arrays and objects too, and
// long types are elided at their own width. Where any call has the wrong arity, nothing else is reported.
const operands = [
  'q := 1\n  count(q, 1, 2)',
  'q := {"a": 1}\n  count([q, {"a": q}, {q}, {q: 1}], q.a, 2)',
  'count({1, input.x, "a"}, {input.y: 1, "a": 2}, {"b": data.q, "a": upper("x")})',
  'count([x | x := 1], input.a, data.q.r)',
  'count({"aaaaaaaaa": 1}, {"aaaaaaaaaaaaaaaaaaaaaaaaaaaa": 1, "b": "x"}, {"aaaaaaaaaaaaa": 1, "b": 2, "c": 3})',
  'strings.replace_n({"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": "b"}, "x", 1, 2)',
  'upper(1)\n  count(1, 2, 3)',
  'x := [y | y := "a"; upper(1); count(y, 1, 2)]',
];

// In an `every` body OPA reports calls of the wrong arity only, and what the comprehensions in it hold: the
// body's own variables are untyped, those of the rule before it keep their types in the comprehensions.
const everyBodies = [
  'every x in [1, 2] {\n    x\n    upper(1)\n    1 == "a"\n    {"a": 1}.c\n  }',
  'every x in [1, 2] {\n    z := 1\n    count(z, x, 2)\n    count(1, 2, 3)\n  }',
  'every x in [1, 2] {\n    y := [count(1, 2)]\n    not upper("a", "b", "c")\n    x == y\n  }',
  'every x in [1] {\n    every y in [2] {\n      count(1)\n      g := f(1, 2)\n      x == y\n    }\n  }',
  'q := 1\n  every x in [1] {\n    z := 1\n    [y | y := upper(q)]\n    [y | y := upper(z)]\n    [y | y := upper(x)]\n  }',
  'every x in [1] {\n    x\n    count([]) with count as upper\n  }',
];

describe('opa and verdict agree on the operands of a call of the wrong arity and on every bodies', sideBySide, () => {
  [...operands, ...everyBodies].forEach((body, i) => {
    it(`check: ${body.replaceAll('\n', '; ')}`, async () => {
      const dir = writeTree({ [`b${i}.rego`]: `package p\n\nf(a) := a\n\nr if {\n  ${body}\n}\n\ns if upper(2)\n` });
      const { theirs, ours } = await runBoth(['check', `b${i}.rego`], dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.equal(ours.stderr, theirs.stderr);
      assert.equal(ours.stdout, theirs.stdout);
    });
  });
});
