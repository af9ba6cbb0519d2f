// Compile-stage errors against the reference OPA: for each policy, `opa check --format json` and our stages
// must report the same first error (code, message, row).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModules } from '../../../src/compiler/compile.js';
import { parseModule } from '../../../src/compiler/parse-module.js';
import { opaBuiltins, opaPath } from '../opa-oracle.js';

const CASES: Record<string, string> = {
  'recursion through two rules': 'p if q\nq if p\n',
  'recursion through a function': 'f(x) := y if y := g(x)\ng(x) := f(x)\n',
  'reassigned local': 'p if {\n  x := 1\n  x := 2\n  x > 0\n}\n',
  'assignment after use': 'p if {\n  x == 1\n  x := 2\n}\n',
  'unused some declaration': 'p if {\n  some x\n  true\n}\n',
  'duplicate import names': 'import data.a\nimport data.b.a\np if a == a\n',
  'rule named input': 'input := 1\n',
  'assignment in negation': 'p if {\n  not x := 1\n}\n',
  'some-in binding a var of its domain': 'p if {\n  some x in [x]\n}\n',
  'assigning to a number': 'p if {\n  1 := 2\n}\n',
  'argument reassigned': 'f(x) := y if {\n  x := 1\n  y := x\n}\n',
  'local named data': 'p if {\n  data := 1\n  data > 0\n}\n',
  'unbound var in a comparison': 'p if {\n  x > 1\n}\n',
  'unbound var on both sides': 'p if {\n  input[_] == y\n}\n',
  'unbound var in a rule value': 'p := x if {\n  true\n}\n',
  'unbound function result and input': 'f(a) := b if {\n  a > c\n}\n',
  'unbound vars in a comprehension': 'p if {\n  y := [z | z > w]\n  count(y) > 0\n}\n',
  'unbound var under negation': 'p if {\n  not input.xs[i]\n}\n',
  'unbound var in every domain': 'p if {\n  every x in xs { x > 0 }\n}\n',
  'unbound with value': 'p if {\n  input.a with input as v\n}\n',
  'single-value and multi-value rules': 'p := 1\np contains 2\n',
  'function arities differ': 'f(x) := 1\nf(x, y) := 2\n',
  'two default rules': 'default p := 1\ndefault p := 2\n',
  'complete and partial rules': 'p := 1\np[x] := 2 if x := "a"\n',
  'a rule inside a complete document': 'a.b := 1\na.b.c := 2\n',
  'multi-value set and object': 'p contains 1\np[x] contains 2 if x := 1\n',
  'unknown builtin': 'p if foo(1)\n',
  'unknown function in data': 'p if data.x.g(1)\n',
  'calling a rule that is not a function': 'q := 1\np if q(1)\n',
  'calling through a local': 'p if {\n  x := 1\n  y := x.y(1)\n  y\n}\n',
  'with below a rule': 'a := {"b": 1}\np := v if {\n  v := data.x.a with data.x.a.b as 5\n}\n',
  'with below a function': 'f(x) := x\np if {\n  true with data.x.f.g as 5\n}\n',
  'with on a local': 'p if {\n  x := 1\n  x with x as 2\n}\n',
  'with on an unknown name': 'p if {\n  true with foo.bar as 2\n}\n',
};

function opaCheck(opa: string, dir: string, source: string): { code: string; message: string; row: number } | undefined {
  const file = join(dir, 'policy.rego');
  writeFileSync(file, source);
  try {
    execFileSync(opa, ['check', '--format', 'json', file], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    const { stdout, stderr } = e as { stdout: Buffer; stderr: Buffer };
    const out = JSON.parse(String(stdout).trim() || String(stderr)) as { errors: { code: string; message: string; location: { row: number } }[] };
    const first = out.errors[0];
    return { code: first.code, message: first.message, row: first.location.row };
  }
}

test('compile stages report the same first error as opa check', () => {
  const opa = opaPath();
  const builtin = opaBuiltins();
  const dir = mkdtempSync(join(tmpdir(), 'verdict-check-'));
  try {
    for (const [name, rules] of Object.entries(CASES)) {
      const source = `package x\n${rules}`;
      const expected = opaCheck(opa, dir, source);
      assert.ok(expected, `${name}: the reference OPA accepts it`);
      const parsed = parseModule(join(dir, 'policy.rego'), source);
      assert.deepEqual(parsed.errors, [], name);
      const { errors } = compileModules([parsed.module!], { builtin });
      assert.ok(errors.length > 0, `${name}: no error, OPA says ${JSON.stringify(expected)}`);
      assert.deepEqual({ code: errors[0].code, message: errors[0].message, row: errors[0].location.row }, expected, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
