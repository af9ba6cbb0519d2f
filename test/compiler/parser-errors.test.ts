// Errors are values: located rego_parse_error entries with OPA's wording, several per module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModule } from '../../src/compiler/parse-module.js';
import { OpaParseOracle, opaPath } from './opa-oracle.js';

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

test('parsing stops at the first broken statement, as OPA stops: errors further on are not reported', () => {
  const source = 'package p\n\na := [1,\n\nb if { x }\n\nc := "ok"\n\nd := {1: }\ne := "open\n';
  const { errors } = parseModule('m.rego', source);
  // `[1,` swallows `b` as an element and fails at `if`: the term's error, then the head's, and nothing after.
  assert.deepEqual(errors.map((e) => [e.location.row, e.message]), [
    [5, 'unexpected if keyword: expected "," or "]"'],
    [5, 'unexpected if keyword: expected rule value term (e.g., a := <VALUE> { ... })'],
  ]);
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

// Modules cut off inside a rule, as an editor's PUT of a half-typed policy sends them. OPA reports the term's
// own error and then the rule head's ("expected rule value term ..."), both at end of file, with the last
// line that has text as details; lexer problems come with the parser's "illegal token" errors.
const truncated = [
  'p := ', 'p := \n', 'p = \n', 'p[x] := \n', 'p[x] = \n', 'p[_] := \n', 'p["a b"] := \n', 'p.q := \n', 'f(x) := \n',
  'f(x) = \n', 'default p := \n', 'default f(x) := \n', 'p contains \n', 'p contains ]\n', 'p := [1,\n', 'p := {\n', 'p := {1\n',
  'p := {"a": 1,\n', 'p := [x | \n', 'p := (1\n', 'p := -\n', 'p := count(1,\n', 'p := input[\n', 'p := input.\n',
  'p := 1 +\n', 'f(x) := 1 + \n', 'p := 1 if \n', 'p if\n', 'p if {\n', 'p := 1 if { x := [\n', 'p if { every x in [1] {\n',
  'p := if x\nq := ]\n', 'import\n', 'import data.\n', 'package\n', 'p := "abc\n', 'p := `abc\n', 'p := 1e\n',
  'p := "a\\q"\n', 'p := ~\n', 'p := "é" + \n', 'default p\n',
];

/** parseModule reports for each source the errors `opa parse` reports, details included. */
async function assertErrorsAsOpa(sources: string[], cacheName: string): Promise<void> {
  const oracle = new OpaParseOracle(opaPath(), cacheName);
  try {
    const reference = await oracle.parseAll(sources.map((source) => ({ source, version: 'v1' as const })));
    for (const [i, source] of sources.entries()) {
      const theirs = ((reference[i].json as { errors?: { code: string; message: string; location: { row: number; col: number }; details?: unknown }[] }).errors ?? [])
        .map((e) => ({ code: e.code, message: e.message, location: { file: 'm.rego', row: e.location.row, col: e.location.col }, ...(e.details ? { details: e.details } : {}) }));
      assert.deepEqual(parseModule('m.rego', source).errors, reference[i].ok ? [] : theirs, JSON.stringify(source));
    }
  } finally {
    oracle.close();
  }
}

test('modules cut off inside a rule get the same errors as opa parse, details included', { timeout: 120_000 }, async () => {
  await assertErrorsAsOpa(truncated.map((rest) => `package broken\n\n${rest}`), 'truncated');
});

// Several broken statements, scanner errors after the first, an import OPA refuses but reads past.
const severalBroken = [
  'a := ]\nb := ]\n', 'a := \n\nb := \n\nc := \n', 'a := 1 +\nb := "open\nc := `\n', 'a := "open\nb := ]\n', 'import future.keywords.foo\nx := ]\n',
  'p := 1\n\nq { x := }\nr := [\n', `${'x := ]\n'.repeat(12)}`, 'x := [\n'.repeat(50),
  // A rule whose value fails at `if` keeps its body, and OPA reads on past it.
  'p := if x\nq := ]\n', 'p := if {x}\nq := ]\n', 'a := [1,\n\nb if { x }\n\nc := "ok"\n\nd := {1: }\n',
  // An operand that cannot be read leaves its error alone: the expression it cut short is not also missing a `;`.
  'b if { 1 +* 2 }\n', 'b { 1 +* 2 }\n', 'b if { x := (1 + ) 2 }\n', 'a if { 1 +* 2 }\nb if { x := 1 y := 2 }\n',
  'b := [x | x := 1 +* 2]\n', 'b if { x := 1 y := 2 }\n',
];

test('a module with several broken statements gets the errors opa parse reports, stopping where it stops', { timeout: 120_000 }, async () => {
  await assertErrorsAsOpa(severalBroken.map((rest) => `package broken\n\n${rest}`), 'several-broken');
});

test('a module cut off after `p := ` reports the value error twice, as OPA does', () => {
  assert.deepEqual(parseModule('m.rego', 'package broken\n\np := \n').errors, [
    { code: 'rego_parse_error', message: 'unexpected eof token', location: { file: 'm.rego', row: 4, col: 0 }, details: { line: 'p := ', idx: 3 } },
    {
      code: 'rego_parse_error',
      message: 'unexpected eof token: expected rule value term (e.g., p := <VALUE> { ... })',
      location: { file: 'm.rego', row: 4, col: 0 },
      details: { line: 'p := ', idx: 3 },
    },
  ]);
});
