// The store's queue of rows (writer-batch.ts): rows written into shared buffers, one chunk per batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowQueue, type WriterRow } from '../../src/decisionlog/writer-batch.js';
import { sampleEvent } from './helpers.js';

function row(i: number): WriterRow {
  const event = sampleEvent({ decision_id: `id-${i}` });
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
    queue.shift();
  }
  assert.equal(used.size, 3);
  for (let i = 0; i < 12; i++) queue.push(row(i));
  for (let n = 0; n < 3; n++) {
    const { batch } = queue.front()!;
    assert.ok(used.has(batch.bytes.buffer), `batch ${n} has a new buffer`);
    assert.match(Buffer.from(batch.bytes).toString('utf8'), new RegExp(`id-${4 * n}`));
    queue.shift();
  }
  assert.equal(queue.length, 0);
});
