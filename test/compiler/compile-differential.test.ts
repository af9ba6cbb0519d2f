// Whole policies compiled and evaluated by Verdict and by the reference `opa eval`, for behaviours where the
// answer depends on the Rego version: deprecated builtins (refused in v1 modules, allowed in v0 modules and in
// queries), zero-argument v0 rules written `f() = x { ... }`, and cast_array of a set; and where OPA reports
// a variable declared twice.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RegoVersion } from '../../src/compiler/ast.js';
import { verdictBuiltins, verdictDeprecated } from '../../src/compiler/builtins.js';
import { compileRego, RegoCompileError } from '../../src/compiler/compile-rego.js';
import { hostBuiltins } from '../../src/builtins/index.js';
import { loadPolicy } from '../../src/engine/wasm-host.js';
import { evaluateQuery } from '../../src/cli/eval.js';
import { opaPath } from './opa-oracle.js';

const opa = opaPath();
const dir = mkdtempSync(join(tmpdir(), 'verdict-compile-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Answer = { value: unknown } | { errors: Array<{ code: string; message: string; row: number; col: number }> };

function theirs(source: string, version: RegoVersion): Answer {
  const file = join(dir, 'p.rego');
  writeFileSync(file, source);
  const args = ['eval', '-f', 'json', ...(version === 'v0' ? ['--v0-compatible'] : []), '-d', file, 'data.p'];
  let out: string;
  try {
    out = execFileSync(opa, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = (e as { stdout: string }).stdout;
  }
  const json = JSON.parse(out) as {
    result?: Array<{ expressions: Array<{ value: unknown }> }>;
    errors?: Array<{ code: string; message: string; location: { row: number; col: number } }>;
  };
  if (json.errors) return { errors: json.errors.map((e) => ({ code: e.code, message: e.message, row: e.location.row, col: e.location.col })) };
  return { value: json.result?.[0]?.expressions[0]?.value };
}

async function ours(source: string, version: RegoVersion): Promise<Answer> {
  let wasm: Uint8Array;
  try {
    wasm = compileRego([{ path: 'p.rego', source }], ['p'], { builtins: verdictBuiltins, deprecated: verdictDeprecated, regoVersion: version });
  } catch (e) {
    if (!(e instanceof RegoCompileError)) throw e;
    return { errors: e.errors.map((x) => ({ code: x.code, message: x.message, row: x.location.row, col: x.location.col })) };
  }
  const policy = await loadPolicy(wasm, hostBuiltins);
  policy.setData({});
  return { value: (policy.evaluate(undefined, 'p') as Array<{ result: unknown }>)[0]?.result };
}

async function sameAsOpa(source: string, version: RegoVersion): Promise<Answer> {
  const want = theirs(source, version);
  assert.deepEqual(await ours(source, version), want);
  return want;
}

describe('deprecated builtins', () => {
  const v1Calls = `package p
x := any([true, false])
y if {
  a := 1
  b := all([true]) == any([cast_set([1])])
  set_diff({1}, {2})
}
z[k] := v if { some k, v in cast_object({"a": 1}) }
w := [cast_string("a") | true]
f(q) := re_match("a", q)
`;

  it('are refused in a v1 module, each call with OPA\'s message and location', async () => {
    const want = await sameAsOpa(v1Calls, 'v1');
    assert.ok('errors' in want && want.errors.length === 8, JSON.stringify(want));
    assert.equal(want.errors[0]!.message, 'deprecated built-in function calls in expression: any');
  });

  it('still run in a v0 module', async () => {
    const want = await sameAsOpa('package p\nx = any([true, false])\nz = re_match("a+", "caab")\nd = set_diff({1, 2}, {2})\n', 'v0');
    assert.deepEqual(want, { value: { x: true, z: true, d: [1] } });
  });

  it('still run in a query', async () => {
    assert.deepEqual(await evaluateQuery({ dataPaths: [], query: 'x := any([false, true])' }), {
      result: [{ expressions: [{ value: true, text: 'x := any([false, true])', location: { row: 1, col: 1 } }], bindings: { x: true } }],
    });
  });
});

describe('cast_array', () => {
  it('turns a set into an array (the module sees an array, not a set)', async () => {
    const want = await sameAsOpa('package p\ny = cast_array({3, 1, 2})\nis_arr = is_array(y)\nn = count(y)\n', 'v0');
    assert.deepEqual(want, { value: { y: [1, 2, 3], is_arr: true, n: 3 } });
  });
});

describe('zero-argument v0 rules `f() = x { ... }`', () => {
  it('define a value, as in OPA', async () => {
    assert.deepEqual(await sameAsOpa('package p\nf() = out { out := 1 + 2 }\ng() { true }\n', 'v0'), { value: { f: 3, g: true } });
  });

  it('are not functions: calling one is refused as OPA refuses it', async () => {
    const want = await sameAsOpa('package p\nf() = out { out := 1 + 2 }\nr = f()\nt = x { x := f() + 1 }\n', 'v0');
    assert.ok('errors' in want && want.errors.every((e) => e.message === 'undefined function data.p.f'));
  });
});

describe('a variable declared again by `some`', () => {
  it('is reported at the `some` expression, as OPA reports it', async () => {
    const source = 'package p\np if {\n  some i\n  input[i]\n  some   i\n  input[i]\n}\nq if {\n  i := 1\n  some  i\n}\nr if {\n  some  k\n  some   k in input\n}\nt(a) if {\n  some  a\n}\nu if {\n  some  j, j\n  input[j]\n}\n';
    const want = await sameAsOpa(source, 'v1');
    assert.ok('errors' in want && want.errors.length === 5 && want.errors.every((e) => e.col === 3), JSON.stringify(want));
  });
});
