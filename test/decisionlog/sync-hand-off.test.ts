// How a store in sync durability hands its batches to the writer thread: two at a time, committed in the order they
// were sent, a failed one and those behind it sent again in order, nothing written twice, the failure counted once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DecisionLogStore, type RecordResult } from '../../src/decisionlog/store.js';
import { SharedDecisionWriter, type DecisionWriterHandle } from '../../src/decisionlog/shared-writer.js';
import { RowQueue, type WriterBatch, type WriterRow } from '../../src/decisionlog/writer-batch.js';
import type { WriterRequest } from '../../src/decisionlog/writer-worker.js';
import { sampleEvent, sleep, tempDir, waitUntil } from './helpers.js';

type Write = Extract<WriterRequest, { type: 'write' }>;

/** The decision ids a batch holds (each row's first text column). */
function idsOf(batch: WriterBatch): string[] {
  const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  return Array.from({ length: batch.count }, (_, k) => bytes.toString('utf8', k === 0 ? 0 : batch.ends[k * 7 - 1], batch.ends[k * 7]));
}

/**
 * A store in sync durability whose writer is this test: the write requests it sends are collected, and the test
 * answers each as it likes.
 */
function scriptedWriter() {
  const file = join(tempDir(), 'd.db');
  const toWriter = new MessageChannel();
  const control = new MessageChannel();
  const writes: Write[] = [];
  toWriter.port1.on('message', (request: WriterRequest) => {
    if (request.type === 'write') writes.push(request);
    else if (request.type !== 'close') toWriter.port1.postMessage({ id: request.id, ok: true, value: undefined, pruned: 0, commits: 0 });
  });
  const handle: DecisionWriterHandle = { file, durability: 'sync', port: toWriter.port2, control: control.port2, posted: new Int32Array(new SharedArrayBuffer(4)) };
  const store = new DecisionLogStore({ writer: handle, retryDelayMs: { initial: 5, max: 5 } });
  const answer = (write: Write, ok: boolean) =>
    toWriter.port1.postMessage(ok ? { id: write.id, ok, value: write.batch.count, pruned: 0, commits: 1 } : { id: write.id, ok, error: { message: 'disk full', sqlite_code: 'SQLITE_FULL' }, pruned: 0, commits: 0 });
  const done = () => {
    toWriter.port1.close();
    control.port1.close();
  };
  return { store, writes, answer, done };
}

/** Records one event in a turn of its own (so that it makes a batch of its own), and tells when its record() settled. */
async function recordAlone(store: DecisionLogStore, id: string) {
  const settled: { result?: RecordResult } = {};
  const promise = store.record(sampleEvent({ decision_id: id })).then((result) => (settled.result = result));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return { settled, promise };
}

test('sync: a second batch goes to the writer while the first is being committed, and no third', async () => {
  const { store, writes, answer, done } = scriptedWriter();
  const a = await recordAlone(store, 'a');
  const b = await recordAlone(store, 'b');
  const c = await recordAlone(store, 'c');
  await waitUntil(() => writes.length === 2);
  await sleep(20);
  assert.deepEqual(writes.map((w) => idsOf(w.batch)), [['a'], ['b']]);
  answer(writes[0], true);
  await a.promise;
  assert.equal(a.settled.result, 'committed');
  assert.equal(b.settled.result, undefined, 'b waits for its own commit');
  await waitUntil(() => writes.length === 3);
  assert.deepEqual(idsOf(writes[2].batch), ['c']);
  answer(writes[1], true);
  answer(writes[2], true);
  await Promise.all([b.promise, c.promise]);
  assert.equal(store.status().written, 3);
  await store.close();
  done();
});

test('sync: when the first of two batches fails, the failure is counted once and both are sent again in order, then the ones behind them', async () => {
  const { store, writes, answer, done } = scriptedWriter();
  const a = await recordAlone(store, 'a');
  const b = await recordAlone(store, 'b');
  await waitUntil(() => writes.length === 2);
  const c = await recordAlone(store, 'c');
  answer(writes[0], false);
  // The writer fails the second batch unwritten, since the one before it failed.
  answer(writes[1], false);
  await waitUntil(() => writes.length === 4);
  const status = store.status();
  assert.equal(status.write_failures, 1);
  assert.equal(status.state, 'ERROR');
  assert.equal(status.last_error?.sqlite_code, 'SQLITE_FULL');
  assert.equal(status.queue_length, 3);
  // The failed batch first, marked as sent again, then the one behind it; c waits, as two are at the writer.
  assert.deepEqual(writes.slice(2).map((w) => [idsOf(w.batch), w.resend === true]), [[['a'], true], [['b'], false]]);
  await sleep(20);
  assert.equal(writes.length, 4);
  assert.equal(a.settled.result, undefined);
  answer(writes[2], true);
  answer(writes[3], true);
  await Promise.all([a.promise, b.promise]);
  await waitUntil(() => writes.length === 5);
  assert.deepEqual(idsOf(writes[4].batch), ['c']);
  assert.equal(writes[4].resend, undefined);
  answer(writes[4], true);
  await c.promise;
  const after = store.status();
  assert.equal(after.state, 'OK');
  assert.equal(after.written, 3);
  assert.equal(after.write_failures, 1);
  await store.close();
  done();
});

