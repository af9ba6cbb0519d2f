// Large bundle data is held as JSON text and parsed only where read: readers see exactly the document the
// bundle held, the loader gets the text as it is, and small documents are left as JS values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBundle, parseBundleYielding } from '../../src/bundle/bundle.js';
import { dataPieces } from '../../src/engine/data-load.js';
import { DataStore } from '../../src/engine/store.js';
import { cloneJson } from '../../src/json/clone.js';
import { NumberText } from '../../src/json/number-text.js';
import { packData, packDataYielding, packedForm, packedText } from '../../src/json/packed.js';
import { readJson, readJsonYielding } from '../../src/json/reader.js';
import { writeJson } from '../../src/json/writer.js';

function teams(count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let t = 0; t < count; t++) {
    out[`t${t}`] = Object.fromEntries(Array.from({ length: 20 }, (_, u) => [`u${u}`, { name: `n-${t}-${u}`, big: new NumberText('1e400'), tags: ['a', 'b'] }]));
  }
  out.list = Array.from({ length: 100 }, (_, i) => ({ i }));
  out.tiny = { a: 1 };
  return out;
}

test('small documents are left as they are', () => {
  const data = { users: { a: 1 }, list: [1, 2] };
  assert.equal(packData(data, 1), data);
});

test('packed parts read exactly as the document they stand for, as objects and arrays, and refuse writes', () => {
  const data = { users: teams(5) };
  const packed = packData(data, 2);
  assert.notEqual(packed, data);
  assert.equal(writeJson(packed), writeJson(data));
  const users = packed.users as Record<string, unknown>;
  assert.equal(packedText(users), undefined, 'above the roots objects stay objects');
  assert.ok(packedText(users.t1));
  assert.equal(Buffer.from(packedText(users.t1)!).toString(), writeJson(data.users.t1));
  const held = packedForm(users.t1)!;
  assert.ok(held.deflated.byteLength * 3 < packedText(users.t1)!.byteLength, `held deflated: ${held.deflated.byteLength} bytes for ${packedText(users.t1)!.byteLength} of text`);
  assert.equal(held.array, false);
  assert.equal(packedForm(users.list)?.array, true);
  assert.equal(packedText(users.tiny), undefined, 'small values stay JS values');
  assert.ok(Array.isArray(users.list) && packedText(users.list));
  assert.equal((users.list as unknown[]).length, 100);
  const t1 = users.t1 as Record<string, { name: string; big: unknown }>;
  assert.deepEqual(Object.keys(t1).slice(0, 2), ['u0', 'u1']);
  assert.ok('u3' in t1 && !('u99' in t1));
  assert.equal(t1.u3.name, 'n-1-3');
  assert.ok(t1.u3.big instanceof NumberText);
  assert.throws(() => {
    (users.t1 as Record<string, unknown>).x = 1;
  }, /read-only/);
  assert.equal(cloneJson(packed).users && (cloneJson(packed).users as Record<string, unknown>).t1, users.t1, 'copies share packed parts');
});

test('small packed parts share slabs of memory, each holding its own text', () => {
  const data = { users: teams(40) };
  const users = packData(data, 2).users as Record<string, unknown>;
  const forms = Object.keys(data.users).filter((k) => /^t\d+$/.test(k)).map((k) => packedForm(users[k])!);
  assert.ok(forms[0]!.deflated.buffer instanceof SharedArrayBuffer);
  // 40 values in one slab, or two when an earlier value's slab filled up meanwhile.
  assert.ok(new Set(forms.map((f) => f.deflated.buffer)).size <= 2);
  assert.ok(forms[0]!.deflated.buffer.byteLength > 10 * forms.reduce((n, f) => n + f.deflated.byteLength, 0));
  for (const [t, key] of ['t0', 't17', 't39'].entries()) {
    assert.equal(Buffer.from(packedText(users[key])!).toString(), writeJson(data.users[key as keyof typeof data.users]), `team ${t}`);
  }
});

test('the loader gets a packed part as its text, one piece', () => {
  const packed = packData({ users: teams(3) }, 1);
  const pieces = [...dataPieces(packed)].map((p) => ({ path: p.path.join('/'), json: Buffer.from(p.json).toString() }));
  assert.deepEqual(pieces.slice(0, 2), [
    { path: '', json: '{}' },
    { path: 'users', json: writeJson((packed as { users: unknown }).users) },
  ]);
});

