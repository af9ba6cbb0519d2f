import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { LocalBundleSource } from '../../src/bundle/watch.js';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { tempDir } from './temp-dir.js';
import { eventually } from '../eventually.js';

function recorder() {
  const loads: BundleFile[][] = [];
  return { loads, activate: async (files: BundleFile[]) => void loads.push(files) };
}

test('a watched directory is reloaded once per burst of edits; a broken edit is recorded and not activated', async () => {
  const dir = tempDir('verdict-watch-');
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'data.json'), '{"v":0}');
  const { loads, activate } = recorder();
  const source = new LocalBundleSource('local', dir, activate, { debounceMs: 150 });
  await source.start();
  for (let v = 1; v <= 5; v++) writeFileSync(join(dir, 'app', 'data.json'), `{"v":${v}}`);
  await eventually('load 1', () => loads.length === 1);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(loads.length, 1, 'one reload for the burst');
  assert.equal(loads[0]!.find((f) => f.path === 'app/data.json')!.data.toString(), '{"v":5}');

  symlinkSync('/etc/passwd', join(dir, 'app', 'leak'));
  await eventually('a failure', () => source.status().failures === 1);
  assert.match(source.status().lastError!, /bundle local from .* was not loaded: bundle entry "app\/leak" is not a regular file/);
  assert.equal(loads.length, 1, 'the broken bundle was never handed to the activator');

  unlinkSync(join(dir, 'app', 'leak'));
  await eventually('load 2', () => loads.length === 2);
  assert.equal(source.status().lastError, undefined);
  await source.stop();
});

test('a watched tarball is reloaded, and an activator refusal is recorded', async () => {
  const dir = tempDir('verdict-watch-tgz-');
  const path = join(dir, 'bundle.tar.gz');
  writeFileSync(path, await writeBundleArchive([{ path: 'data.json', data: Buffer.from('{"v":1}') }]));
  let refuse = false;
  const loads: string[] = [];
  const source = new LocalBundleSource('tgz', path, async (files) => {
    if (refuse) throw new Error('policy does not compile');
    loads.push(files[0]!.data.toString());
  }, { debounceMs: 100 });
  assert.equal((await source.reload()).loads, 1);
  await source.start();
  refuse = true;
  writeFileSync(path, await writeBundleArchive([{ path: 'data.json', data: Buffer.from('{"v":2}') }]));
  await eventually('a failure', () => source.status().failures === 1);
  assert.match(source.status().lastError!, /policy does not compile/);
  refuse = false;
  writeFileSync(path, await writeBundleArchive([{ path: 'data.json', data: Buffer.from('{"v":3}') }]));
  await eventually('load 2', () => loads.length === 2);
  assert.deepEqual(loads, ['{"v":1}', '{"v":3}']);
  await source.stop();
});
