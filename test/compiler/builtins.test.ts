// The builtin registry (src/builtins/registry.ts) and the compiler table generated from it, against the
// reference OPA's capabilities and against what our back end can actually run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostBuiltins } from '../../src/builtins/index.js';
import { builtinRegistry } from '../../src/builtins/registry.js';
import { verdictBuiltins } from '../../src/compiler/builtins.js';

interface Capability { name: string; deprecated?: boolean; decl: { args?: unknown[]; result?: { type?: string }; variadic?: unknown } }

describe('builtin registry', () => {
  const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
  const caps = JSON.parse(execFileSync(opa, ['capabilities', '--current'], { encoding: 'utf8', maxBuffer: 1 << 26 })) as { builtins: Capability[] };
  const byName = new Map(caps.builtins.map((b) => [b.name, b]));

  it('every row has OPA\'s arity, result, variadic and deprecated flags', () => {
    for (const spec of builtinRegistry) {
      const theirs = byName.get(spec.name);
      assert.ok(theirs, `${spec.name} is not an OPA builtin`);
      assert.equal(spec.arity, theirs.decl.args?.length ?? 0, `${spec.name}: arity`);
      assert.equal(spec.result ?? undefined, theirs.decl.result?.type, `${spec.name}: result`);
      assert.equal(spec.variadic, theirs.decl.variadic !== undefined, `${spec.name}: variadic`);
      assert.equal(spec.deprecated, theirs.deprecated === true, `${spec.name}: deprecated`);
    }
  });

  it('the compiler table is the registry in the shape of opa capabilities', () => {
    assert.deepEqual([...verdictBuiltins.keys()], builtinRegistry.map((b) => b.name));
    for (const [name, decl] of verdictBuiltins) {
      const theirs = byName.get(name)!.decl;
      assert.equal(decl.args?.length ?? 0, theirs.args?.length ?? 0, `${name}: arity`);
      assert.equal((decl.result as { type?: string } | undefined)?.type, theirs.result?.type, `${name}: result`);
    }
  });

  it('every row names an implementation that exists, and every builtin our back end runs has a row', () => {
    const runtime = new WebAssembly.Module(readFileSync('dist/src/wasm/runtime.wasm'));
    const native = new Set(WebAssembly.Module.exports(runtime).map((e) => e.name));
    for (const spec of builtinRegistry) {
      const impl = spec.implementation;
      if (impl.kind === 'runtime') assert.ok(native.has(impl.export), `${spec.name}: runtime export ${impl.export} is missing`);
      if (impl.kind === 'host') assert.equal(impl.fn, hostBuiltins[spec.name], `${spec.name}: host implementation`);
    }
    const registered = new Set(builtinRegistry.map((b) => b.name));
    const runnable = (name: string) => native.has(`b_${name.replace(/\./g, '_')}`) || name in hostBuiltins;
    for (const b of caps.builtins) {
      if (runnable(b.name)) assert.ok(registered.has(b.name), `${b.name} runs but is missing from the registry`);
    }
    for (const name of Object.keys(hostBuiltins)) assert.ok(registered.has(name), `host builtin ${name} has no registry row`);
  });
});