test('a bundle with large data is packed below its roots, and the store reads through it', () => {
  const json = writeJson(teams(40));
  const bundle = parseBundle('b', [
    { path: '.manifest', data: Buffer.from('{"revision":"1","roots":["acme/users"]}') },
    { path: 'acme/users/data.json', data: Buffer.from(json) },
  ]);
  const acme = bundle.data.acme as Record<string, unknown>;
  assert.equal(packedText(acme), undefined);
  assert.ok(packedText(acme.users));
  const store = new DataStore();
  store.activate([bundle]);
  assert.equal(store.read(['acme', 'users', 't7', 'u2', 'name']), 'n-7-2');
  assert.equal(writeJson(store.read(['acme', 'users'])), writeJson(readJson(json)));
});

test('a bundle read while serving is packed the same, and the event loop turns while it is read and packed', async () => {
  const json = writeJson({ users: teams(3000) }); // a few MB: read and packed in several turns
  const files = [
    { path: '.manifest', data: Buffer.from('{"revision":"1","roots":["users"]}') },
    { path: 'data.json', data: Buffer.from(json) },
  ];
  let turns = 0;
  const ticking = setInterval(() => turns++, 0);
  const bundle = await parseBundleYielding('b', files).finally(() => clearInterval(ticking));
  const users = bundle.data.users as Record<string, unknown>;
  assert.ok(packedText(users.t0));
  assert.equal(writeJson(bundle.data), writeJson(parseBundle('b', files).data));
  assert.ok(turns > 0, 'timers ran during the read');
  const packed = await packDataYielding({ users: teams(30) }, 1);
  assert.ok(packedText(packed.users));
});

test('a large data.json is packed piece by piece as it is read, never whole as objects; a data file below it still merges', async () => {
  const json = writeJson({ users: teams(3000) });
  const levels: number[] = [];
  // Every read of a piece's members (opening a packed one: inflating and parsing it), until the read is over.
  const reads: PropertyKey[] = [];
  const read = (await readJsonYielding(json, undefined, (value, enclosing) => {
    levels.push(enclosing);
    const piece = packData({ piece: value }, 1).piece as object;
    return new Proxy(piece, { get: (target, key) => (reads.push(key), Reflect.get(target, key)) });
  })) as { users: Record<string, unknown> };
  assert.deepEqual(reads, [], 'no piece was read while the document was (a promise resolved with a piece reads its `then`)');
  assert.ok(levels.length > 1000, `the document came in pieces (${levels.length})`);
  assert.ok(levels.every((level) => level === 2), 'each team is one piece, two objects deep');
  assert.ok(packedText(read.users.t0), 'a piece was replaced as soon as it was read');
  assert.equal(writeJson(read), json);

  const nested = [
    { path: '.manifest', data: Buffer.from('{"revision":"1","roots":[""]}') },
    { path: 'data.json', data: Buffer.from(json) },
    { path: 'users/t0/u0/data.json', data: Buffer.from('{"extra":true}') },
  ];
  const bundle = await parseBundleYielding('b', nested);
  assert.equal(writeJson(bundle.data), writeJson(parseBundle('b', nested).data));
  const users = bundle.data.users as Record<string, Record<string, Record<string, unknown>>>;
  assert.equal(users.t0!.u0!.extra, true);
});

test('a copy with sorted keys (as the Data API answers) opens packed parts: sorted at every depth, and writable', () => {
  const descending = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${String(100 - i).padStart(3, '0')}`, i]));
  const packed = packData({ app: { zeta: descending, alpha: 1 } }, 1);
  assert.ok(packedText((packed.app as Record<string, unknown>).zeta) ?? packedText(packed.app), 'the document has a packed part');
  const copy = cloneJson(packed, { sortKeys: true }) as { app: { zeta: Record<string, unknown> } };
  assert.deepEqual(Object.keys(copy.app), ['alpha', 'zeta']);
  assert.deepEqual(Object.keys(copy.app.zeta).slice(0, 3), ['k001', 'k002', 'k003']);
  assert.equal(packedText(copy.app.zeta), undefined);
  copy.app.zeta.extra = true;
  assert.equal(copy.app.zeta.extra, true);
});
