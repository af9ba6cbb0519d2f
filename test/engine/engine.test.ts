import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseBundle } from '../../src/bundle/bundle.js';
import type { BundleFile } from '../../src/bundle/files.js';
import { WasmProgram } from '../../src/engine/program.js';
import { Engine } from '../../src/engine/engine.js';
import { PlanningCompiler, noCompiler, type RegoPlanner } from '../../src/engine/compiler.js';
import type { Policy } from '../../src/ir/plan.js';
import { compilePlan } from '../../src/wasm/compile.js';
import { OpaCliPlanner } from '../../src/engine/opa-compiler.js';
import { referenceOpa, wasmBundleFiles } from './opa-fixture.js';

const gatewayInput = JSON.parse(readFileSync('rego/gateway/input.json', 'utf8')).input;
const file = (path: string, body: string): BundleFile => ({ path, data: Buffer.from(body) });

async function sampleEngine(): Promise<Engine> {
  const files = await wasmBundleFiles('bundles/sample', ['gateway/authz/allow', 'gateway/authz/deny']);
  const engine = new Engine(noCompiler);
  await engine.activate([parseBundle('sample', files)]);
  return engine;
}

test('a policy.wasm bundle answers its entrypoints through Decide', async () => {
  const engine = await sampleEngine();
  assert.deepEqual(await engine.decide('gateway/authz/allow', gatewayInput), { result: true });
  assert.deepEqual(await engine.decide('/gateway/authz/deny', gatewayInput), { result: [] });
  const denied = structuredClone(gatewayInput);
  denied.token.claims.iss = 'https://evil.example/';
  denied.request.method = 'DELETE';
  assert.deepEqual(await engine.decide('gateway/authz/allow', denied), { result: false });
  assert.deepEqual(await engine.decide('gateway/authz/deny', denied), {
    result: ['no role of carol@example.com grants DELETE /v1/projects/verdict/builds', 'token issuer is not trusted'],
  });
});

test('paths above entrypoints compose data and rule results; data paths and system.bundles read from data', async () => {
  const engine = await sampleEngine();
  const pkg = await engine.decide('gateway/authz', gatewayInput);
  assert.deepEqual(pkg, { result: { allow: true, deny: [] } });
  assert.deepEqual(await engine.decide('gateway/role_bindings/bob@example.com', undefined), { result: ['support'] });
  assert.equal(((await engine.decide('system/bundles/sample/manifest', undefined)).result as { revision: string }).revision, 'sample-1');
  assert.deepEqual(await engine.decide('nothing/here', gatewayInput), {});
  assert.deepEqual(await engine.decide('gateway/authz/allow/deeper', gatewayInput), {});
});

test('an aborted evaluation does not poison the next one', async () => {
  const files = await wasmBundleFiles(
    await writeTempBundle({ 'p/p.rego': 'package p\nx := v if { some v in input.vs }\nok := true\n' }),
    ['p/x', 'p/ok'],
  );
  const engine = new Engine(noCompiler);
  await engine.activate([parseBundle('b', files)]);
  await assert.rejects(engine.decide('p/x', { vs: [1, 2] }), /conflict|multiple|complete rule/i);
  assert.deepEqual(await engine.decide('p/x', { vs: [3] }), { result: 3 });
  assert.deepEqual(await engine.decide('p/ok', {}), { result: true });
});

test('data writes reach the next evaluation', async () => {
  const engine = await sampleEngine();
  engine.store.put(['extra', 'k'], 1);
  assert.deepEqual(await engine.decide('extra', undefined), { result: { k: 1 } });
  const bobInput = structuredClone(gatewayInput);
  bobInput.token.claims.sub = 'dave@example.com';
  bobInput.token.claims.groups = [];
  assert.deepEqual(await engine.decide('gateway/authz/allow', bobInput), { result: false });
  assert.throws(() => engine.store.put(['gateway', 'role_bindings', 'dave@example.com'], ['admin']), { message: 'path gateway/role_bindings/dave@example.com is owned by bundle "sample"' });
});

test('a Rego-only bundle without a compiler is refused with a clear error', async () => {
  const engine = new Engine(noCompiler);
  await assert.rejects(engine.activate([parseBundle('r', [file('a/p.rego', 'package a\np := 1\n')])]), /no Rego compiler.*install the reference OPA/);
});

test('the interim OPA compiler builds Rego-only bundles with every rule as an entrypoint', async () => {
  const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())));
  await engine.activate([parseBundle('r', [file('a/p.rego', 'package a\np := input.x + 1\nf(x) := x\nq[k] := 2 if some k in ["m"]\n'), file('a/data.json', '{"d":1}')])]);
  assert.deepEqual(await engine.decide('a/p', { x: 1 }), { result: 2 });
  assert.deepEqual(await engine.decide('a', { x: 1 }), { result: { d: 1, p: 2, q: { m: 2 } } });
});

