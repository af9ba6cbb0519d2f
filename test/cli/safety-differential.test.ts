// Safety against the real OPA: a `with` value that looks something up by a variable is evaluated before its
// expression (its lookup iterates), a function argument holding a ref is matched in the body (where a ref head no
// argument binds, `input` included, is unsafe, while the ref's keys are bound by the match), and a var unsafe in
// several expressions is reported once. The closures of the expressions that can run are checked even when others
// of their body cannot.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeTree } from '../server/harness.js';
import { itChecksAgree, runBoth, withoutStackTraces as answer } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const input = '{"a": [5, 6], "b": {"x": 1, "y": 2}, "one": [7]}';

const evaluated = [
  'q := r if {\n  r := data.p.s with input as input.one[y]\n}\ns := input',
  'q contains r if {\n  r := data.p.s with input as input.a[y]\n}\ns := input',
  'q := [v | v := data.p.s with input as input.a[_]]\ns := input',
  'q contains v if {\n  v := data.p.s with input as {"z": input.b[w]}\n}\ns := input',
  'q contains [y, v] if {\n  not data.p.s with input as input.a[y]\n  v := 1\n}\ns if input == 5',
  'q := r if {\n  r := data.p.s with input as input.a[y]\n}\ns := input',
  'f(x, x[y]) := y\ng := f([5, 6], 6)',
  'f(x, x[y]) := y\ng := f([5, 6], 8)',
  'q := [x | x = y + 1; y = input.a[_]]',
  'f(n) := {k: v | v = n * w; w = input.a[k]}\ng := f(10)',
  // A comprehension in another's head runs after that one's body, with what it binds.
  'q := [[sprintf("%d", [s]) | true] | some s in input.a]',
  'q := [{k: s | k := "a"} | some s in input.a]',
  'q := {k: [k, s] | some k, s in input.b}',
  // Nested calls are placed once what they read is bound, wherever written.
  'q := x if {\n  x := count(y) + abs(z)\n  y := input.a\n  z := input.b.x - 5\n}',
  'q if {\n  every e in array.concat(y, [7]) { e > 4 }\n  y := input.a\n}',
  'q contains z if {\n  some z in [y * 2, 3]\n  y := input.one[0]\n}',
  // Head terms evaluated after the body, whatever the order written.
  'q := [count(x) | x := input.a[_]]',
  'q := {x.k: [y.v] | y := {"v": x.k}; x := {"k": input.a[_]}}',
  'q := [y.a] if {\n  y := {"a": x}\n  x := input.b.x\n}',
];

