import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyPatch, parsePatchFile, parsePatchPath, checkDeltaManifest, DeltaError, type JsonValue, type PatchOperation } from '../../src/bundle/delta.js';
import { writeBundleArchive } from '../../src/bundle/files.js';
import { TestBundleServer } from './bundle-server.js';
import { referenceOpa } from './reference-opa.js';
import { tempDir } from './temp-dir.js';
import { freePort } from '../free-port.js';

const base = (): { [key: string]: JsonValue } => ({ app: { users: ['ana', 'bo'], limits: { max: 3 } }, other: { keep: true } });

test('upsert creates missing parents, replace and remove need the target', () => {
  const data = base();
  const next = applyPatch(data, [
    { op: 'upsert', path: '/app/limits/min', value: 1 },
    { op: 'upsert', path: '/new/deep/leaf', value: 'x' },
    { op: 'replace', path: '/app/limits/max', value: 5 },
    { op: 'remove', path: '/other/keep' },
  ]);
  assert.deepEqual(next, { app: { users: ['ana', 'bo'], limits: { max: 5, min: 1 } }, other: {}, new: { deep: { leaf: 'x' } } });
  assert.deepEqual(data, base(), 'the input tree is untouched');
  assert.equal(next.app && (next.app as { users: JsonValue }).users, (data.app as { users: JsonValue }).users, 'untouched parts are shared');
});

test('a failing operation is named and nothing changes', () => {
  const data = base();
  assert.throws(() => applyPatch(data, [{ op: 'upsert', path: '/a', value: 1 }, { op: 'replace', path: '/app/nope', value: 1 }]),
    (err: unknown) => err instanceof DeltaError && /operation 1 \(replace \/app\/nope\): document missing/.test(err.message));
  assert.throws(() => applyPatch(data, [{ op: 'remove', path: '/missing/x' }]), /operation 0 \(remove \/missing\/x\): document missing/);
  assert.throws(() => applyPatch(data, [{ op: 'upsert', path: '/app/limits/max/x', value: 1 }]), /below a number/);
  assert.throws(() => applyPatch(data, [{ op: 'remove', path: '/' }]), /root cannot be removed/);
  assert.throws(() => applyPatch(data, [{ op: 'replace', path: '/app/users/5', value: 1 }]), /index "5" is out of range/);
  assert.deepEqual(data, base());
});

test('patch paths: JSON Pointer and %-escapes', () => {
  assert.deepEqual(parsePatchPath('/a~1b/c~0d/e%20f/'), ['a/b', 'c~d', 'e f']);
  assert.deepEqual(parsePatchPath('/'), []);
});

test('patch.json is validated with the failing operation named', () => {
  assert.throws(() => parsePatchFile(Buffer.from('{')), /patch.json is not valid JSON/);
  assert.throws(() => parsePatchFile(Buffer.from('{"data":{}}')), /"data" array/);
  assert.throws(() => parsePatchFile(Buffer.from('{"data":[{"op":"merge","path":"/a"}]}')), /operation 0: bad patch operation "merge"/);
  assert.throws(() => parsePatchFile(Buffer.from('{"data":[{"op":"upsert","path":"/a"}]}')), /has no "value"/);
  assert.deepEqual(parsePatchFile(Buffer.from('{"data":[]}')), []);
});

test('a delta may not change the roots or wasm of the active snapshot', () => {
  checkDeltaManifest('authz', { roots: ['b', 'a'] }, { roots: ['a', 'b'] });
  checkDeltaManifest('authz', {}, { roots: [''] });
  assert.throws(() => checkDeltaManifest('authz', { roots: ['a'] }, { roots: ['a', 'c'] }), /delta bundle 'authz' has wasm resolvers or manifest roots that are different/);
});

test('the same patch gives the same data in the reference OPA (delta bundle served to opa run)', async () => {
  const snapshot = { app: { users: ['ana', 'bo'], limits: { max: 3 }, 'a/b': { '~x': 1 } }, other: { keep: true } };
  const ops: PatchOperation[] = [
    { op: 'upsert', path: '/app/users/-', value: 'cy' },
    { op: 'upsert', path: '/app/users/0', value: 'zed' },
    { op: 'remove', path: '/app/users/2' },
    { op: 'replace', path: '/app/limits/max', value: 7 },
    { op: 'upsert', path: '/app/limits', value: { min: 0 } },
    { op: 'upsert', path: '/fresh/path/here', value: [1, { b: 2 }] },
    { op: 'replace', path: '/app/a~1b/~0x', value: 2 },
    { op: 'remove', path: '/other/keep' },
  ];
  const ours = applyPatch(snapshot as { [key: string]: JsonValue }, ops);

  const srv = await TestBundleServer.start();
  srv.setBundle('delta', await writeBundleArchive([{ path: 'data.json', data: Buffer.from(JSON.stringify(snapshot)) }]));
  const work = tempDir('verdict-delta-opa-');
  writeFileSync(join(work, 'config.yaml'), JSON.stringify({
    services: { test: { url: srv.url } },
    bundles: { delta: { service: 'test', polling: { min_delay_seconds: 1, max_delay_seconds: 1 } } },
  }));
  const port = await freePort();
  const opa = spawn(referenceOpa(), ['run', '--server', '--addr', `127.0.0.1:${port}`, '--config-file', join(work, 'config.yaml'), '--log-level', 'error'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => opa.once('exit', resolve));
  const read = async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/data`);
      const body = (await res.json()) as { result?: { [key: string]: JsonValue } };
      const { system: _system, ...data } = body.result ?? {};
      return data;
    } catch {
      return undefined;
    }
  };
  try {
    const until = async (want: unknown) => {
      for (let i = 0; i < 200; i++) {
        const got = await read();
        if (isDeepStrictEqual(got, want)) return got;
        await new Promise((r) => setTimeout(r, 50));
      }
      return read();
    };
    assert.deepEqual(await until(snapshot), snapshot);
    srv.setBundle('delta', await writeBundleArchive([{ path: 'patch.json', data: Buffer.from(JSON.stringify({ data: ops })) }]));
    assert.deepEqual(await until(ours), ours);
  } finally {
    opa.kill('SIGTERM');
    await exited;
    await srv.close();
  }
});
