// A thread of shared-data-interrupt.test.ts: sets up its holdings (unless told not to), then runs one update of
// the shared tables. With `stopAt`, it stops for good at that step of the update (it blocks until the test
// terminates it, inside the critical section); without, it reports the tables after each complete update.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedData, tableWords, type SharedDataHandle } from '../../src/engine/shared-data.js';
import { operations, setUpThread, type Held } from './shared-data-interrupt-fixture.js';

const { handle, operation, setUp, stopAt } = workerData as { handle: SharedDataHandle; operation: string; setUp: boolean; stopAt?: number };
const shared = new SharedData(handle);
const held = setUp ? setUpThread(shared) : ({} as Held);
const states = [tableWords(handle.control)];
const steps: string[] = [];
shared.onStep = (step) => {
  steps.push(step);
  if (step === 'complete') states.push(tableWords(handle.control));
  if (steps.length === stopAt) {
    parentPort!.postMessage({ stopped: step });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
};
operations[operation]!(shared, held);
shared.onStep = undefined;
parentPort!.postMessage({ steps, states });
