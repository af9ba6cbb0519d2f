// One copy of loaded data per process. The worker threads of one server share a WebAssembly.Memory: every
// instance of a module of our back end lives in it, each with a region of its own (the plan's data, scratch
// space, a bounded heap), and the data document is loaded once into an area of it that every instance reads
// (loaded data is read-only: see src/wasm/runtime/data.ts). A small SharedArrayBuffer, the control block,
// says which pages are whose and which areas hold which document:
//
//   header   lock (0, or the holder's slot + 1), first free page, generation counter
//   slots    one word per thread attached (1: in use)
//   blocks   [first page, pages, owner slot + 1, area + 1]: an instance's region (owned by a thread) or a chunk
//            of an area (owned by the area); pages = 0: an unused entry
//   areas    [state, generation, data address, loader slot, key (8 words), ..., refs per slot]
//   journal  entries, then [table word, value before] per entry: the undo record of the update in progress
//
// The tables (every word but the lock, the slots and the journal) change only under the lock, and every change
// is one update: all of it or none. A thread can end anywhere inside one (worker.terminate() at shutdown, a
// crash); its lock is then freed by the supervisor (releaseThread) with the tables half-way through. So each
// word an update changes is first recorded in the journal with its value before (once per update), and the
// journal is emptied with one atomic store when the update is complete. Whoever takes the lock next and finds
// entries puts those values back before reading anything: the tables are as the last complete update left them.
// An update that throws is rolled back the same way. Putting the values back is idempotent (each word is
// recorded once), so a thread ending during the rollback leaves it to the next holder.
//
// An area is known by its key, a digest of the document's content (data-load.ts dataKey): a thread applying a
// change computes the key of the document it must load; if another thread has loaded that document already,
// it attaches to that area instead of loading, and if one is loading it, it waits for it. Every instance
// attached to an area counts as a reference of its thread; the area is freed (its pages reusable) when the
// last is dropped. The supervisor releases what a thread that ended held (releaseThread).
//
// Modules built by `opa build` (OPA's own runtime) cannot live in a shared memory: they keep one of their own.
import { runtimeImage } from '../wasm/runtime-image.js';
import { SHARED_MAX_PAGES } from '../wasm/shared-module.js';

const PAGE = 65536;
const MAX_THREADS = 64;
const MAX_BLOCKS = 4096;
const MAX_AREAS = 64;
/** The last page stays unused: a region's end must be an address (below 4 GiB). */
const LAST_PAGE = SHARED_MAX_PAGES - 1;

const LOCK = 0;
/** How soon the supervisor tries again to release an ended thread's slot while the lock is taken. */
const RELEASE_RETRY_MS = 5;
const FIRST_PAGE = 1;
const GENERATION = 2;
const SLOTS = 8;
const BLOCKS = SLOTS + MAX_THREADS;
const BLOCK_WORDS = 4;
const AREAS = BLOCKS + MAX_BLOCKS * BLOCK_WORDS;
const A_STATE = 0;
const A_GENERATION = 1;
const A_ADDR = 2;
const A_LOADER = 3;
const A_KEY = 4;
const A_REFS = 16;
const AREA_WORDS = A_REFS + MAX_THREADS;
/** Entries in the journal; each table word is recorded at most once per update, so it never overflows. */
const JOURNAL = AREAS + MAX_AREAS * AREA_WORDS;
const ENTRIES = JOURNAL + 1;
const WORDS = ENTRIES + 2 * JOURNAL;

const FREE = 0;
const LOADING = 1;
const READY = 2;

/** Chunks an area is loaded into: the first is sized from the document, later ones from what is left. */
const SMALLEST_CHUNK = 16 << 20;
/** How long a thread waits for another that loads the same document before loading its own copy. */
const LOAD_WAIT_MS = 120_000;

/** What a thread needs to attach: passed to it in workerData (both are shared, not copied). */
export interface SharedDataHandle {
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  /** The thread's slot, claimed for it by SharedDataPool.handle(). */
  slot: number;
}

/** Part of the shared memory: an instance's region, or a chunk of an area being loaded. */
export interface MemoryRange {
  start: number;
  end: number;
}

/** A loaded document in the shared memory, as an instance attaches to it. */
export interface DataArea {
  index: number;
  generation: number;
  /** Address of the document's root value. */
  dataAddr: number;
}

