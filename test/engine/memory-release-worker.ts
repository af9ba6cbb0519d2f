// Runs in a thread of its own (a heap nobody else allocates in): fills the old space with records, keeps one in
// ten, collects as asked (`plain`: V8's own full collection; `compacting`: collectCompacting;
// `compacting-then-plain`: collectCompacting before filling, V8's own after), and reports the old space's committed
// and used bytes.
import { parentPort, workerData } from 'node:worker_threads';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { collectCompacting } from '../../src/engine/memory-release.js';

const oldSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!;
const mode = workerData as 'plain' | 'compacting' | 'compacting-then-plain';
if (mode === 'compacting-then-plain') collectCompacting();

const batches: unknown[][] = [];
for (let i = 0; i < 4000; i++) {
  const batch: unknown[] = [];
  for (let j = 0; j < 200; j++) batch.push({ id: i * 200 + j, name: `user-${i}-${j}` });
  batches.push(batch);
}
// Survivors spread over every page the records were promoted to.
const kept = batches.filter((_, i) => i % 10 === 0);
batches.length = 0;
const before = oldSpace();
if (mode === 'compacting') {
  collectCompacting();
} else {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
const after = oldSpace();
parentPort!.postMessage({ before: before.space_size, committed: after.space_size, used: after.space_used_size, kept: kept.length });
