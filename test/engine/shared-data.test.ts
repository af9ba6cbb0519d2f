// One copy of loaded data per process: engines of several threads on one shared WebAssembly.Memory load a
// document once and read it together (src/engine/shared-data.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { SharedData, SharedDataPool } from '../../src/engine/shared-data.js';
import { FIRST_REGION_HEAP } from '../../src/engine/program.js';
import { bundleOf, engineOn, expectedSummary, summary } from './shared-data-fixture.js';

/** What an engine's program takes in the shared memory besides data, at most: its region (plan data, scratch, heap). */
const REGION = FIRST_REGION_HEAP + (4 << 20);

/** A worker thread running shared-data-worker.ts, answering one command at a time. */
class EngineThread {
  private readonly worker: Worker;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  constructor(pool: SharedDataPool, readonly slot = pool.handle()) {
    this.worker = new Worker(new URL('./shared-data-worker.js', import.meta.url), { workerData: { handle: slot } });
    this.worker.on('message', (m: { id: number; answer?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id)!;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error));
      else w.resolve(m.answer);
    });
  }

  ask<T = any>(command: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...command });
    });
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => {
      this.worker.once('exit', resolve);
      void this.ask({ do: 'exit' });
    });
  }
}

test('engines of one process on a shared memory answer as engines with memories of their own, from one copy of the data', async () => {
  const pool = new SharedDataPool();
  const own = engineOn();
  await own.activate([bundleOf(1)]);
  const first = engineOn(pool.handle());
  await first.activate([bundleOf(1)]);
  assert.equal(first.lastDataLoad.pieces > 0, true);
  const loaded = first.sharedData!.areas();
  assert.equal(loaded.count, 1);
  assert.ok(loaded.bytes > 1 << 20, `the document takes ${loaded.bytes} bytes`);
  const before = first.sharedData!.byteLength;

  const second = engineOn(pool.handle());
  await second.activate([bundleOf(1)]);
  // The second engine attached to the first one's area: nothing loaded, no second area.
  assert.equal(second.lastDataLoad.pieces, 0);
  assert.deepEqual(second.sharedData!.areas(), loaded);
  assert.ok(second.sharedData!.byteLength - before <= REGION, 'the memory grew by the second engine\'s region only');

  for (const engine of [own, first, second]) {
    assert.deepEqual(await summary(engine), expectedSummary(1));
    assert.deepEqual(await engine.decide('t/admin', { user: 'user-20' }), { result: true });
    assert.deepEqual(await engine.decide('users/user-3/role', undefined), { result: 'dev' });
  }
  assert.deepEqual(await first.decide('t', { user: 'user-30' }), await own.decide('t', { user: 'user-30' }));
});

test('a Data API write reloads the document once for every engine that reads it, and the old copy is freed', async () => {
  const pool = new SharedDataPool();
  const engines = [engineOn(pool.handle()), engineOn(pool.handle())];
  for (const engine of engines) await engine.activate([bundleOf(2, 2000)]);
  for (const engine of engines) engine.store.put(['extra'], { note: 'written' });
  for (const engine of engines) assert.deepEqual(await engine.decide('t/summary', {}), { result: expectedSummary(2, 2000) });
  for (const engine of engines) assert.deepEqual(await engine.decide('t', {}).then((r) => (r.result as { summary: unknown }).summary), expectedSummary(2, 2000));
  const shared = engines[0]!.sharedData!;
  assert.equal(shared.areas().count, 1, 'the document before the write is freed once both engines read the new one');
});

test('an evaluation that outgrows its heap region runs again with a larger one', async () => {
  const pool = new SharedDataPool();
  const engine = engineOn(pool.handle());
  await engine.replaceModules([], [{ id: 'big.rego', packagePath: ['big'], source: 'package big\nimport rego.v1\nn := count([x | some x in numbers.range(1, 2000000)])\n' }]);
  assert.deepEqual(await engine.decide('big/n', {}), { result: 2000000 });
  assert.ok(engine.sharedData!.byteLength > 2 * FIRST_REGION_HEAP, 'the evaluation ran in a region larger than the first');
});

