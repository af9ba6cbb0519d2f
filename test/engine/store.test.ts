import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBundle } from '../../src/bundle/bundle.js';
import { DataStore } from '../../src/engine/store.js';

/** A bundle with one data file at `dir` (slash-separated, '' for the top). */
const bundle = (name: string, roots: string[], data: unknown, dir = '') =>
  parseBundle(name, [
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: '1', roots })) },
    { path: dir ? `${dir}/data.json` : 'data.json', data: Buffer.from(JSON.stringify(data)) },
  ]);

test('activation shares bundle data under its roots instead of copying it', () => {
  const store = new DataStore();
  const b = bundle('b', ['users'], { users: { u1: { name: 'a' } } });
  store.activate([b]);
  assert.equal(store.read(['users']), b.data.users);
});

test('Data API writes beside a root never reach the bundle objects above it', () => {
  const store = new DataStore();
  const b = bundle('b', ['a/b'], { x: 1 }, 'a/b');
  store.activate([b]);
  store.put(['a', 'c'], 2);
  assert.deepEqual(b.data, { a: { b: { x: 1 } } }, 'the bundle keeps its own data');
  assert.deepEqual(store.read(['a']), { b: { x: 1 }, c: 2 });
  // Re-activating the same bundle object keeps the write beside the root and replaces what is under it.
  store.activate([b]);
  assert.deepEqual(store.read(['a']), { b: { x: 1 }, c: 2 });
  store.activate([bundle('b', ['a/b'], { y: 3 }, 'a/b')]);
  assert.deepEqual(store.read(['a']), { b: { y: 3 }, c: 2 });
});

test('activation leaves the previous document untouched and bumps the version', () => {
  const store = new DataStore();
  store.put(['scratch'], { kept: true });
  store.activate([bundle('one', ['x'], { x: { v: 1 } })]);
  const before = store.document;
  const version = store.version;
  store.activate([bundle('two', ['y'], { y: { v: 2 } })]);
  assert.deepEqual(before.x, { v: 1 });
  assert.equal(before.y, undefined);
  assert.deepEqual(store.document, { scratch: { kept: true }, y: { v: 2 }, system: { bundles: { two: { manifest: { revision: '1', roots: ['y'] }, etag: '' } } } });
  assert.equal(store.version, version + 1);
});

test('prepared data is the store\'s only once committed; a write in between places the bundles again', () => {
  const store = new DataStore();
  store.activate([bundle('b', ['x'], { x: { v: 1 } })]);
  const prepared = store.prepare([bundle('b', ['x'], { x: { v: 2 } })]);
  assert.deepEqual(store.read(['x']), { v: 1 });
  assert.equal(store.commit(prepared), true);
  assert.deepEqual(store.read(['x']), { v: 2 });
  const again = store.prepare([bundle('b', ['x'], { x: { v: 3 } })]);
  store.put(['scratch'], 1);
  assert.equal(store.commit(again), false);
  assert.deepEqual(store.read(['x']), { v: 3 });
  assert.equal(store.read(['scratch']), 1);
});
