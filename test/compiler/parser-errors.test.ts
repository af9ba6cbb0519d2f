// Errors are values: located rego_parse_error entries with OPA's wording, several per module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModule } from '../../src/compiler/parse-module.js';
import { MAX_ERRORS } from '../../src/compiler/errors.js';

test('a broken statement is reported at its file:row:col with the source line', () => {
  const { module, errors } = parseModule('policy.rego', 'package p\n\nallow if {\n  input.x ==\n}\n');
  assert.equal(module, undefined);
  assert.equal(errors.length, 1);
  assert.deepEqual(errors[0], {
    code: 'rego_parse_error',
    message: 'unexpected } token',
    location: { file: 'policy.rego', row: 5, col: 1 },
    details: { line: '}', idx: 0 },
  });
});

test('every broken statement of a module is reported, not only the first', () => {
  const source = 'package p\n\na := [1,\n\nb if { 1 +* 2 }\n\nc := "ok"\n\nd := {1: }\n';
  const { errors } = parseModule('m.rego', source);
  // `[1,` swallows `b` as an element and fails at `if`; parsing resumes at `c`, which is fine, then fails in `d`.
  assert.deepEqual(errors.map((e) => [e.location.row, e.message]), [
    [5, 'unexpected if keyword: expected "," or "]"'],
    [9, 'unexpected } token'],
  ]);
});

test('errors are capped at MAX_ERRORS', () => {
  const source = `package p\n${'x := [\n'.repeat(50)}`;
  const { errors } = parseModule('m.rego', source);
  assert.equal(errors.length, MAX_ERRORS);
});

test('Rego v1 rule-shape checks use OPA messages', () => {
  const cases: [string, string][] = [
    ['p { true }', '`if` keyword is required before rule body'],
    ['p[x] if { x := 1 }\nq[y] { y := 1 }', '`if` keyword is required before rule body'],
    ['f(x) { x }', '`if` keyword is required before function body'],
    ['a.b.c', 'rule must have value assignment and/or body declaration'],
    ['p', 'var cannot be used for rule name'],
    ['default p := input.x', 'illegal default rule (value cannot contain ref)'],
  ];
  for (const [rules, message] of cases) {
    const { errors } = parseModule('m.rego', `package p\n${rules}\n`);
    assert.ok(errors.some((e) => e.message === message), `${rules}: ${JSON.stringify(errors)}`);
  }
});

test('v0 syntax parses only when asked for', () => {
  const source = 'package p\np[x] { x := input.xs[_] }\nq = 1 { true }\n';
  assert.deepEqual(parseModule('m.rego', source, { regoVersion: 'v0' }).errors, []);
  assert.ok(parseModule('m.rego', source).errors.length > 0);
  // rego.v1 in a v0 module switches the v1 checks on.
  const withImport = parseModule('m.rego', `package p\nimport rego.v1\np contains x if x := 1\nq { true }\n`, { regoVersion: 'v0' });
  assert.deepEqual(withImport.errors.map((e) => e.message), ['`if` keyword is required before rule body']);
});

test('lexical errors carry OPA wording and position', () => {
  const { errors } = parseModule('m.rego', 'package p\nx := "abc\ny := 01\n');
  assert.equal(errors[0].message, 'non-terminated string');
  assert.deepEqual(errors[0].location, { file: 'm.rego', row: 2, col: 6 });
});
