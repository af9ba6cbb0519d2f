// The builtin registry (src/builtins/registry.ts, gathered from the namespace modules) against the reference
// OPA's capabilities, builtin by builtin, and against what our wasm runtime and host actually provide.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostBuiltins } from '../../src/builtins/index.js';
import { builtinRegistry, runtimeExportOf } from '../../src/builtins/registry.js';
import { verdictBuiltins, verdictDeprecated } from '../../src/compiler/builtins.js';

interface Capability { name: string; decl: unknown; deprecated?: boolean; nondeterministic?: boolean; relation?: boolean; infix?: string; categories?: string[] }

/**
 * The one deliberate difference: OPA's prose descriptions of builtins, arguments and results are OPA's
 * documentation text and are not carried; names and types are.
 */
function withoutDescriptions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutDescriptions);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'description').map(([k, x]) => [k, withoutDescriptions(x)]));
}

/** JSON as `opa capabilities` would print it: key order does not matter. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
}

describe('builtin registry', () => {
  const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
  const caps = JSON.parse(execFileSync(opa, ['capabilities', '--current'], { encoding: 'utf8', maxBuffer: 1 << 26 })) as { builtins: Capability[] };
  const byName = new Map(caps.builtins.map((b) => [b.name, b]));

  it('declares every builtin with OPA\'s types, argument and result names, and flags', () => {
    for (const entry of builtinRegistry) {
      const theirs = byName.get(entry.name);
      assert.ok(theirs, `${entry.name} is not an OPA builtin`);
      assert.deepEqual(canonical(entry.decl), canonical(withoutDescriptions(theirs.decl)), `${entry.name}: declaration`);
      assert.equal(entry.deprecated === true, theirs.deprecated === true, `${entry.name}: deprecated`);
      assert.equal(entry.nondeterministic === true, theirs.nondeterministic === true, `${entry.name}: nondeterministic`);
      assert.equal(entry.relation === true, theirs.relation === true, `${entry.name}: relation`);
      assert.equal(entry.infix, theirs.infix, `${entry.name}: infix`);
      assert.deepEqual(entry.categories, theirs.categories, `${entry.name}: categories`);
    }
  });

  it('a changed type is caught: the comparison is not vacuous', () => {
    const count = builtinRegistry.find((b) => b.name === 'count')!;
    const altered = { ...count.decl, args: [{ type: 'string', name: 'collection' }] };
    assert.notDeepEqual(canonical(altered), canonical(withoutDescriptions(byName.get('count')!.decl)));
  });

  it('the compiler table is the registry\'s declarations, and its deprecated set the registry\'s flags', () => {
    assert.deepEqual([...verdictBuiltins.keys()], builtinRegistry.map((b) => b.name));
    for (const entry of builtinRegistry) assert.equal(verdictBuiltins.get(entry.name), entry.decl);
    assert.deepEqual([...verdictDeprecated].sort(), caps.builtins.filter((b) => b.deprecated && verdictBuiltins.has(b.name)).map((b) => b.name).sort());
  });

  it('the runtime exports exactly the builtins the registry says it answers', () => {
    const runtime = new WebAssembly.Module(readFileSync('dist/src/wasm/runtime.wasm'));
    const exported = new Set(WebAssembly.Module.exports(runtime).map((e) => e.name).filter((n) => n.startsWith('b_')));
    const claimed = new Set(builtinRegistry.flatMap((b) => [b.runtime, b.runtimeDefers].filter((n) => n !== undefined)));
    for (const name of claimed) assert.ok(exported.has(name), `the registry names runtime export ${name}, which the runtime lacks`);
    for (const name of exported) assert.ok(claimed.has(name), `the runtime exports ${name}, which no registry entry declares`);
    assert.equal(runtimeExportOf('count'), 'b_count');
    assert.equal(runtimeExportOf('http.send'), undefined);
    // A runtime that leaves some calls to the host needs the host's implementation.
    for (const b of builtinRegistry.filter((e) => e.runtimeDefers)) assert.ok(b.runtime && b.host, `${b.name}: runtimeDefers without runtime and host`);
  });

  it('the host table holds exactly the entries with a host implementation', () => {
    assert.deepEqual(Object.keys(hostBuiltins).sort(), builtinRegistry.filter((b) => b.host).map((b) => b.name).sort());
    for (const entry of builtinRegistry) {
      assert.ok(entry.planner || entry.runtime || entry.host, `${entry.name}: no implementation`);
    }
  });
});
