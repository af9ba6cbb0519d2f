// Verdict's own builtin table (src/compiler/builtins.ts) against the reference OPA's capabilities and against
// what our back end can actually run: native runtime exports or host builtins.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostBuiltins } from '../../src/builtins/index.js';
import { COMPILER_BUILTINS, verdictBuiltins } from '../../src/compiler/builtins.js';

interface Capability { name: string; decl: { args?: unknown[]; result?: { type?: string }; variadic?: unknown } }

describe('builtin table', () => {
  const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
  const caps = JSON.parse(execFileSync(opa, ['capabilities', '--current'], { encoding: 'utf8', maxBuffer: 1 << 26 })) as { builtins: Capability[] };
  const byName = new Map(caps.builtins.map((b) => [b.name, b.decl]));

  it('every row has OPA\'s arity, result and variadic flag', () => {
    for (const [name, decl] of verdictBuiltins) {
      const theirs = byName.get(name);
      assert.ok(theirs, `${name} is not an OPA builtin`);
      assert.equal(decl.args?.length ?? 0, theirs.args?.length ?? 0, `${name}: arity`);
      assert.equal((decl.result as { type?: string } | undefined)?.type, theirs.result?.type, `${name}: result`);
      assert.equal(decl.variadic !== undefined, theirs.variadic !== undefined, `${name}: variadic`);
    }
  });

  it('lists every OPA builtin our back end runs, and only those', () => {
    const runtime = new WebAssembly.Module(readFileSync('dist/src/wasm/runtime.wasm'));
    const native = new Set(WebAssembly.Module.exports(runtime).map((e) => e.name));
    const runnable = (name: string) => native.has(`b_${name.replace(/\./g, '_')}`) || name in hostBuiltins;
    for (const name of verdictBuiltins.keys()) {
      if (!COMPILER_BUILTINS.has(name)) assert.ok(runnable(name), `${name} is in the table but neither native nor a host builtin`);
    }
    for (const b of caps.builtins) {
      if (runnable(b.name)) assert.ok(verdictBuiltins.has(b.name), `${b.name} runs but is missing from the table`);
    }
  });
});