test('sync: close() with two batches at the writer waits for both answers, then for what was queued behind them', async () => {
  const { store, writes, answer, done } = scriptedWriter();
  const a = await recordAlone(store, 'a');
  const b = await recordAlone(store, 'b');
  const c = await recordAlone(store, 'c');
  await waitUntil(() => writes.length === 2);
  let closed = false;
  const closing = store.close().then(() => (closed = true));
  await sleep(20);
  assert.equal(closed, false);
  answer(writes[1], true);
  answer(writes[0], true);
  await waitUntil(() => writes.length === 3);
  assert.equal(closed, false);
  answer(writes[2], true);
  await closing;
  assert.deepEqual([a.settled.result, b.settled.result, c.settled.result], ['committed', 'committed', 'committed']);
  done();
});

test('sync: a flush() that meets a failed batch rejects, and once the disk has room writes everything once, in order', async () => {
  const { store, writes, answer, done } = scriptedWriter();
  const a = await recordAlone(store, 'a');
  const b = await recordAlone(store, 'b');
  await waitUntil(() => writes.length === 2);
  const flushing = store.flush();
  answer(writes[0], false);
  answer(writes[1], false);
  await assert.rejects(flushing, { code: 'db_write_failed' });
  await waitUntil(() => writes.length === 4);
  answer(writes[2], true);
  answer(writes[3], true);
  await store.flush();
  assert.deepEqual(writes.map((w) => idsOf(w.batch)), [['a'], ['b'], ['a'], ['b']]);
  await Promise.all([a.promise, b.promise]);
  assert.equal(store.status().written, 2);
  await store.close();
  done();
});

/** A batch of the given events' rows, as a store would send it. */
function batchOf(ids: string[], blob = 0): WriterBatch {
  const queue = new RowQueue(ids.length);
  for (const id of ids) {
    const event = sampleEvent({ decision_id: id, ...(blob ? { input: { blob: 'x'.repeat(blob) } } : {}) });
    const row: WriterRow = [id, 1n, 'a/b', 'allow', null, null, null, event, { maskCredentials: true }, null];
    queue.push(row);
  }
  return queue.front()!.batch;
}

/** Talks to the writer thread through a handle's port, as a store does. */
function rawStore(writer: SharedDecisionWriter) {
  const handle = writer.handle();
  let nextId = 1;
  const replies = new Map<number, (reply: { ok: boolean }) => void>();
  handle.port.on('message', (reply: { id: number; ok: boolean }) => replies.get(reply.id)?.(reply));
  const call = (request: Record<string, unknown>) =>
    new Promise<{ ok: boolean }>((resolve) => {
      const id = nextId++;
      replies.set(id, resolve);
      handle.port.postMessage({ ...request, id });
    });
  return { handle, call, close: () => (handle.port.close(), handle.control.close()) };
}

function storedIds(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT decision_id FROM decisions ORDER BY seq').all() as { decision_id: string }[]).map((r) => r.decision_id);
  } finally {
    db.close();
  }
}

test("the writer keeps a store's batches in order: after one fails, the store's later batches fail unwritten until it comes again, and other stores' are written", async () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file, durability: 'sync' });
  const one = rawStore(writer);
  const other = rawStore(writer);
  assert.equal((await one.call({ type: 'write', batch: batchOf(['first']) })).ok, true);
  const db = new Database(file, { readonly: true });
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.close();
  assert.equal((await one.call({ type: 'pragma', statement: `max_page_count = ${pages}` })).ok, true);
  // Sent at once, as a store with two batches at the writer: the first does not fit, the second (small) would.
  const [big, small] = await Promise.all([one.call({ type: 'write', batch: batchOf(['big'], 300_000) }), one.call({ type: 'write', batch: batchOf(['small']) })]);
  assert.equal(big.ok, false);
  assert.equal(small.ok, false, 'the batch behind a failed one is not written before it');
  assert.equal((await one.call({ type: 'write', batch: batchOf(['later']) })).ok, false, 'nor is a later one');
  assert.equal((await other.call({ type: 'write', batch: batchOf(['other']) })).ok, true, "another store's batch is written");
  assert.deepEqual(storedIds(file), ['first', 'other']);
  assert.equal((await one.call({ type: 'pragma', statement: 'max_page_count = 1000000' })).ok, true);
  const again = await Promise.all([
    one.call({ type: 'write', batch: batchOf(['big'], 300_000), resend: true }),
    one.call({ type: 'write', batch: batchOf(['small']) }),
    one.call({ type: 'write', batch: batchOf(['later']) }),
  ]);
  assert.deepEqual(again.map((r) => r.ok), [true, true, true]);
  assert.deepEqual(storedIds(file), ['first', 'other', 'big', 'small', 'later']);
  one.close();
  other.close();
  await writer.close();
});