const checked = [
  'f(input.one[y]) := 1',
  'f(input.a) := 1',
  'f(data.x) := 1',
  'f(x[y]) := 1 if {\n  z := 1\n}',
  'f(input.a[y], z) := z',
  'f(x, x[y]) := y',
  'q if {\n  x > 1\n  x < 5\n  y = x\n}',
  'q if {\n  z > 1\n  count(x) > 0\n  x < 5\n  x == z\n}',
  'q if {\n  x > 1\n  [v | v := x] == [1]\n}',
  'q if {\n  x with input as y\n  y > 1\n}',
  'q if {\n  y := [z | w > 1]\n  count(y) > 0\n}',
  'q if {\n  y := [z | z > w]\n  count(y) > 0\n}',
  'q if {\n  y := {k: v | k > 1; v = w; u = 1}\n  count(y) > 0\n}',
  'q := [[t | true] | some s in input.a]',
  // Matching a pattern against a value binds the keys of the refs in it, not their heads.
  'f([a, input.b[c]]) := 1',
  'f([a, input.b[c]]) := c',
  'f({"k": input.b[c]}) := c',
  'f([a, x.b[c]]) := 1',
  'q if {\n  {"a": x} = {"a": 1, "b": 2}\n}',
  'q if {\n  x = {y}\n}',
  // The closures of the expressions that can run are checked even when others cannot.
  'q if {\n  x > 1\n  y := [z | w > 1]\n}',
  'q if {\n  x > 1\n  y := [z | z = 1; w > 1]\n}',
  'q if {\n  y := [z | w > 1]\n  x > 1\n}',
  'q if {\n  x > 1\n  every k in [1] { k > w }\n}',
  'q if {\n  x > 1\n  y := [z | z = w]\n  count(y) > 0\n}',
  'q if {\n  x > 1\n  y := {a: b | a = 1; b > c}\n}',
  'q if {\n  x > 1\n  y := [[u | u > v] | true]\n}',
  'q if {\n  y := [z | z = x]\n  x > 1\n}',
  // Else branches: each reports its own unsafe vars, all errors in line order; a braceless else body is placed at
  // its `else`; a comprehension in a head is checked after the body.
  'f(input.a[y]) := 1 if {\n  x > 1\n} else := 2 if {\n  x > 2\n}',
  'q := 1 if {\n  x > 1\n} else := 2 if {\n  input.x[y]\n  z > y\n} else := 3 if z > 1',
  'q := 1 if {\n  false\n} else if z > 1',
  'q := 1 if {\n  false\n} else = 3 if count([z | w > 1]) > 1',
  'q := [x | x > w] if {\n  false\n} else := [x | x > w]',
  'f(a) := {k: a | k > w}',
  // A closure's var that its enclosing body has too is the body's var, even where the closure binds it; a
  // declaration's generated key is never named; an expression whose closures read what it binds reports those.
  'q := {y | y = 1} if {\n  some w in {"k": y}\n}',
  'f([2, x]) := {y | x == [3, input.a[y]]} if {\n  some w in {"k": y}\n  input[z]\n}',
  'q if {\n  y := 1\n  x := [y | y = 1]\n}',
  'q if {\n  z == [[x | y > x], [data.p.s[x], input.a]]\n}',
  // A head var must appear in the body outside comprehensions and `every`; a negated expression counts.
  'q := y if {\n  x := [1 | y > 1]\n}',
  'q := y if {\n  every e in [1] { e > y }\n}',
  'q := y if {\n  x := [1 | y = 1]\n}',
  'q := y if {\n  not y > 1\n}',
  // A nested call is an expression of its own, at the call: ordered, and reported, apart from the one holding it.
  'q if {\n  x := f(g(y))\n}\nf(a) := a\ng(a) := a',
  'q if {\n  x := count([y]) + 1\n}',
  'q if {\n  x = f(y) + 1\n}\nf(a) := a',
  'q if {\n  count(f(y)) > 1\n}\nf(a) := a',
  'q if {\n  x := input[y][z]\n  count(y) > count(w)\n}',
  'q if {\n  every e in [y] { e > 3 }\n}',
  // A composite ref subject (`some z in [x, 3]`) is read through a local at the subject.
  'q if {\n  some z in [x, 3]\n}',
  // A var `:=` declares is never reported; `some` declared ones are.
  'q if {\n  x := y\n  z = x\n}',
  'q if {\n  [x, w] := [1, z]\n}',
  'q if {\n  x := z\n  x == 1\n  y := x + v\n}',
  'q if {\n  some x\n  x = y\n}',
  // A `:=` with unsafe vars of its own: what it declares is reported only when nothing else is.
  'q if {\n  y := [y | x > 0]\n}',
  'q if {\n  y := [y | true]\n}',
  'q if {\n  y := [[y, u] | x > 0]\n}',
  'q if {\n  x := [x | true]\n  x2 := [x2 | true]\n}',
  'q if {\n  x := [x | y > 1]\n  z := w\n}',
  // An expression binding more than its closures read runs; the closures report what they read.
  'q if {\n  every e in input.a[x] + [z | z = x] { e > 3 }\n}',
  // Unevaluable with values bind nothing; a closure in a some-in domain reads the declared var.
  'q contains y if {\n  input.a[y] == count(4) + input.a with input as w\n}',
  'q if {\n  some x in [y | y = x]\n}',
  // A head term holding a ref, a call or a comprehension is evaluated at the end of its body, located at the term
  // (which comes before the body): a var unsafe there is reported at the head.
  'q := x.a if {\n  x > 1\n}',
  'q := [count(x)] if {\n  x > 1\n}',
  'q contains x.a if {\n  x > 1\n}',
  'f(a) := a + x if {\n  x > 1\n}',
  'q := x + y if {\n  x > 1\n  y > 1\n}',
  'q := sprintf("%v", [z]) if {\n  z > x\n}',
  'q := {"a": x.b} if {\n  x > 1\n}',
  'q := [x.a | x > 1]',
  'q := [[count(x)] | x > 1]',
  'q := {x.a: 1 | x > 1}',
  'q := {1: x.a | x > 1}',
  'q if {\n  y := [count(x) | x > 1]\n}',
  'q if {\n  y := [[x | true] | x > 1]\n}',
  'q if {\n  y := [[x.a] | x > w]\n}',
  'q if {\n  some x in [[u | some u in v] | some v in w]\n}',
  // Calls in function arguments are refused (not in sets, whose vars are not the function's).
  'f(1 + 1) := 7',
  'f(x[count(y)]) := 1',
  'f([1, {"a": count(y)}]) := 1',
  'f({count(y)}) := 1',
  // A line holding rules of more than one name labels their errors with the rule (its ground name); one name alone,
  // else branches included, does not.
  'p if { x > 1 } q if { y > 1 }\nr := 1 if { z > 1 } else := 2 if { w > 1 }',
  'a.b[k] := 1 if { k = u } a.c := [v | v > t] if { true }\ng(c) := 1 if { not c > d } s := 1',
  'h[1] := 1 if { e > 1 } h[2] := 1 if { e2 > 1 } h[true] := 1 if { e3 > 1 } h.r := 1 if { k > 1 }',
  's := 1 if { false } else := 2 if { n > 1 } t := 1 if { m > 1 }\nmm := 1 if { contains > 1 } m := [x | x := o]',
  'f(a) := b if { true } g := 1',
  'q contains [x] if { true } r := 1',
  'p if { _ > 1 } q := 1',
  // A wildcard is the user's var, named `_`: each one unsafe is reported.
  'p if {\n  _ > _\n}\nq if {\n  [_, y] := [1, _]\n}\nr if {\n  every _ in _ { true }\n}\ns := [_ | true]',
  // A template string is a call of its parts: in a head it is evaluated after the body, located at the string; a
  // var part is read as a var; any other part's vars must be bound somewhere in the enclosing body ("undeclared",
  // unlocated for a call, reported again from the enclosing body when inside a comprehension or `every`).
  'p := $"a{x}b" if { true }',
  'q := $"a{count(y)}b{z}" if { z > 1 }',
  'r contains $"{w}" if { true }',
  'f(a) := $"{a}{v}"',
  's := [$"{u}" | true]',
  't := 1 if { x := $"{k}"; k > 1 }',
  'r := $"{input.x[k]}" if { true }',
  't := 1 if { x := $"{count(z)}"; z := [1] }',
  'u := 1 if { x := $"{count(z)}{y[z]}{a}" }',
  'v := [1 | x := $"{count(y)}"]',
  'w := [[$"{count(y)}"] | y := [1]]',
  'w := {$"{count(y)}": $"{y.a}" | y := [1]}',
  'x := 1 if { every k in [1] { $"{count(k)}{q[r]}" == "" } }',
  'x := 1 if { every k in $"{count(k)}" { true } }',
  'g := 1 if { not $"{count(n)}" == ""; n := 1 }',
];

describe('opa and verdict agree on safety', sideBySide, () => {
  evaluated.forEach((rules, i) => {
    it(`eval: ${rules.replaceAll('\n', '; ')}`, async () => {
      const dir = writeTree({ [`m${i}.rego`]: `package p\n\n${rules}\n`, 'input.json': input });
      const { theirs, ours } = await runBoth(['eval', '--format', 'json', '-d', `m${i}.rego`, '-i', 'input.json', 'data.p'], dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.deepEqual(answer(ours.stdout), answer(theirs.stdout));
    });
  });
  itChecksAgree(checked, (rules) => `package p\n\n${rules}\n`, (rules) => `check: ${rules.replaceAll('\n', '; ')}`);
});
