import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegoModule } from '../../src/bundle/bundle.js';
import { parseBundle } from '../../src/bundle/bundle.js';
import { CachingCompiler } from '../../src/engine/compile-cache.js';
import { PlanningCompiler, RegoCompileError, type RegoCompiler } from '../../src/engine/compiler.js';
import { Engine } from '../../src/engine/engine.js';
import { OpaCliPlanner } from '../../src/engine/opa-compiler.js';
import { referenceOpa } from './opa-fixture.js';

/** The real compiler (OPA's planner + our back end), counting how often it really compiles. */
function countingCompiler(): RegoCompiler & { calls: number } {
  const real = new PlanningCompiler(new OpaCliPlanner(referenceOpa()));
  const counting = {
    calls: 0,
    compile(modules: RegoModule[], options: { regoVersion: 0 | 1 }) {
      counting.calls++;
      return real.compile(modules, options);
    },
  };
  return counting;
}

const module = (source: string): RegoModule => ({ path: 'b/a/p.rego', packagePath: ['a'], source });
const v1 = { regoVersion: 1 as const };

test('the same modules compile once per process, and once per cache folder across restarts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-cache-'));
  const inner = countingCompiler();
  const first = new CachingCompiler(inner, 'fp', dir);
  const compiled = await first.compile([module('package a\np := 1\n')], v1);
  const again = await first.compile([module('package a\np := 1\n')], v1);
  assert.equal(inner.calls, 1);
  assert.deepEqual(again, compiled);
  assert.deepEqual(first.stats, { memory: 1, disk: 0, compiled: 1 });
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.wasm')).length, 1);

  // A restart: a new cache over the same folder reads the module back instead of compiling.
  const restarted = new CachingCompiler(inner, 'fp', dir);
  const fromDisk = await restarted.compile([module('package a\np := 1\n')], v1);
  assert.equal(inner.calls, 1);
  assert.deepEqual(restarted.stats, { memory: 0, disk: 1, compiled: 0 });
  assert.deepEqual(fromDisk.entrypoints, compiled.entrypoints);
  assert.deepEqual(fromDisk.wasm, compiled.wasm);
  const engine = new Engine(restarted);
  await engine.activate([parseBundle('b', [{ path: 'a/p.rego', data: Buffer.from('package a\np := 1\n') }])]);
  assert.deepEqual(await engine.decide('a/p', undefined), { result: 1 });
});

test('changed source, Rego version or compiler fingerprint compile again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-cache-'));
  const inner = countingCompiler();
  const cache = new CachingCompiler(inner, 'fp1', dir);
  await cache.compile([module('package a\np := 1\n')], v1);
  await cache.compile([module('package a\np := 2\n')], v1);
  await cache.compile([module('package a\np := 2\n')], { regoVersion: 0 });
  await new CachingCompiler(inner, 'fp2', dir).compile([module('package a\np := 2\n')], v1);
  assert.equal(inner.calls, 4);
});

test('a damaged cache file is ignored and rewritten; compile errors are not cached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-cache-'));
  const inner = countingCompiler();
  await new CachingCompiler(inner, 'fp', dir).compile([module('package a\np := 1\n')], v1);
  const wasmFile = readdirSync(dir).find((n) => n.endsWith('.wasm'))!;
  writeFileSync(join(dir, wasmFile), 'not wasm');
  const cache = new CachingCompiler(inner, 'fp', dir);
  const { entrypoints } = await cache.compile([module('package a\np := 1\n')], v1);
  assert.deepEqual(entrypoints, ['a/p']);
  assert.equal(inner.calls, 2);
  assert.deepEqual(cache.stats, { memory: 0, disk: 0, compiled: 1 });

  await assert.rejects(cache.compile([module('package a\np := \n')], v1), RegoCompileError);
  await assert.rejects(cache.compile([module('package a\np := \n')], v1), RegoCompileError);
  assert.equal(inner.calls, 4);
});