test('with OPA\'s plans, a rule planned under a `with` of a computed value still conflicts as a rule', async () => {
  // OPA's plan gives such a rule the captured value as a parameter, as a function has its arguments.
  const policy = 'package m\n\nq := 1\nq := 2 if count([1, 2]) == 1\n\nr := x if { v := 1; x := q with count as v }\n';
  const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())));
  await engine.activate([parseBundle('m', [file('m/p.rego', policy)])]);
  await assert.rejects(engine.decide('m/r', {}), /: rule data.m.q produced conflicting values:/);
});

async function writeTempBundle(files: Record<string, string>): Promise<string> {
  const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { join, dirname } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bundle-'));
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
  return dir;
}

test('re-activation swaps bundle data and policies while keeping writes outside the roots', async () => {
  const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())));
  const v1 = parseBundle('b', [file('.manifest', '{"revision":"1","roots":["app"]}'), file('app/data.json', '{"old":1}'), file('app/p.rego', 'package app\nv := 1\n')]);
  await engine.activate([v1]);
  engine.store.put(['scratch'], { kept: true });
  const v2 = parseBundle('b', [file('.manifest', '{"revision":"2","roots":["app"]}'), file('app/data.json', '{"new":2}'), file('app/p.rego', 'package app\nv := 2\n')]);
  await engine.activate([v2]);
  assert.deepEqual(await engine.decide('app', undefined), { result: { new: 2, v: 2 } });
  assert.deepEqual(await engine.decide('scratch', undefined), { result: { kept: true } });
  assert.equal(((await engine.decide('system/bundles/b/manifest/revision', undefined)).result), '2');
});

test('a failed activation leaves the previous policy set serving', async () => {
  const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())));
  await engine.activate([parseBundle('b', [file('app/p.rego', 'package app\nv := 1\n')])]);
  await assert.rejects(engine.activate([parseBundle('b', [file('app/p.rego', 'package app\nv := \n')])]), /error\(s\) occurred while compiling module\(s\)/);
  assert.deepEqual(await engine.decide('app/v', undefined), { result: 1 });
});

test('Rego is planned by the RegoPlanner and compiled by our back end, so another planner can replace OPA', async () => {
  const opa = new OpaCliPlanner(referenceOpa());
  const planned: Policy[] = [];
  const recording: RegoPlanner = {
    async plan(modules, options) {
      const result = await opa.plan(modules, options);
      planned.push(result.plan);
      return result;
    },
  };
  const compiled = await new PlanningCompiler(recording).compile([{ path: 'a/p.rego', source: 'package a\np := input.x * 2\n', packagePath: ['a'] }], { regoVersion: 1 });
  assert.equal(planned.length, 1);
  assert.deepEqual(compiled.entrypoints, ['a/p']);
  // The module is exactly what our back end makes from the planner's plan (not `opa build -t wasm`).
  assert.deepEqual(compiled.wasm, compilePlan(planned[0]));
  const engine = new Engine(new PlanningCompiler(recording));
  await engine.activate([parseBundle('r', [file('a/p.rego', 'package a\np := input.x * 2\n')])]);
  assert.deepEqual(await engine.decide('a/p', { x: 21 }), { result: 42 });
});

test('a plan our back end refuses surfaces as a RegoCompileError naming the problem', async () => {
  const broken: RegoPlanner = {
    async plan() {
      return { plan: { static: { strings: [] }, plans: { plans: [{ name: 'a/p', blocks: [{ stmts: [{ type: 'NoSuchStmt', stmt: {} }] }] }] }, funcs: { funcs: [] } } as unknown as Policy, entrypoints: ['a/p'], packages: [] };
    },
  };
  await assert.rejects(new Engine(new PlanningCompiler(broken)).activate([parseBundle('r', [file('a/p.rego', 'package a\np := 1\n')])]), (err: Error) => {
    assert.equal(err.name, 'RegoCompileError');
    assert.match(err.message, /wasm code generation failed: .*NoSuchStmt/);
    return true;
  });
});

test('data is loaded into every wasm instance at activation, and decisions do not reload it', async () => {
  const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())));
  const wasmBundle = parseBundle('sample', await wasmBundleFiles('bundles/sample', ['gateway/authz/allow']));
  const regoBundle = parseBundle('r', [file('.manifest', '{"revision":"1","roots":["app"]}'), file('app/p.rego', 'package app\nv := data.app.n\n'), file('app/data.json', '{"n":7}')]);
  let loads = 0;
  const begin = WasmProgram.prototype.beginData;
  WasmProgram.prototype.beginData = function (this: WasmProgram) {
    loads++;
    begin.call(this);
  };
  try {
    await engine.activate([wasmBundle, regoBundle]);
    assert.equal(loads, 2, 'one load per wasm instance (the bundle policy.wasm and the compiled Rego)');
    assert.equal(engine.lastDataLoad.instances, 2);
    assert.deepEqual(await engine.decide('app/v', undefined), { result: 7 });
    assert.equal((await engine.decide('gateway/authz/allow', gatewayInput)).result, true);
    assert.equal(loads, 2, 'decisions after activation load nothing');
    engine.store.put(['scratch'], 1);
    assert.deepEqual(await engine.decide('app/v', undefined), { result: 7 });
    assert.equal(loads, 3, 'a Data API write reloads the instance that evaluates next');
  } finally {
    WasmProgram.prototype.beginData = begin;
  }
});
