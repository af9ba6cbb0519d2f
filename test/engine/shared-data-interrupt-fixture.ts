// The shared-data interruption tests' parts both threads run: what a thread holds before the update under test,
// the updates, and what the next thread does after (see shared-data-interrupt.test.ts).
import type { AreaLoader, DataArea, MemoryRange, SharedData } from '../../src/engine/shared-data.js';

export const keyOf = (n: number): Int32Array => Int32Array.from({ length: 8 }, (_, i) => n * 100 + i);

/** A loader that takes one chunk and keeps its first 64 bytes (the content does not matter here). */
export const loadSmall: AreaLoader<number> = (chunks) => {
  const chunk = chunks.next(1);
  chunks.done(chunk.start + 64);
  return chunk.start;
};

export interface Held {
  attached: DataArea;
  region: MemoryRange;
  own: DataArea;
}

/** The main thread's holdings: document 1 and a region. */
export function setUpMain(shared: SharedData): void {
  shared.acquireNow(keyOf(1), 1 << 20, loadSmall);
  shared.allocRegion(1 << 20);
}

/** The interrupted thread's holdings: attached to document 1, a region, and document 2 that only it reads. */
export function setUpThread(shared: SharedData): Held {
  return { attached: shared.acquireNow(keyOf(1), 1 << 20, loadSmall), region: shared.allocRegion(2 << 20), own: shared.acquireNow(keyOf(2), 1 << 20, loadSmall) };
}

/** The updates under test, each one or more critical sections. */
export const operations: Record<string, (shared: SharedData, held: Held) => void> = {
  'allocate a region': (shared) => void shared.allocRegion(1 << 20),
  'free a region': (shared, held) => shared.freeRegion(held.region),
  'load a document (claim, chunk, trim, publish)': (shared) => void shared.acquireNow(keyOf(3), 1 << 20, loadSmall),
  'attach to a loaded document': (shared) => void shared.acquireNow(keyOf(1), 1 << 20, loadSmall),
  'drop the last reference of a document (its area and chunks freed)': (shared, held) => shared.release(held.own),
  'give back everything an ended thread held': (shared) => void shared.releaseAllIfUnlocked(),
  'read the tables': (shared) => void shared.areas(),
};

/** What the next thread sees and does once the interrupted one is released: every figure must be as without it. */
export function followUp(shared: SharedData): unknown {
  const before = shared.areas();
  const region = shared.allocRegion(3 << 20);
  const loaded = shared.acquireNow(keyOf(3), 1 << 20, loadSmall);
  const attached = shared.acquireNow(keyOf(1), 1 << 20, loadSmall);
  return { before, region, loaded: [loaded.index, loaded.dataAddr], attached: [attached.index, attached.dataAddr], after: shared.areas() };
}