/** Gives a loading instance room for the document, chunk after chunk; `done` with where the last one ended. */
export interface ChunkSource {
  next(minBytes: number): MemoryRange;
  done(usedEnd: number): void;
}

/** Loads the document into an area through `chunks` and returns its root's address. */
export type AreaLoader<R> = (chunks: ChunkSource) => R;

/**
 * A point inside an update of the tables, for tests that end a thread there (SharedData.onStep): a word's old
 * value recorded in the journal, the word written, the update complete (the lock still held), one word put back
 * by a rollback.
 */
export type UpdateStep = 'recorded' | 'written' | 'complete' | 'restored';

/** A copy of the tables as they are in `control` (no lock taken; the slots left out): to compare states in tests. */
export function tableWords(control: SharedArrayBuffer): Int32Array {
  const words = new Int32Array(control);
  const tables = new Int32Array(SLOTS - FIRST_PAGE + JOURNAL - BLOCKS);
  tables.set(words.subarray(FIRST_PAGE, SLOTS));
  tables.set(words.subarray(BLOCKS, JOURNAL), SLOTS - FIRST_PAGE);
  return tables;
}

/** The supervisor's side: creates the memory and control block, and a handle for each thread. */
export class SharedDataPool {
  readonly memory: WebAssembly.Memory;
  readonly control = new SharedArrayBuffer(WORDS * 4);
  private readonly words = new Int32Array(this.control);

  constructor() {
    // Below the first free page: the runtime's static data, which every instance writes alike.
    const firstPage = Math.ceil(runtimeImage().staticEnd / PAGE);
    this.memory = new WebAssembly.Memory({ initial: firstPage, maximum: SHARED_MAX_PAGES, shared: true });
    this.words[FIRST_PAGE] = firstPage;
  }

  /** A handle for one more thread, with a slot of its own. */
  handle(): SharedDataHandle {
    for (let slot = 0; slot < MAX_THREADS; slot++) {
      if (Atomics.compareExchange(this.words, SLOTS + slot, 0, 1) === 0) return { memory: this.memory, control: this.control, slot };
    }
    throw new Error(`shared data memory: more than ${MAX_THREADS} threads`);
  }

  /**
   * Frees what the thread of `slot` held (its instances' regions, its references, an area it was loading);
   * resolves once done, and only then is the slot free for another thread. The caller, the supervisor, never
   * waits for the lock: another thread ended inside its critical section holds it until the supervisor hears
   * of that thread's exit and releases it in turn, which a supervisor blocked here would never do. So while the
   * lock is taken this tries again a moment later, from the event loop.
   */
  releaseThread(slot: number): Promise<void> {
    // A thread terminated inside a critical section never unlocked (the next holder rolls back its update).
    if (Atomics.compareExchange(this.words, LOCK, slot + 1, 0) === slot + 1) Atomics.notify(this.words, LOCK);
    const view = new SharedData({ memory: this.memory, control: this.control, slot });
    return new Promise((resolve) => {
      const attempt = () => {
        if (!view.releaseAllIfUnlocked()) return void setTimeout(attempt, RELEASE_RETRY_MS);
        Atomics.store(this.words, SLOTS + slot, 0);
        resolve();
      };
      attempt();
    });
  }
}

/** One thread's view of the shared memory. */
export class SharedData {
  readonly memory: WebAssembly.Memory;
  readonly slot: number;
  private readonly words: Int32Array;
  /** Frees a region and drops an area reference of an instance nobody disposed of. */
  private readonly leftovers = new FinalizationRegistry<InstanceHold>((hold) => this.dropHold(hold));
  /** The update each table word was last recorded in the journal by (this thread's count, see put). */
  private recorded: Int32Array | undefined;
  private update = 0;
  /** Called at each step of an update (tests end the thread there); nothing in production. */
  onStep: ((step: UpdateStep) => void) | undefined;

  constructor(handle: SharedDataHandle) {
    this.memory = handle.memory;
    this.slot = handle.slot;
    this.words = new Int32Array(handle.control);
  }

  /** Bytes of the memory (the highest page any region or area reached). */
  get byteLength(): number {
    return this.memory.grow(0) * PAGE;
  }

  /** A region for one instance: `bytes` rounded up to whole pages. */
  allocRegion(bytes: number): MemoryRange {
    return this.locked(() => {
      const pages = Math.ceil(bytes / PAGE);
      const first = this.allocPages(pages, this.slot, -1);
      return { start: first * PAGE, end: (first + pages) * PAGE };
    });
  }

