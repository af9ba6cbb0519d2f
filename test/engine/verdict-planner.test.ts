// Our own planner behind the engine's RegoPlanner seam: entrypoints, compile errors in the engine's shape, and
// modules compiled through it evaluating under opa-wasm with our host builtins.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { hostBuiltins } from '../../src/builtins/index.js';
import { CachingCompiler } from '../../src/engine/compile-cache.js';
import { PlanningCompiler, RegoCompileError } from '../../src/engine/compiler.js';
import { defaultCompiler } from '../../src/engine/opa-compiler.js';
import { VerdictPlanner } from '../../src/engine/verdict-planner.js';

const modules = [
  {
    path: 'authz/policy.rego',
    packagePath: ['authz'],
    source: `package authz
default allow := false
allow if input.user in data.authz.admins
allow if is_reader(input.user)
is_reader(u) if startswith(u, "r-")
deny contains "untrusted issuer" if not input.token.iss in {"a"}
routes.public.paths := ["/health"]`,
  },
  { path: 'authz/data.rego', packagePath: ['authz'], source: 'package authz\nadmins := {"alice"}' },
];

async function evaluate(wasm: Uint8Array, path: string, input: unknown): Promise<unknown> {
  const policy = await loadPolicy(wasm, undefined, hostBuiltins);
  return (policy.evaluate(input, path) as Array<{ result?: unknown }>)[0]?.result;
}

describe('VerdictPlanner', () => {
  it('plans every rule, not function, under the packages as an entrypoint', async () => {
    const planned = await new VerdictPlanner().plan(modules, { regoVersion: 1 });
    assert.deepEqual(planned.entrypoints, ['authz/admins', 'authz/allow', 'authz/deny', 'authz/routes/public/paths']);
  });

  it('compiles modules that evaluate as OPA does, not over undefined references included', async () => {
    const { wasm, entrypoints } = await new PlanningCompiler(new VerdictPlanner()).compile(modules, { regoVersion: 1 });
    assert.ok(entrypoints.includes('authz/allow'));
    assert.equal(await evaluate(wasm, 'authz/allow', { user: 'alice' }), true);
    assert.equal(await evaluate(wasm, 'authz/allow', { user: 'r-bob' }), true);
    assert.equal(await evaluate(wasm, 'authz/allow', { user: 'eve' }), false);
    assert.deepEqual(await evaluate(wasm, 'authz/deny', { token: { iss: 'b' } }), ['untrusted issuer']);
    // `opa eval` gives an empty set here: the undefined input.token.iss makes the negated expression undefined.
    assert.deepEqual(await evaluate(wasm, 'authz/deny', {}), []);
  });

  it('reports compile errors with OPA codes and locations in the modules’ names', async () => {
    const bad = [{ path: 'x/broken.rego', packagePath: ['x'], source: 'package x\np if nosuch(1)' }];
    await assert.rejects(new VerdictPlanner().plan(bad, { regoVersion: 1 }), (err: unknown) => {
      assert.ok(err instanceof RegoCompileError);
      assert.equal(err.errors[0]?.code, 'rego_type_error');
      assert.deepEqual(err.errors[0]?.location, { file: 'x/broken.rego', row: 2, col: 6 });
      return true;
    });
    const parse = [{ path: 'y.rego', packagePath: ['y'], source: 'package y\np if {' }];
    await assert.rejects(new VerdictPlanner().plan(parse, { regoVersion: 1 }), (err: unknown) => err instanceof RegoCompileError && err.errors[0]?.code === 'rego_parse_error');
  });

  it('refuses modules with only functions', async () => {
    const fns = [{ path: 'f.rego', packagePath: ['f'], source: 'package f\ng(x) := x' }];
    await assert.rejects(new VerdictPlanner().plan(fns, { regoVersion: 1 }), /no rules to compile/);
  });

  it('is the default compiler, needing no OPA', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'verdict-planner-cache-'));
    try {
      for (const env of [{ VERDICT_OPA: '/nonexistent/opa' }, { VERDICT_PLANNER: 'verdict', VERDICT_OPA: '/nonexistent/opa' }]) {
        const compiler = defaultCompiler({ cacheDir }, env);
        const { wasm } = await compiler.compile(modules, { regoVersion: 1 });
        assert.equal(await evaluate(wasm, 'authz/allow', { user: 'alice' }), true);
      }
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('VERDICT_PLANNER=opa plans with the reference OPA, cached apart from our plans', async () => {
    const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
    const cacheDir = mkdtempSync(join(tmpdir(), 'verdict-planner-cache-'));
    try {
      const ours = defaultCompiler({ cacheDir }, {}) as CachingCompiler;
      await ours.compile(modules, { regoVersion: 1 });
      const theirs = defaultCompiler({ cacheDir }, { VERDICT_PLANNER: 'opa', VERDICT_OPA: opa }) as CachingCompiler;
      const { wasm } = await theirs.compile(modules, { regoVersion: 1 });
      // Same modules, other planner: compiled afresh, not served from our planner's cache entry.
      assert.deepEqual(theirs.stats, { memory: 0, disk: 0, compiled: 1 });
      assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.wasm')).length, 2);
      assert.equal(await evaluate(wasm, 'authz/allow', { user: 'alice' }), true);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('VERDICT_PLANNER=opa without OPA refuses to compile, saying how to get it', async () => {
    const compiler = defaultCompiler({}, { VERDICT_PLANNER: 'opa', VERDICT_OPA: '/nonexistent/opa' });
    await assert.rejects(compiler.compile(modules, { regoVersion: 1 }), /VERDICT_PLANNER=opa .*no opa binary was found.*scripts\/install-opa\.sh/);
  });

  it('an unknown VERDICT_PLANNER is an error naming the choices', () => {
    assert.throws(() => defaultCompiler({}, { VERDICT_PLANNER: 'rego' }), /VERDICT_PLANNER must be one of verdict, opa; got "rego"/);
  });
});
