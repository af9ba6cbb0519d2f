// A `some x` never used is an error that lets OPA's later stages run: what they find (undefined functions, unsafe
// vars, recursion, conflicting rules, type errors) is reported beside it, in location order, by both.
import { describe } from 'node:test';
import { itChecksAgree } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const unused = 'p if {\n  some x\n  true\n}';

const beside = [
  'q if nope(1)',
  'r if {\n  y == 1\n}',
  't if t',
  'f(a) := 1\n\nf(a, b) := 2',
  'm if {\n  some y, z\n  z = 1\n  1 == "a"\n}\n\nn if {\n  k := "s"\n  k == 2\n}',
];

describe('opa and verdict agree on what is reported beside an unused declared var', sideBySide, () => {
  itChecksAgree(beside, (rules) => `package p\n\n${unused}\n\n${rules}\n`, (rules) => `check: ${rules.replaceAll('\n', '; ')}`);
});

// An unused key or value of `every` is reported at the first expression of its body, on its own line or not, and
// type errors in the comprehensions of the body beside it.
const everyUnused = [
  'p if {\n  every x in [1, 2] {\n    true\n    false\n  }\n}',
  'p if {\n  every x in [1, 2] { true; false }\n}',
  'p if {\n  every k, v in {"a": 1} {\n    v\n  }\n}',
  'p if {\n  every k, v in {"a": 1} {\n    false\n  }\n}',
  'p if {\n  every x in [1, 2] {\n    1 == 1\n    [y | y := 1; y == "a"]\n  }\n}',
];

describe('opa and verdict agree on where an unused every variable is reported', sideBySide, () => {
  itChecksAgree(everyUnused, (rules) => `package p\n\n${rules}\n`, (rules) => `check: ${rules.replaceAll('\n', '; ')}`);
});
