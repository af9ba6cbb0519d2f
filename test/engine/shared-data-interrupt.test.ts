// A thread that ends inside an update of the shared-data tables (worker.terminate() at shutdown, a crash) leaves
// them as its last complete update did: whoever takes the lock next rolls the rest back (src/engine/shared-data.ts).
// Each update is run to completion once, reporting the tables after each of its complete critical sections, then
// once per step with the thread terminated right after that step, inside the critical section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { SharedData, SharedDataPool, tableWords } from '../../src/engine/shared-data.js';
import { followUp, operations, setUpMain, setUpThread } from './shared-data-interrupt-fixture.js';

interface Report {
  steps: string[];
  states: Int32Array[];
}

/** A thread on `pool` running `operation`; resolves once it reported, stopped at `stopAt`, or failed. */
function runThread(pool: SharedDataPool, operation: string, options: { setUp: boolean; stopAt?: number }): Promise<{ worker: Worker; slot: number; report?: Report; stopped?: string }> {
  const handle = pool.handle();
  const worker = new Worker(new URL('./shared-data-interrupt-worker.js', import.meta.url), { workerData: { handle, operation, ...options } });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { stopped?: string } & Partial<Report>) => resolve({ worker, slot: handle.slot, ...(m.stopped ? { stopped: m.stopped } : { report: m as Report }) }));
  });
}

/** The state the supervisor leaves an ended thread's lock in first (what releaseThread does before releasing). */
function unlockEnded(pool: SharedDataPool, slot: number): void {
  assert.equal(Atomics.compareExchange(new Int32Array(pool.control), 0, slot + 1, 0), slot + 1, 'the ended thread held the lock');
}

/** The tables as a thread that takes the lock next sees them. */
function nextView(main: SharedData, pool: SharedDataPool): Int32Array {
  main.areas();
  return tableWords(pool.control);
}

/** A pool with the main thread's holdings, and the thread under test run on it. */
async function scene(operation: string, stopAt?: number) {
  const pool = new SharedDataPool();
  const main = new SharedData(pool.handle());
  setUpMain(main);
  return { pool, main, ...(await runThread(pool, operation, { setUp: true, ...(stopAt !== undefined ? { stopAt } : {}) })) };
}

/** Where two copies of the tables differ ([word, seen, expected], the first 10): [] when they are equal. */
function differences(seen: Int32Array, expected: Int32Array): [number, number, number][] {
  assert.equal(seen.length, expected.length);
  const found: [number, number, number][] = [];
  for (let i = 0; i < seen.length && found.length < 10; i++) if (seen[i] !== expected[i]) found.push([i, seen[i]!, expected[i]!]);
  return found;
}

/** The complete state the tables must show after stopping at `step`: the last complete update's at or before it. */
function lastComplete(reference: Report, step: number): Int32Array {
  const completed = reference.steps.slice(0, step).filter((s) => s === 'complete').length;
  return reference.states[completed]!;
}

for (const operation of Object.keys(operations).filter((o) => o !== 'read the tables')) {
  test(`a thread ended at any step of an update (${operation}) leaves the tables as its last complete update did`, { timeout: 600_000 }, async () => {
    const whole = await scene(operation);
    const reference = whole.report!;
    await whole.worker.terminate();
    await whole.pool.releaseThread(whole.slot);
    const expectedFollowUp = followUp(whole.main);
    const writes = reference.steps.filter((s) => s === 'written').length;
    assert.ok(writes > 0, 'the update writes');

    for (let step = 1; step <= reference.steps.length; step++) {
      const { pool, main, worker, slot, stopped } = await scene(operation, step);
      assert.equal(stopped, reference.steps[step - 1]);
      await worker.terminate();
      // Every other step, the supervisor's releaseThread is the next to take the lock, and rolls back itself.
      if (step % 2 === 1) {
        unlockEnded(pool, slot);
        assert.deepEqual(differences(nextView(main, pool), lastComplete(reference, step)), [], `stopped after step ${step} (${stopped}) of ${reference.steps.join(' ')}`);
      }
      // The supervisor releases the ended thread; then the others' updates go on as if it had never run.
      await pool.releaseThread(slot);
      assert.deepEqual(followUp(main), expectedFollowUp, `after stopping at step ${step}`);
    }
  });
}

test('a thread ended while rolling back what another left half-done leaves the rollback to the next', { timeout: 600_000 }, async () => {
  const operation = 'drop the last reference of a document (its area and chunks freed)';
  const whole = await scene(operation);
  const reference = whole.report!;
  await whole.worker.terminate();
  await whole.pool.releaseThread(whole.slot);
  const expectedFollowUp = followUp(whole.main);
  // The first thread stops at its last write: every word it changes is in the journal.
  const lastWrite = reference.steps.lastIndexOf('written') + 1;
  const recorded = reference.steps.slice(0, lastWrite).filter((s) => s === 'recorded').length;
  assert.ok(recorded > 1);
  // The second thread takes the lock next and ends after putting back `restored` of those words.
  for (let restored = 1; restored <= recorded; restored++) {
    const { pool, main, worker, slot } = await scene(operation, lastWrite);
    await worker.terminate();
    unlockEnded(pool, slot);
    const second = await runThread(pool, 'read the tables', { setUp: false, stopAt: restored });
    assert.equal(second.stopped, 'restored');
    await second.worker.terminate();
    unlockEnded(pool, second.slot);
    assert.deepEqual(differences(nextView(main, pool), lastComplete(reference, lastWrite)), [], `the second thread stopped after restoring ${restored} of ${recorded} words`);
    await pool.releaseThread(second.slot);
    await pool.releaseThread(slot);
    assert.deepEqual(followUp(main), expectedFollowUp);
  }
});

test('an update that throws half-way is undone before the error reaches its caller, and the lock is free', () => {
  const single = ['allocate a region', 'free a region', 'attach to a loaded document', 'drop the last reference of a document (its area and chunks freed)', 'give back everything an ended thread held'];
  for (const operation of single) {
    const run = (failAt?: number) => {
      const pool = new SharedDataPool();
      const main = new SharedData(pool.handle());
      setUpMain(main);
      const thread = new SharedData(pool.handle());
      const held = setUpThread(thread);
      const before = tableWords(pool.control);
      const steps: string[] = [];
      thread.onStep = (step) => {
        steps.push(step);
        if (steps.length === failAt) throw new Error(`failed at step ${failAt}`);
      };
      let failed: unknown;
      try {
        operations[operation]!(thread, held);
      } catch (error) {
        failed = error;
      }
      thread.onStep = undefined;
      return { pool, main, before, after: tableWords(pool.control), steps, failed };
    };
    const whole = run();
    assert.equal(whole.failed, undefined);
    const complete = whole.steps.indexOf('complete') + 1;
    for (let step = 1; step < complete; step++) {
      const { pool, main, before, after, failed } = run(step);
      assert.match(String(failed), new RegExp(`failed at step ${step}`), operation);
      assert.deepEqual(differences(after, before), [], `${operation}: failed at step ${step} of ${whole.steps.join(' ')}`);
      assert.equal(new Int32Array(pool.control)[0], 0, 'the lock is free');
      main.allocRegion(1 << 20);
    }
  }
});