  freeRegion(region: MemoryRange): void {
    this.locked(() => this.freeBlocks((at) => this.words[at] === region.start / PAGE && this.words[at + 2] === this.slot + 1));
  }

  /**
   * Ties an instance's region and area reference to its life: if it is collected without disposeHold, both
   * are given back then. The hold is updated as the instance switches areas.
   */
  hold(owner: object, region: MemoryRange): InstanceHold {
    const hold: InstanceHold = { region, area: undefined };
    this.leftovers.register(owner, hold, hold);
    return hold;
  }

  disposeHold(hold: InstanceHold): void {
    this.leftovers.unregister(hold);
    this.dropHold(hold);
  }

  private dropHold(hold: InstanceHold): void {
    if (hold.area) this.release(hold.area);
    hold.area = undefined;
    this.freeRegion(hold.region);
  }

  /**
   * The area holding the document of `key`, with one reference for the caller (release it): attached when
   * some thread has it, waited for while one loads it, or loaded here by `load` (an instance's loader).
   * `expectBytes`: about how much the document takes, for the first chunk.
   */
  async acquire(key: Int32Array, expectBytes: number, load: AreaLoader<Promise<number>>): Promise<DataArea> {
    const started = Date.now();
    for (;;) {
      const claim = this.claim(key, Date.now() - started > LOAD_WAIT_MS);
      if (claim.kind === 'ready') return claim.area;
      if (claim.kind === 'claimed') return this.publish(claim.index, await this.loading(claim.index, expectBytes, load));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** acquire, synchronously: waiting blocks the thread (a reload in the middle of an evaluation). */
  acquireNow(key: Int32Array, expectBytes: number, load: AreaLoader<number>): DataArea {
    const started = Date.now();
    for (;;) {
      const claim = this.claim(key, Date.now() - started > LOAD_WAIT_MS);
      if (claim.kind === 'ready') return claim.area;
      if (claim.kind === 'claimed') {
        let addr: number;
        try {
          addr = load(this.chunks(claim.index, expectBytes));
        } catch (err) {
          this.abandon(claim.index);
          throw err;
        }
        return this.publish(claim.index, addr);
      }
      Atomics.wait(this.words, areaWord(claim.index, A_STATE), LOADING, 50);
    }
  }

  private async loading(index: number, expectBytes: number, load: AreaLoader<Promise<number>>): Promise<number> {
    try {
      return await load(this.chunks(index, expectBytes));
    } catch (err) {
      this.abandon(index);
      throw err;
    }
  }

  /** One more reference to an area this thread holds one of already. */
  retain(area: DataArea): void {
    this.locked(() => {
      if (this.words[areaWord(area.index, A_GENERATION)] !== area.generation) throw new Error('internal: retaining a freed data area');
      this.add(areaWord(area.index, A_REFS + this.slot), 1);
    });
  }

  /** Drops a reference; the area is freed with its last. */
  release(area: DataArea): void {
    this.locked(() => {
      if (this.words[areaWord(area.index, A_GENERATION)] !== area.generation) return;
      const refs = areaWord(area.index, A_REFS + this.slot);
      if (this.words[refs]! > 0) this.add(refs, -1);
      if (this.words[areaWord(area.index, A_STATE)] === READY && this.totalRefs(area.index) === 0) this.freeArea(area.index);
    });
  }

  /** Areas in use: how many, and the bytes of their chunks (what the loaded documents take). */
  areas(): { count: number; bytes: number } {
    return this.locked(() => {
      let count = 0;
      for (let i = 0; i < MAX_AREAS; i++) if (this.words[areaWord(i, A_STATE)] !== FREE) count++;
      let pages = 0;
      for (let b = 0; b < MAX_BLOCKS; b++) if (this.words[BLOCKS + b * BLOCK_WORDS + 3] !== 0) pages += this.words[BLOCKS + b * BLOCK_WORDS + 1]!;
      return { count, bytes: pages * PAGE };
    });
  }

  /** Everything this slot holds, given back (the supervisor's releaseThread); false: the lock is taken. */
  releaseAllIfUnlocked(): boolean {
    return this.ifUnlocked(() => {
      this.freeBlocks((at) => this.words[at + 2] === this.slot + 1);
      for (let i = 0; i < MAX_AREAS; i++) {
        const state = this.words[areaWord(i, A_STATE)];
        if (state === FREE) continue;
        this.put(areaWord(i, A_REFS + this.slot), 0);
        if ((state === LOADING && this.words[areaWord(i, A_LOADER)] === this.slot) || (state === READY && this.totalRefs(i) === 0)) this.freeArea(i);
      }
    });
  }

  private claim(key: Int32Array, alone: boolean): { kind: 'ready'; area: DataArea } | { kind: 'claimed'; index: number } | { kind: 'loading'; index: number } {
    return this.locked(() => {
      let free = -1;
      for (let i = 0; i < MAX_AREAS; i++) {
        const state = this.words[areaWord(i, A_STATE)];
        if (state === FREE) {
          if (free < 0) free = i;
          continue;
        }
        if (!this.sameKey(i, key)) continue;
        if (state === READY) {
          this.add(areaWord(i, A_REFS + this.slot), 1);
          return { kind: 'ready', area: this.areaOf(i) };
        }
        // Waited too long for another thread's load (it may have died): load a copy of our own.
        if (!alone) return { kind: 'loading', index: i };
      }
      if (free < 0) throw new Error(`shared data memory: more than ${MAX_AREAS} data documents loaded at once`);
      const at = areaWord(free, 0);
      this.clear(at, AREA_WORDS);
      this.put(at + A_STATE, LOADING);
      this.add(GENERATION, 1);
      this.put(at + A_GENERATION, this.words[GENERATION]!);
      this.put(at + A_LOADER, this.slot);
      // A copy loaded alone gets a key nobody looks for, so a stalled load of the same key stays distinct.
      if (!alone) for (let i = 0; i < 8; i++) this.put(at + A_KEY + i, key[i]!);
      return { kind: 'claimed', index: free };
    });
  }

  private chunks(index: number, expectBytes: number): ChunkSource {
    let last: MemoryRange | undefined;
    return {
      next: (minBytes) => {
        const bytes = Math.max(minBytes, last ? expectBytes / 4 : expectBytes, SMALLEST_CHUNK);
        last = this.locked(() => {
          const pages = Math.ceil(bytes / PAGE);
          const first = this.allocPages(pages, -1, index);
          return { start: first * PAGE, end: (first + pages) * PAGE };
        });
        return last;
      },
      done: (usedEnd) => {
        // The last chunk's pages past what the document took go back at once.
        const range = last;
        if (!range || usedEnd < range.start || usedEnd > range.end) return;
        this.locked(() => {
          for (let b = 0; b < MAX_BLOCKS; b++) {
            const at = BLOCKS + b * BLOCK_WORDS;
            if (this.words[at] === range.start / PAGE && this.words[at + 3] === index + 1) this.put(at + 1, Math.max(1, Math.ceil((usedEnd - range.start) / PAGE)));
          }
        });
      },
    };
  }

  private publish(index: number, dataAddr: number): DataArea {
    return this.locked(() => {
      this.put(areaWord(index, A_ADDR), dataAddr);
      this.add(areaWord(index, A_REFS + this.slot), 1);
      this.put(areaWord(index, A_STATE), READY);
      Atomics.notify(this.words, areaWord(index, A_STATE));
      return this.areaOf(index);
    });
  }

  private abandon(index: number): void {
    this.locked(() => this.freeArea(index));
  }

  private areaOf(index: number): DataArea {
    return { index, generation: this.words[areaWord(index, A_GENERATION)]!, dataAddr: this.words[areaWord(index, A_ADDR)]! };
  }

  private sameKey(index: number, key: Int32Array): boolean {
    const at = areaWord(index, A_KEY);
    for (let i = 0; i < 8; i++) if (this.words[at + i] !== key[i]) return false;
    return true;
  }

  private totalRefs(index: number): number {
    let n = 0;
    for (let s = 0; s < MAX_THREADS; s++) n += this.words[areaWord(index, A_REFS + s)]!;
    return n;
  }

  /** Frees an area's chunks and its entry; a thread waiting for it wakes and looks again. Under the lock. */
  private freeArea(index: number): void {
    this.freeBlocks((at) => this.words[at + 3] === index + 1);
    const at = areaWord(index, 0);
    this.clear(at, AREA_WORDS);
    Atomics.notify(this.words, at + A_STATE);
  }

  /** First fit over the pages above the runtime's static data; grows the memory to cover the block. Under the lock. */
  private allocPages(pages: number, ownerSlot: number, area: number): number {
    const used: [number, number][] = [];
    let entry = -1;
    for (let b = 0; b < MAX_BLOCKS; b++) {
      const at = BLOCKS + b * BLOCK_WORDS;
      if (this.words[at + 1] !== 0) used.push([this.words[at]!, this.words[at + 1]!]);
      else if (entry < 0) entry = at;
    }
    if (entry < 0) throw new Error(`shared data memory: more than ${MAX_BLOCKS} regions and chunks`);
    used.sort((a, b) => a[0] - b[0]);
    let first = this.words[FIRST_PAGE]!;
    for (const [start, n] of used) {
      if (start - first >= pages) break;
      first = Math.max(first, start + n);
    }
    if (first + pages > LAST_PAGE) throw new Error(`shared data memory is full: no room for ${pages * (PAGE >> 10)} KiB more`);
    this.put(entry, first);
    this.put(entry + 1, pages);
    this.put(entry + 2, ownerSlot + 1);
    this.put(entry + 3, area + 1);
    const have = this.memory.grow(0);
    if (first + pages > have) this.memory.grow(first + pages - have);
    return first;
  }

  private freeBlocks(matches: (at: number) => boolean): void {
    for (let b = 0; b < MAX_BLOCKS; b++) {
      const at = BLOCKS + b * BLOCK_WORDS;
      if (this.words[at + 1] !== 0 && matches(at)) this.clear(at, BLOCK_WORDS);
    }
  }

  /** Runs `body` holding the lock if it is free now; false (and nothing run) if it is not. */
  private ifUnlocked(body: () => void): boolean {
    if (Atomics.compareExchange(this.words, LOCK, 0, this.slot + 1) !== 0) return false;
    this.asOneUpdate(body);
    return true;
  }

  private locked<T>(body: () => T): T {
    const me = this.slot + 1;
    for (let held = Atomics.compareExchange(this.words, LOCK, 0, me); held !== 0; held = Atomics.compareExchange(this.words, LOCK, 0, me)) {
      Atomics.wait(this.words, LOCK, held, 5);
    }
    return this.asOneUpdate(body);
  }

  /**
   * Runs `body` as one update, the lock taken: first undoes what a holder that ended left half-done, then
   * completes (empties the journal) or, if `body` throws, undoes its own; unlocks either way.
   */
  private asOneUpdate<T>(body: () => T): T {
    try {
      if (Atomics.load(this.words, JOURNAL) !== 0) this.rollBack();
      this.update = (this.update + 1) | 0 || 1;
      let result: T;
      try {
        result = body();
      } catch (err) {
        this.rollBack();
        throw err;
      }
      if (this.words[JOURNAL] !== 0) Atomics.store(this.words, JOURNAL, 0);
      this.onStep?.('complete');
      return result;
    } finally {
      Atomics.store(this.words, LOCK, 0);
      Atomics.notify(this.words, LOCK, 1);
    }
  }

  /** Sets a table word, its value before recorded in the journal first (once per update). Under the lock. */
  private put(at: number, value: number): void {
    const words = this.words;
    if (words[at] === value) return;
    const recorded = (this.recorded ??= new Int32Array(JOURNAL));
    if (recorded[at] !== this.update) {
      recorded[at] = this.update;
      const n = words[JOURNAL]!;
      words[ENTRIES + 2 * n] = at;
      words[ENTRIES + 2 * n + 1] = words[at]!;
      // The entry is whole before it counts: a thread ending before this store has changed nothing yet.
      Atomics.store(words, JOURNAL, n + 1);
      this.onStep?.('recorded');
    }
    words[at] = value;
    this.onStep?.('written');
  }

  private add(at: number, delta: number): void {
    this.put(at, this.words[at]! + delta);
  }

  private clear(at: number, count: number): void {
    for (let i = at; i < at + count; i++) this.put(i, 0);
  }

  /** Puts back every word the journal records (the values before the update), then empties it. Under the lock. */
  private rollBack(): void {
    const words = this.words;
    for (let n = Atomics.load(words, JOURNAL); n > 0; n--) {
      words[words[ENTRIES + 2 * (n - 1)]!] = words[ENTRIES + 2 * (n - 1) + 1]!;
      this.onStep?.('restored');
    }
    Atomics.store(words, JOURNAL, 0);
  }
}

/** An instance's region and the area it reads (see SharedData.hold). */
export interface InstanceHold {
  readonly region: MemoryRange;
  area: DataArea | undefined;
}

function areaWord(index: number, word: number): number {
  return AREAS + index * AREA_WORDS + word;
}
