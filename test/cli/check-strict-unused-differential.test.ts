// Strict mode's `assigned var x unused` and the `declared var x unused` check against the real OPA: in a body,
// the assignments are checked first and the declarations only when that found nothing; once a rule body (or a
// body nested in it) has an error, the bodies checked after it are not; a rule's head is checked apart from its
// body.
import { describe } from 'node:test';
import { itChecksAgree } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const rules = [
  'p if {\n  some y\n  x := 1\n  true\n}',
  'p if {\n  some w\n  [z | y := 1; z := 1]\n}',
  'p if {\n  some v\n  every k in [1] {\n    m := k\n  }\n}',
  'p := [y | some w; y := 1] if {\n  x := 1\n  true\n}',
  'p := [y | u := 2; y := 1] if {\n  some v\n  true\n}',
  'p if {\n  some w\n  x := 1\n}\n\nelse := 2 if {\n  some v\n  u := 1\n}',
  'p if {\n  not [z | y := 1; some w; z := 1]\n  some q\n}',
];

describe('opa check --strict and verdict check --strict agree on unused assigned and declared vars', sideBySide, () => {
  itChecksAgree(rules, (r) => `package p\n\n${r}\n`, (r) => `strict: ${r.replaceAll('\n', '; ')}`, ['--strict']);
});
