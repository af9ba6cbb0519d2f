// rego.parse_module against the reference OPA: the same AST JSON for a module using the common rule and
// expression forms, and undefined (a builtin error) for a module that does not parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hostBuiltins } from '../../src/builtins/index.js';
import { referenceOpa } from '../engine/opa-fixture.js';

const SOURCE = `package foo.bar

import data.a as b
import input.req

# a comment, kept as OPA keeps it

q := 1.50
r contains x if { some x in [1]; x != 2 }
f(y) := y + 1 if true else := 0
s[k] := v if { some k, v in {"a": [1 | true], "b": {n | n := 1}, "c": {m: 2 | m := "z"}} }
default t := false
u if { every z in [1] { z > 0 }; input.x with input as {1}; some w; w = 1; not null }
a.b.c := "x" if { _ = input; _ = data }
`;

function opaParse(source: string): unknown {
  const query = `rego.parse_module("x.rego", ${JSON.stringify(source)})`;
  const out = execFileSync(referenceOpa(), ['eval', '--format', 'json', query], { encoding: 'utf8' });
  return (JSON.parse(out) as { result?: Array<{ expressions: Array<{ value: unknown }> }> }).result?.[0]?.expressions[0]?.value;
}

test('rego.parse_module gives the AST OPA gives', () => {
  const ours = JSON.parse(JSON.stringify(hostBuiltins['rego.parse_module']!('x.rego', SOURCE))) as unknown;
  assert.deepEqual(ours, opaParse(SOURCE));
});

test('rego.parse_module is undefined for a module that does not parse', () => {
  assert.equal(opaParse('package foo.'), undefined);
  assert.equal(hostBuiltins['rego.parse_module']!('x.rego', 'package foo.'), undefined);
});
