import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

interface Heap {
  before: number;
  committed: number;
  used: number;
}

function collectIn(mode: 'plain' | 'compacting'): Promise<Heap> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./memory-release-worker.js', import.meta.url), { workerData: mode });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

const MiB = 1 << 20;

test('a compacting collection gives back the pages a plain one leaves committed around the survivors', async () => {
  const plain = await collectIn('plain');
  const compacted = await collectIn('compacting');
  // The same survivors either way: a tenth of the records.
  assert.ok(Math.abs(plain.used - compacted.used) < 4 * MiB, `live ${plain.used} vs ${compacted.used}`);
  assert.ok(plain.before > compacted.used * 3, `the records filled ${plain.before} bytes of old space`);
  // The plain collection leaves most of the filled pages committed; the compacting one leaves about what lives.
  assert.ok(plain.committed > plain.used * 2, `plain: ${plain.committed} committed for ${plain.used} used`);
  assert.ok(compacted.committed < compacted.used * 1.3 + 2 * MiB, `compacting: ${compacted.committed} committed for ${compacted.used} used`);
});

test('the compaction flag is set for that collection only', async () => {
  // After collectCompacting, a plain collection in the same thread behaves as V8's own again (it leaves pages).
  const result = await new Promise<Heap>((resolve, reject) => {
    const worker = new Worker(new URL('./memory-release-worker.js', import.meta.url), { workerData: 'compacting-then-plain' });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.ok(result.committed > result.used * 2, `after the compacting collection, a plain one: ${result.committed} committed for ${result.used} used`);
});
