// The store's queue of rows (writer-batch.ts): rows written into shared buffers, one chunk per batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchState, RowQueue, type WriterRow } from '../../src/decisionlog/writer-batch.js';
import { sampleEvent } from './helpers.js';

function row(i: number, input?: unknown): WriterRow {
  const event = sampleEvent({ decision_id: `id-${i}`, ...(input ? { input } : {}) });
  return [event.decision_id, BigInt(i), 'a/b', 'allow', null, null, null, event, {}, null];
}

test('when several batches waited at once, the next ones are written into their buffers, not into new ones', () => {
  const queue = new RowQueue(4);
  // Three batches wait, as when the writer thread falls behind.
  for (let i = 0; i < 12; i++) queue.push(row(i));
  const used = new Set<ArrayBufferLike>();
  for (let n = 0; n < 3; n++) {
    const front = queue.front()!;
    assert.equal(front.batch.count, 4);
    used.add(front.batch.bytes.buffer);
    queue.committed(4, true);
  }
  assert.equal(used.size, 3);
  for (let i = 0; i < 12; i++) queue.push(row(i));
  for (let n = 0; n < 3; n++) {
    const { batch } = queue.front()!;
    assert.ok(used.has(batch.bytes.buffer), `batch ${n} has a new buffer`);
    assert.match(Buffer.from(batch.bytes).toString('utf8'), new RegExp(`id-${4 * n}`));
    queue.committed(4, true);
  }
  assert.equal(queue.length, 0);
});

test('open queue (sync): rows added after the batch went to the writer join it, published in its shared state', () => {
  const queue = new RowQueue(8, true);
  queue.push(row(0));
  const { batch, committed } = queue.front()!;
  assert.equal(committed, 0);
  const ready = () => Atomics.load(batch.state, batchState.ready);
  assert.equal(ready(), 1);
  queue.push(row(1));
  queue.push(row(2));
  assert.equal(ready(), 3);
  assert.equal(queue.front()!.batch.bytes.buffer, batch.bytes.buffer, 'the same batch');
  queue.committed(2, false);
  assert.equal(queue.length, 1);
  // Full: sealed, and the next row starts a new batch.
  for (let i = 3; i < 9; i++) queue.push(row(i));
  assert.equal(Atomics.load(batch.state, batchState.sealed), 1);
  assert.equal(ready(), 8);
  queue.committed(8, true);
  assert.equal(queue.length, 1);
  assert.match(Buffer.from(queue.front()!.batch.bytes).toString('utf8'), /id-8/);
});

test('a row that does not fit the buffer of a batch at the writer starts a new batch; the held one never moves', () => {
  const queue = new RowQueue(1000, true);
  queue.push(row(0));
  const first = queue.front()!.batch;
  const bytes = first.bytes;
  let n = 1;
  const big = { blob: 'x'.repeat(5_000) };
  while (Atomics.load(first.state, batchState.sealed) === 0) queue.push(row(n++, big));
  assert.ok(n < 1000, 'sealed before it was full, by its buffer');
  assert.equal(first.bytes, bytes);
  assert.equal(Atomics.load(first.state, batchState.ready), n - 1, 'the row that did not fit is not in it');
  queue.committed(n - 1, true);
  assert.match(Buffer.from(queue.front()!.batch.bytes).toString('utf8'), new RegExp(`id-${n - 1}`));
});

test('default queue: a batch takes no more rows once handed to the writer', () => {
  const queue = new RowQueue(8);
  queue.push(row(0));
  const { batch } = queue.front()!;
  queue.push(row(1));
  assert.equal(Atomics.load(batch.state, batchState.ready), 1);
  assert.equal(Atomics.load(batch.state, batchState.sealed), 1);
  queue.committed(1, true);
  assert.equal(queue.front()!.batch.state[batchState.ready], 1);
});

test('a waiting writer (batchState.wake) is told once of the rows published and of the seal', () => {
  let wakes = 0;
  const queue = new RowQueue(8, true, () => wakes++);
  queue.push(row(0));
  const { batch } = queue.front()!;
  queue.push(row(1));
  assert.equal(wakes, 0, 'a busy writer gets no wake-up');
  Atomics.store(batch.state, batchState.wake, 1);
  queue.push(row(2));
  assert.equal(wakes, 1);
  assert.equal(Atomics.load(batch.state, batchState.wake), 0);
  queue.push(row(3));
  assert.equal(wakes, 1, 'asked once');
  Atomics.store(batch.state, batchState.wake, 1);
  queue.sealFront();
  assert.equal(wakes, 2);
});

test('a batch the writer committed whole before it saw the seal stays until its last answer, which settles none of the next batch', async () => {
  const queue = new RowQueue(2, true);
  const first = [queue.push(row(0), true)];
  const { batch } = queue.front()!;
  first.push(queue.push(row(1), true)); // full: sealed after the writer took both rows
  queue.committed(2, false);
  assert.deepEqual(await Promise.all(first), ['committed', 'committed']);
  let settled = false;
  void queue.push(row(2), true).then(() => (settled = true));
  assert.equal(queue.front()!.batch.state, batch.state, 'still at the writer');
  queue.committed(2, true); // the writer's answer once it saw the seal
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'the next batch is not committed yet');
  assert.equal(queue.length, 1);
  assert.notEqual(queue.front()!.batch.state, batch.state);
});
