// Data reaches the wasm instances in pieces: the document they see is exactly the store's, decisions keep
// being answered from the old data while a large activation loads, and the Rego of every bundle shares one
// instance, so one copy of the data.
import { test } from 'node:test';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { parseBundle, type Bundle } from '../../src/bundle/bundle.js';
import { Engine } from '../../src/engine/engine.js';
import { PlanningCompiler } from '../../src/engine/compiler.js';
import { VerdictPlanner } from '../../src/engine/verdict-planner.js';
import { WasmProgram } from '../../src/engine/program.js';
import { PIECE_VALUES, dataPieces } from '../../src/engine/data-load.js';
import { readJson } from '../../src/json/reader.js';
import { writeJson } from '../../src/json/writer.js';
import { cloneJson } from '../../src/json/clone.js';
import { wasmBundleFiles } from './opa-fixture.js';

const engine = () => new Engine(new PlanningCompiler(new VerdictPlanner()));

function bundle(name: string, root: string, dataJson: string, rego: string, revision = '1'): Bundle {
  return parseBundle(name, [
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision, roots: [root] })) },
    { path: `${root}/data.json`, data: Buffer.from(dataJson) },
    { path: `${root}/policy.rego`, data: Buffer.from(rego) },
  ]);
}

/** About `teams` × 100 users: many pieces' worth of values. */
function usersJson(teams: number, tag: string): string {
  const parts: string[] = [];
  for (let t = 0; t < teams; t++) {
    const users: string[] = [];
    for (let u = 0; u < 100; u++) users.push(`"u${u}":{"name":"${tag}-${t}-${u}","n":1.50,"big":123456789012345678901234567890,"tags":["a","b"]}`);
    parts.push(`"t${t}":{${users.join(',')}}`);
  }
  return `{${parts.join(',')},"odd keys":{"a/b":1,"~0":[],"":{}},"__proto__":{"x":1e400}}`;
}

test('data loaded in pieces is exactly the store document, numbers as written', async () => {
  const json = usersJson(60, 'v');
  const e = engine();
  await e.activate([
    parseBundle('b', [
      { path: '.manifest', data: Buffer.from('{"revision":"1","roots":["users","q"]}') },
      { path: 'users/data.json', data: Buffer.from(json) },
      { path: 'q/policy.rego', data: Buffer.from('package q\n\nall := data.users\n') },
    ]),
  ]);
  assert.ok(e.lastDataLoad.pieces > 1, `cut into pieces (${e.lastDataLoad.pieces})`);
  const evaluated = await e.decide('q/all', undefined);
  const expected = cloneJson(readJson(json), { sortKeys: true }) as Record<string, unknown>;
  assert.equal(writeJson(evaluated.result), writeJson(expected));
});

test('dataPieces cuts objects with more values than a piece holds, and sends arrays and small values whole', () => {
  const root = { big: Object.fromEntries(Array.from({ length: PIECE_VALUES + 5 }, (_, i) => [`k${i}`, i])), small: { a: [1, 2] } };
  const pieces = [...dataPieces(root)].map((p) => ({ path: p.path.join('/'), json: Buffer.from(p.json).toString() }));
  assert.deepEqual(pieces[0], { path: '', json: '{}' });
  assert.deepEqual(pieces[1], { path: 'big', json: '{}' });
  assert.deepEqual(pieces[2], { path: 'big/k0', json: '0' });
  assert.deepEqual(pieces.at(-1), { path: 'small', json: '{"a":[1,2]}' });
});

test('decisions are answered from the old data while a large activation loads the new', async () => {
  const e = engine();
  const rego = 'package users.q\n\nname := data.users.t0.u1.name\n';
  await e.activate([bundle('b', 'users', usersJson(2, 'old'), rego)]);
  const next = bundle('b', 'users', usersJson(400, 'new'), rego, '2');
  let loading = false;
  const add = WasmProgram.prototype.addData;
  WasmProgram.prototype.addData = function (this: WasmProgram, piece) {
    loading = true;
    add.call(this, piece);
  };
  const during: unknown[] = [];
  try {
    let done = false;
    const activation = e.activate([next]).then(() => (done = true));
    while (!done) {
      const { result } = await e.decide('users/q/name', undefined);
      if (loading && !done) during.push(result);
      await new Promise((r) => setImmediate(r));
    }
    await activation;
  } finally {
    WasmProgram.prototype.addData = add;
  }
  assert.ok(during.length > 0, 'some decisions came while the data was loading');
  assert.deepEqual([...new Set(during)], ['old-0-1'], 'all from the old data');
  assert.deepEqual(await e.decide('users/q/name', undefined), { result: 'new-0-1' });
});

