import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { tempDir } from './temp-dir.js';
import { join } from 'node:path';
import tar from 'tar-stream';
import { readBundleArchive, readBundleDirectory, writeBundleArchive, BundleError, defaultBundleLimits } from '../../src/bundle/files.js';

async function tarball(entries: Array<{ name: string; body?: string; type?: 'file' | 'symlink'; linkname?: string }>) {
  const pack = tar.pack();
  for (const e of entries) {
    pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

test('reads files of an archive with OPA-style leading slashes normalised', async () => {
  const files = await readBundleArchive(await tarball([{ name: '/data.json', body: '{}' }, { name: 'a/b/p.rego', body: 'package a.b' }]));
  assert.deepEqual(files.map((f) => f.path), ['data.json', 'a/b/p.rego']);
  assert.equal(files[1]!.data.toString(), 'package a.b');
});

test('rejects a path that escapes the bundle', async () => {
  await assert.rejects(readBundleArchive(await tarball([{ name: '../evil.rego', body: 'x' }])), /escapes the bundle root/);
});

test('rejects symbolic links', async () => {
  await assert.rejects(readBundleArchive(await tarball([{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }])), /only regular files/);
});

test('rejects duplicate paths', async () => {
  await assert.rejects(readBundleArchive(await tarball([{ name: 'data.json', body: '{}' }, { name: './data.json', body: '{}' }])), /more than once/);
});

test('stops a gzip bomb at the uncompressed limit', async () => {
  const bomb = await tarball([{ name: 'data.json', body: ' '.repeat(2_000_000) }]);
  assert.ok(bomb.length < 20_000);
  await assert.rejects(
    readBundleArchive(bomb, { ...defaultBundleLimits, maxUncompressedBytes: 1_000_000 }),
    (err: unknown) => err instanceof BundleError && /larger than 1000000 bytes/.test(err.message),
  );
});

test('rejects bytes that are not gzip', async () => {
  await assert.rejects(readBundleArchive(Buffer.from('not a tarball')), /not valid gzip/);
});

test('reads a directory and refuses symlinks in it', async () => {
  const dir = tempDir('verdict-bundle-');
  mkdirSync(join(dir, 'x'));
  writeFileSync(join(dir, 'x', 'data.json'), '{"a":1}');
  assert.deepEqual((await readBundleDirectory(dir)).map((f) => f.path), ['x/data.json']);
  symlinkSync('/etc/passwd', join(dir, 'x', 'link'));
  await assert.rejects(readBundleDirectory(dir), /not a regular file/);
});

test('refuses an archive that expands far beyond its compressed size once past the floor', async () => {
  const bomb = await tarball([{ name: 'data.json', body: ' '.repeat(3_000_000) }]);
  const limits = { ...defaultBundleLimits, ratioFloorBytes: 1_000_000, maxCompressionRatio: 100 };
  await assert.rejects(readBundleArchive(bomb, limits), /expands more than 100 times its compressed size/);
  // Under the floor the same ratio is allowed: small repetitive files are normal.
  await readBundleArchive(bomb, { ...limits, ratioFloorBytes: 4_000_000 });
});

test('an archive written by writeBundleArchive reads back identically', async () => {
  const files = [{ path: '.manifest', data: Buffer.from('{}') }, { path: 'a/b/p.rego', data: Buffer.from('package a.b') }];
  assert.deepEqual(await readBundleArchive(await writeBundleArchive(files)), files);
});

test('reads an archive whatever size its gzip trailer states: exact, too small, too large, or a second member', async () => {
  const body = JSON.stringify({ list: Array.from({ length: 5000 }, (_, i) => `item-${i}`) });
  const archive = await tarball([{ name: 'data.json', body }, { name: 'p.rego', body: 'package p' }]);
  const stating = (size: number) => {
    const copy = Buffer.from(archive);
    copy.writeUInt32LE(size, copy.length - 4);
    return copy;
  };
  // The trailer's size is only a hint for the output buffer: gunzip checks it at the end, so a wrong one is refused.
  const exact = await readBundleArchive(archive);
  assert.equal(exact.find((f) => f.path === 'data.json')!.data.toString(), body);
  await assert.rejects(readBundleArchive(stating(10)), /not valid gzip/);
  await assert.rejects(readBundleArchive(stating(0xffffffff)), /not valid gzip/);
  // Two members: the trailer states the last one's size only.
  const split = Math.floor(archive.length / 2);
  const tarBytes = (await import('node:zlib')).gunzipSync(archive);
  const twoMembers = Buffer.concat([gzipSync(tarBytes.subarray(0, split)), gzipSync(tarBytes.subarray(split))]);
  const files = await readBundleArchive(twoMembers);
  assert.equal(files.find((f) => f.path === 'data.json')!.data.toString(), body);
  assert.equal(files.find((f) => f.path === 'p.rego')!.data.toString(), 'package p');
});
