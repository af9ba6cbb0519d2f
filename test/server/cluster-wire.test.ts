// The server threads' channel encoding: NumberText survives structured clone (v8.serialize is the same
// serialisation), nothing else changes, the sender's value is left untouched, and deep values need no recursion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import { MessageChannel } from 'node:worker_threads';
import type { Bundle } from '../../src/bundle/bundle.js';
import { NumberText } from '../../src/json/number-text.js';
import { writeJson } from '../../src/json/writer.js';
import { packData, packedForm, packedText } from '../../src/json/packed.js';
import { fromPayload, toPayload, type Payload } from '../../src/server/cluster/payload.js';
import type { Change } from '../../src/server/cluster/protocol.js';
import { fromWire, toWire } from '../../src/server/cluster/wire.js';

const channel = <T>(value: T): T => fromWire(deserialize(serialize(toWire(value))) as T);

test('NumberText crosses the channel as NumberText, in objects, arrays and at the top', () => {
  const value = { a: new NumberText('1e400'), b: [1, new NumberText('1.0'), { c: new NumberText('-0') }], d: 'text', e: null, bytes: new Uint8Array([1, 2]) };
  const received = channel(value);
  assert.ok(received.a instanceof NumberText);
  assert.equal(writeJson({ a: received.a, b: received.b, d: received.d, e: received.e }), '{"a":1e400,"b":[1,1.0,{"c":-0}],"d":"text","e":null}');
  assert.deepEqual([...received.bytes], [1, 2]);
  assert.ok(channel(new NumberText('123456789012345678901234567890')) instanceof NumberText);
});

test('without the encoding structured clone flattens NumberText, which is what the encoding is for', () => {
  const flattened = deserialize(serialize({ a: new NumberText('1e400') })) as { a: unknown };
  assert.ok(!(flattened.a instanceof NumberText));
});

test("the sender's value is not changed, and a value without NumberText is sent as it is", () => {
  const inner = { n: new NumberText('1e400') };
  const value = { inner, plain: { x: 1 } };
  const wire = toWire(value);
  assert.ok(value.inner.n instanceof NumberText);
  assert.notEqual(wire, value);
  assert.equal(wire.plain, value.plain);
  const plain = { x: [1, 2, { y: 'z' }] };
  assert.equal(toWire(plain), plain);
});

test('values nested 10,000 levels deep are encoded and restored without recursion', () => {
  let deep: unknown = new NumberText('1e400');
  for (let i = 0; i < 10_000; i++) deep = i % 2 === 0 ? [deep] : { k: deep };
  let received = channel(deep);
  for (let i = 9_999; i >= 0; i--) received = i % 2 === 0 ? (received as unknown[])[0] : (received as { k: unknown }).k;
  assert.ok(received instanceof NumberText);
});

/** A payload as another thread receives it: through a MessagePort, which shares the buffers instead of copying them. */
async function overPort(payload: Payload): Promise<Payload> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<Payload>((resolve) => port2.once('message', resolve));
  port1.postMessage(payload);
  const value = await received;
  port1.close();
  return value;
}

test('a payload carries exact numbers and deep values to the reader, in one buffer shared by sender and receiver', async () => {
  let deep: unknown = new NumberText('1e400');
  for (let i = 0; i < 5_000; i++) deep = { k: deep };
  const payload = toPayload({ kind: 'data', value: { n: new NumberText('0.10'), deep } });
  const shared = await overPort(payload);
  // The same memory: a write on one side is seen on the other.
  const first = new Uint8Array(payload.bytes)[0];
  new Uint8Array(payload.bytes)[0] = first ^ 0xff;
  assert.equal(new Uint8Array(shared.bytes)[0], first ^ 0xff);
  new Uint8Array(payload.bytes)[0] = first;
  const received = fromPayload<{ value: { n: unknown; deep: unknown } }>(shared).value;
  assert.ok(received.n instanceof NumberText);
  assert.equal(writeJson(received.n), '0.10');
  let node = received.deep;
  for (let i = 0; i < 5_000; i++) node = (node as { k: unknown }).k;
  assert.ok(node instanceof NumberText);
});

test("a bundle activation's packed data crosses as its text, stays packed, and reads back with exact numbers and deep values", async () => {
  let deep: unknown = new NumberText('1e400');
  for (let i = 0; i < 5_000; i++) deep = [deep];
  const bundle = { name: 'b', manifest: { revision: 'r', roots: ['x'] }, data: packData({ x: { n: new NumberText('1.50'), deep } }, 1), modules: [], wasm: [{ path: 'p.wasm', bytes: new Uint8Array([0, 97, 115, 109]) }] };
  assert.ok(packedText(bundle.data.x));
  const payload = toPayload({ kind: 'bundles', bundles: [bundle] });
  const sent = packedForm(bundle.data.x)!.deflated;
  assert.ok(payload.slabs.includes(sent.buffer as SharedArrayBuffer), 'the slab holding the deflated text travels beside the payload');
  const change = fromPayload<Change>(await overPort(payload));
  assert.equal(change.kind, 'bundles');
  const [received] = (change as { bundles: Bundle[] }).bundles;
  assert.deepEqual(packedText(received.data.x), packedText(bundle.data.x));
  // The receiver reads the sender's deflated text where it lies: the same memory.
  const got = packedForm(received.data.x)!.deflated;
  assert.equal(got.byteLength, sent.byteLength);
  const byte = sent[0]!;
  sent[0] = byte ^ 0xff;
  assert.equal(got[0], byte ^ 0xff);
  sent[0] = byte;
  const x = received.data.x as { n: unknown; deep: unknown };
  assert.equal(writeJson(x.n), '1.50');
  let node = x.deep;
  for (let i = 0; i < 5_000; i++) node = (node as unknown[])[0];
  assert.ok(node instanceof NumberText);
  assert.deepEqual([...received.wasm[0].bytes], [0, 97, 115, 109]);
  assert.deepEqual(received.manifest, bundle.manifest);
});