test('worker threads load a document once, keep answering from theirs while another switches, and free the old copy', async () => {
  const pool = new SharedDataPool();
  const [a, b, c] = [new EngineThread(pool), new EngineThread(pool), new EngineThread(pool)];
  try {
    const loadedByA = await a.ask({ do: 'activate', version: 1 });
    assert.ok(loadedByA.lastDataLoad.pieces > 0);
    const afterA = await a.ask({ do: 'memory' });
    const [byB, byC] = await Promise.all([b.ask({ do: 'activate', version: 1 }), c.ask({ do: 'activate', version: 1 })]);
    assert.equal(byB.lastDataLoad.pieces + byC.lastDataLoad.pieces, 0, 'b and c attached to the copy a loaded');
    const afterC = await c.ask({ do: 'memory' });
    assert.deepEqual(afterC.areas, afterA.areas);
    assert.ok(afterC.byteLength - afterA.byteLength <= 2 * REGION, `memory grew ${afterC.byteLength - afterA.byteLength} bytes for two engines' regions`);

    // b evaluates back to back while a activates version 2: b sees version 1 whole, until it switches itself.
    const [during] = await Promise.all([b.ask({ do: 'evaluate', times: 400 }), a.ask({ do: 'activate', version: 2 })]);
    assert.deepEqual(during.seen.map((s: string) => JSON.parse(s)), [expectedSummary(1)]);
    assert.equal((await a.ask({ do: 'memory' })).areas.count, 2, 'b and c still read version 1');
    for (const t of [b, c]) assert.equal((await t.ask({ do: 'activate', version: 2 })).lastDataLoad.pieces, 0);
    for (const t of [a, b, c]) assert.deepEqual((await t.ask({ do: 'evaluate', times: 1 })).now, expectedSummary(2));
    const switched = await a.ask({ do: 'memory' });
    assert.equal(switched.areas.count, 1, 'version 1 is freed once every thread has switched');

    for (const t of [a, b, c]) await t.ask({ do: 'activate', version: 3 });
    assert.equal((await a.ask({ do: 'memory' })).areas.count, 1);
    for (const t of [a, b, c]) assert.deepEqual((await t.ask({ do: 'evaluate', times: 1 })).now, expectedSummary(3));

    // A thread that ends without giving anything back: the supervisor frees what it held.
    await c.stop();
    await pool.releaseThread(c.slot.slot);
    await a.ask({ do: 'activate', version: 4 });
    await b.ask({ do: 'activate', version: 4 });
    assert.equal((await a.ask({ do: 'memory' })).areas.count, 1, "version 3 is freed: c's hold on it went with c");
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('releasing an ended thread never blocks the supervisor on the lock another ended thread still holds', { timeout: 20_000 }, async () => {
  const pool = new SharedDataPool();
  const first = new SharedData(pool.handle());
  const second = new SharedData(pool.handle());
  const region = first.allocRegion(1 << 20);
  // `second` was terminated inside a critical section: the lock word (the header's first) still names it.
  Atomics.store(new Int32Array(pool.control), 0, second.slot + 1);
  let firstReleased = false;
  const releasingFirst = pool.releaseThread(first.slot).then(() => (firstReleased = true));
  // A supervisor waiting for the lock here would never get to hear of `second`'s exit: this timer would not fire.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(firstReleased, false, 'the slot is not released while the lock is held');
  await pool.releaseThread(second.slot);
  await releasingFirst;
  const next = new SharedData(pool.handle());
  assert.equal(next.slot, first.slot, "the released slot is free for a new thread");
  assert.equal(next.allocRegion(1 << 20).start, region.start, "the ended thread's region is free");
});

test('pages of a freed area and of a freed region are used again', async () => {
  const pool = new SharedDataPool();
  const shared = new SharedData(pool.handle());
  const key = (n: number) => Int32Array.from({ length: 8 }, (_, i) => n * 100 + i);
  const chunkStarts: number[] = [];
  const load = (n: number) =>
    shared.acquire(key(n), 24 << 20, async (chunks) => {
      const chunk = chunks.next(1 << 20);
      chunkStarts.push(chunk.start);
      chunks.done(chunk.start + (20 << 20));
      return chunk.start + 8;
    });
  const first = await load(1);
  assert.equal(first.dataAddr, chunkStarts[0]! + 8);
  // Asked for the same key, the area is attached to, not loaded again.
  const again = await load(1);
  assert.deepEqual(again, first);
  assert.equal(chunkStarts.length, 1);
  const size = shared.byteLength;
  shared.release(first);
  assert.equal(shared.areas().count, 1, 'one reference is left');
  shared.release(again);
  assert.equal(shared.areas().count, 0);
  const second = await load(2);
  assert.equal(chunkStarts[1], chunkStarts[0], 'the second document went where the first was');
  assert.equal(shared.byteLength, size);
  shared.release(second);
  const region = shared.allocRegion(3 << 20);
  shared.freeRegion(region);
  assert.deepEqual(shared.allocRegion(3 << 20), region);
});

test('a thread waiting for a document another thread is loading attaches to it once it is loaded', async () => {
  const pool = new SharedDataPool();
  const [loader, waiter] = [new SharedData(pool.handle()), new SharedData(pool.handle())];
  const key = Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  let finish!: () => void;
  const loading = loader.acquire(key, 1 << 20, async (chunks) => {
    const chunk = chunks.next(1 << 20);
    await new Promise<void>((resolve) => (finish = resolve));
    chunks.done(chunk.start + 64);
    return chunk.start;
  });
  let loadedTwice = false;
  const waiting = waiter.acquire(key, 1 << 20, async () => {
    loadedTwice = true;
    return 0;
  });
  await new Promise((resolve) => setTimeout(resolve, 30));
  finish();
  const [a, b] = await Promise.all([loading, waiting]);
  assert.equal(loadedTwice, false);
  assert.deepEqual(a, b);
  // A load that fails gives its area back: the next one for that key loads anew.
  loader.release(a);
  waiter.release(b);
  await assert.rejects(loader.acquire(key, 1 << 20, async () => { throw new Error('refused'); }), /refused/);
  assert.equal(loader.areas().count, 0);
});