test('a data activation that fails leaves the old data serving, and a Data API write made during one is kept', async () => {
  const e = engine();
  const rego = 'package users.q\n\nname := data.users.t0.u1.name\n';
  await e.activate([bundle('b', 'users', usersJson(2, 'old'), rego)]);
  // Deeper than the wasm runtime reads: the new instances cannot take it.
  const tooDeep = { ...bundle('b', 'users', '{}', rego, '2'), data: { users: { t0: { u1: { name: 'deep' } }, deep: nest(20_000) } } };
  await assert.rejects(e.activate([tooDeep]), /could not parse/);
  assert.deepEqual(await e.decide('users/q/name', undefined), { result: 'old-0-1' });
  // The write lands while the new data is loading (after the document was prepared).
  const add = WasmProgram.prototype.addData;
  WasmProgram.prototype.addData = function (this: WasmProgram, piece) {
    if (e.store.read(['written']) === undefined) e.store.put(['written'], { during: true });
    add.call(this, piece);
  };
  try {
    await e.activate([bundle('b', 'users', usersJson(200, 'new'), rego, '3')]);
  } finally {
    WasmProgram.prototype.addData = add;
  }
  assert.deepEqual(await e.decide('users/q/name', undefined), { result: 'new-0-1' });
  assert.deepEqual(e.store.read(['written']), { during: true });
  assert.deepEqual(await e.decide('written/during', undefined), { result: true }, 'the instances reloaded with the write');
});

function nest(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

test('the Rego of every bundle and the Policy API share one instance, so the data is held once in wasm', async () => {
  const json = usersJson(50, 'v');
  const one = engine();
  await one.activate([bundle('b', 'users', json, 'package users.q\n\nname := data.users.t0.u1.name\n')]);
  const alone = one.dataMemory();
  assert.equal(alone.instances, 1);
  const many = engine();
  await many.activate([bundle('b', 'users', json, 'package users.q\n\nname := data.users.t0.u1.name\n'), bundle('c', 'other', '{"x":1}', 'package other\n\ny := data.users.t0.u2.name\n')]);
  await many.putModule({ id: 'api.rego', source: 'package api\n\nz := data.users.t1.u3.name\n', packagePath: ['api'] });
  const shared = many.dataMemory();
  assert.equal(shared.instances, 1, 'one wasm instance for all Rego');
  assert.ok(shared.wasmDataBytes < alone.wasmDataBytes * 1.05, `one copy of the data (${shared.wasmDataBytes} bytes against ${alone.wasmDataBytes} for one bundle)`);
  assert.deepEqual(await many.decide('api/z', undefined), { result: 'v-1-3' });
});

test('a policy.wasm built by opa build takes data in pieces too (its runtime places them with opa_value_add_path)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-pieces-'));
  mkdirSync(join(dir, 'users'));
  writeFileSync(join(dir, 'users', 'data.json'), usersJson(250, 'w'));
  mkdirSync(join(dir, 'q'));
  writeFileSync(join(dir, 'q', 'policy.rego'), 'package q\n\nname := data.users.t249.u99.name\n\nexact := data.users.t3.u7.big\n');
  const files = await wasmBundleFiles(dir, ['q/name', 'q/exact']);
  const e = engine();
  await e.activate([parseBundle('w', files)]);
  assert.ok(e.lastDataLoad.pieces > 1);
  assert.deepEqual(await e.decide('q/name', undefined), { result: 'w-249-99' });
  assert.equal(writeJson((await e.decide('q/exact', undefined)).result), '123456789012345678901234567890');
});
