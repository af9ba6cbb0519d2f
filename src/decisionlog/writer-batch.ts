// What the store hands the writer thread (writer-worker.ts) per batch, and how it crosses the thread boundary.
import { decisionIdBytes, type DecisionEvent } from './event.js';
import { raw } from './json-bytes.js';
import { GrowingSink, writeStoredEvent, type ByteSink, type StoredJsonOptions } from './stored-json.js';

/**
 * One decision, ready to insert: the indexed columns, and the event with what its stored text is written from
 * (stored-json.ts). The text is written when the row is queued, straight into the batch's buffer.
 */
export type WriterRow = [
  decisionId: string,
  tsNs: bigint,
  path: string,
  outcome: string,
  principal: string | null,
  /** The single bundle revision, or null. */
  revision: string | null,
  /** Several distinct bundle revisions, or null. */
  revisions: string[] | null,
  event: DecisionEvent,
  text: StoredJsonOptions,
  /** 32 lowercase hex digits (trace-id.ts), or null. */
  traceId: string | null,
];

/**
 * A row written apart, for one that has to wait for room in the queue (back-pressure): its bytes hold the text
 * columns and event text back to back, `ends` where each ends; the request's objects need not outlive it.
 */
export interface DetachedRow {
  bytes: Uint8Array;
  ends: number[];
  nulls: number;
  tsNs: bigint;
}

/**
 * Rows as they cross to the thread: every row's text columns and event JSON as UTF-8 bytes back to back in one
 * shared buffer, their ends, null marks and timestamps in others. Posting a batch then clones no strings, no
 * string of a waiting row stays on the heap, and the store keeps the same buffers to send again if the write fails.
 * In sync durability the store keeps adding rows to a batch the writer holds (its `state`): the writer takes
 * whatever rows are ready each time it starts a commit, without waiting for the store's thread to send them.
 */
export interface WriterBatch {
  /** Rows added so far; the writer reads the rows ready from `state` (batchState), never past it. */
  count: number;
  /** Row k's fields end at ends[k * fieldsPerRow + f]; each starts where the one before it ends. */
  bytes: Uint8Array;
  ends: Uint32Array;
  /** Row k's bit f set: text column f is NULL (only principal, revision and trace_id may be); see severalRevisions. */
  nulls: Uint8Array;
  tsNs: BigInt64Array;
  /** Shared between the store and the writer: the slots of batchState. */
  state: Int32Array;
}

/**
 * The slots of a batch's shared state. The store writes a row's bytes, then publishes it (Atomics.store of
 * `ready`); once it will add no more rows it sets `sealed`. The writer reads `sealed` before `ready` (so that a
 * sealed batch's `ready` is final), records in `taken` how many rows its commit in progress holds, and sets `wake`
 * before it goes idle with every ready row taken: the store that then publishes a row or seals clears it and sends
 * a `ready` request, so that a writer waiting for rows never misses one and a busy writer gets no messages.
 */
export const batchState = { ready: 0, sealed: 1, wake: 2, taken: 3 } as const;

/**
 * Row k's bit in `nulls`: the revision column is NULL and its bytes hold the row's several bundle revisions as a JSON
 * array of strings, for the decision_revisions table.
 */
export const severalRevisions = 1 << 7;

/** The text columns in the order a row's bytes hold them, then the event JSON. */
export const textColumns = ['decision_id', 'path', 'outcome', 'principal', 'revision', 'trace_id'] as const;
export const fieldsPerRow = textColumns.length + 1;

/** Row k of a batch as the values to bind: the text columns and JSON as byte ranges of the batch's buffer, or null. */
export function rowFields(batch: WriterBatch, bytes: Buffer, k: number, into: unknown[]): void {
  const { ends, nulls } = batch;
  let at = k * fieldsPerRow;
  let start = k === 0 ? 0 : ends[at - 1];
  const mask = nulls[k] | (nulls[k] & severalRevisions ? revisionBit : 0);
  for (let f = 0; f < fieldsPerRow; f++, at++) {
    const end = ends[at];
    into.push(mask & (1 << f) ? null : bytes.subarray(start, end));
    start = end;
  }
}

/** Row k's several bundle revisions (severalRevisions), or undefined when it has one or none. */
export function rowRevisions(batch: WriterBatch, bytes: Buffer, k: number): string[] | undefined {
  if (!(batch.nulls[k] & severalRevisions)) return undefined;
  const at = k * fieldsPerRow + revisionField;
  return JSON.parse(bytes.toString('utf8', batch.ends[at - 1], batch.ends[at])) as string[];
}

/** The bytes rows from..to-1 of a batch take. */
export function rowsByteLength(batch: WriterBatch, from: number, to: number): number {
  const endOf = (k: number) => (k === 0 ? 0 : batch.ends[k * fieldsPerRow - 1]);
  return endOf(to) - endOf(from);
}

const revisionField = textColumns.indexOf('revision');
const revisionBit = 1 << revisionField;

/**
 * Up to `capacity` rows written into shared buffers as they are added: each event's text is copied out of the
 * JavaScript heap at once, so what waits for the writer thread is bytes the garbage collector never traces or
 * moves, rather than strings that would live long enough to be promoted and collected in the old generation.
 */
class Chunk {
  count = 0;
  /** Rows the writer has committed so far. */
  committed = 0;
  /** Handed to the writer: its buffers stay where they are (a row that does not fit seals the chunk). */
  posted = false;
  /** No more rows are added (batchState.sealed). */
  sealed = false;
  /** sync durability: what to call once row k is committed, as [k, callback], in row order. */
  private readonly callbacks: [number, () => void][] = [];
  /**
   * sync durability: the promises the rows added without a callback wait on (commitWaited), each shared by a run of
   * rows the writer took none of when they were added: one promise per commit or so rather than one per event.
   */
  private readonly waits: { start: number; end: number; promise: Promise<'committed'>; resolve: (result: 'committed') => void }[] = [];
  private bytes: Buffer;
  private used = 0;
  private readonly ends: Uint32Array;
  private readonly nulls: Uint8Array;
  private readonly tsNs: BigInt64Array;
  private readonly state: Int32Array;

  /** A new chunk, on the buffers of a committed one when given (their pages are already mapped in). */
  constructor(readonly capacity: number, bytes: number, reuse?: Chunk) {
    this.bytes = reuse && reuse.bytes.length >= bytes ? reuse.bytes : Buffer.from(new SharedArrayBuffer(bytes));
    this.ends = reuse?.ends ?? new Uint32Array(new SharedArrayBuffer(capacity * fieldsPerRow * 4));
    this.nulls = reuse?.nulls ?? new Uint8Array(new SharedArrayBuffer(capacity));
    this.tsNs = reuse?.tsNs ?? new BigInt64Array(new SharedArrayBuffer(capacity * 8));
    this.state = reuse?.state.fill(0) ?? new Int32Array(new SharedArrayBuffer(4 * Object.keys(batchState).length));
  }

  /**
   * Writes the row into the chunk; false, adding nothing, when the chunk is handed to the writer and the row does not
   * fit. Throws, leaving the chunk as it was, when the event cannot be written as JSON (storedEventJson).
   */
  add(row: WriterRow, committed: (() => void) | undefined): boolean {
    return this.addDetached(written(row, this.bytes.byteOffset + this.used), committed);
  }

  /** Copies a row written apart (or in the scratch); false as add(). */
  addDetached(row: DetachedRow, committed: (() => void) | undefined): boolean {
    if (this.posted && this.bytes.length - this.used < row.bytes.length) return false;
    const k = this.count++;
    const base = this.used;
    this.room(row.bytes.length);
    // One copy per row into the shared memory: writing it there piece by piece costs about twice as much.
    this.bytes.set(row.bytes, base);
    this.used += row.bytes.length;
    for (let f = 0; f < fieldsPerRow; f++) this.ends[k * fieldsPerRow + f] = base + row.ends[f];
    this.tsNs[k] = row.tsNs;
    this.nulls[k] = row.nulls;
    if (committed) this.callbacks.push([k, committed]);
    // The row's bytes are all written: the writer may take it from now on.
    Atomics.store(this.state, batchState.ready, this.count);
    return true;
  }

  /** Adds no more rows. */
  seal(): void {
    this.sealed = true;
    Atomics.store(this.state, batchState.sealed, 1);
  }

  /** Whether the writer asked to be told of the rows just published or of the seal (batchState.wake); asks once. */
  wakeWanted(): boolean {
    return Atomics.load(this.state, batchState.wake) !== 0 && Atomics.exchange(this.state, batchState.wake, 0) !== 0;
  }

  /** Settles once the row just added is committed (commitUpTo). */
  whenCommitted(): Promise<'committed'> {
    const k = this.count - 1;
    const last = this.waits.at(-1);
    // The writer has taken none of the last run's rows yet, so one commit will hold the run and this row.
    if (last && last.end === k && Atomics.load(this.state, batchState.taken) <= last.start) {
      last.end = k + 1;
      return last.promise;
    }
    let resolve!: (result: 'committed') => void;
    const promise = new Promise<'committed'>((r) => (resolve = r));
    this.waits.push({ start: k, end: k + 1, promise, resolve });
    return promise;
  }

  /** The writer has committed the first `rows` rows: settles their promises and calls their callbacks. */
  commitUpTo(rows: number): void {
    this.committed = rows;
    let settled = 0;
    for (const wait of this.waits) {
      if (wait.end > rows) break;
      wait.resolve('committed');
      settled++;
    }
    this.waits.splice(0, settled);
    settled = 0;
    for (const [k, committed] of this.callbacks) {
      if (k >= rows) break;
      committed();
      settled++;
    }
    this.callbacks.splice(0, settled);
  }

  /** The chunk as the writer thread reads it; from now on its buffers do not move. */
  batch(): WriterBatch {
    this.posted = true;
    return {
      count: this.count,
      bytes: new Uint8Array(this.bytes.buffer, 0, this.bytes.length),
      ends: this.ends,
      nulls: this.nulls,
      tsNs: this.tsNs,
      state: this.state,
    };
  }

  /** The size of its byte buffer. */
  get byteLength(): number {
    return this.bytes.length;
  }

  /** Bytes used per row so far: the next chunk starts at about its size. */
  get bytesPerRow(): number {
    return this.count === 0 ? 2048 : Math.ceil(this.used / this.count);
  }

  private room(most: number): void {
    if (this.bytes.length - this.used >= most) return;
    const bigger = Buffer.from(new SharedArrayBuffer(Math.max(this.bytes.length * 2, this.used + most)));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
  }
}

/**
 * The store's queue of rows waiting for the writer thread, in chunks of at most `batchSize` rows (one batch each).
 * `open` (sync durability): the writer takes rows from the chunk it holds as they are added, until the chunk is full;
 * otherwise a chunk takes no more rows once handed to the writer. `wake` sends the writer a `ready` request
 * (batchState.wake).
 */
export class RowQueue {
  private readonly chunks: Chunk[] = [];
  private rows = 0;
  /**
   * Committed chunks, whose buffers new chunks take over (their pages are mapped in already). More than one: when
   * the queue runs ahead of the writer, several chunks wait at once, and each would otherwise start on a new shared
   * buffer and grow it, copying, while it fills.
   */
  private readonly spares: Chunk[] = [];

  constructor(private readonly batchSize: number, private readonly open = false, private readonly wake: () => void = () => undefined) {}

  /** Rows not yet committed. */
  get length(): number {
    return this.rows;
  }

  /**
   * Queues the row, its text written into the batch's buffer; throws, queueing nothing, as Chunk.add. With
   * `waitForCommit`, returns a promise that settles once the row is committed (shared by rows committed together).
   */
  push(row: WriterRow, waitForCommit: true): Promise<'committed'>;
  push(row: WriterRow, waitForCommit?: false): undefined;
  push(row: WriterRow, waitForCommit = false): Promise<'committed'> | undefined {
    let chunk = this.last();
    if (!chunk.add(row, undefined)) {
      this.seal(chunk);
      chunk = this.last();
      chunk.add(row, undefined);
    }
    this.added(chunk);
    return waitForCommit ? chunk.whenCommitted() : undefined;
  }

  /** Queues a row written apart (detach). */
  pushDetached(row: DetachedRow, committed?: () => void): void {
    let chunk = this.last();
    if (!chunk.addDetached(row, committed)) {
      this.seal(chunk);
      chunk = this.last();
      chunk.addDetached(row, committed);
    }
    this.added(chunk);
  }

  private added(chunk: Chunk): void {
    this.rows++;
    if (chunk.count >= chunk.capacity) this.seal(chunk);
    else if (chunk.posted && chunk.wakeWanted()) this.wake();
  }

  private seal(chunk: Chunk): void {
    chunk.seal();
    if (chunk.posted && chunk.wakeWanted()) this.wake();
  }

  /** The chunk rows are added to: the last one, or a new one when that is sealed. */
  private last(): Chunk {
    let last = this.chunks.at(-1);
    if (!last || last.sealed) {
      last = new Chunk(this.batchSize, powerOfTwoAtLeast(Math.min(this.batchSize, 256) * (last?.bytesPerRow ?? 2048)), this.spares.pop());
      this.chunks.push(last);
    }
    return last;
  }

  /**
   * The oldest rows as one batch (the same one again until it is done), and how many of its rows are committed
   * already; undefined when empty.
   */
  front(): { batch: WriterBatch; committed: number } | undefined {
    const first = this.chunks[0];
    if (!first) return undefined;
    if (!this.open && !first.sealed) first.seal();
    return { batch: first.batch(), committed: first.committed };
  }

  /** Adds no more rows to the batch front() gave (flush): once its rows are committed it is done. */
  sealFront(): void {
    const first = this.chunks[0];
    if (first && !first.sealed) this.seal(first);
  }

  /**
   * The writer has committed the first `rows` rows of the batch front() gave: settles them. `last`: the writer's
   * last answer for the batch (sealed and all committed), which is removed: the writer thread is done with its
   * buffers. Only that answer removes it: the writer may have committed every row of a batch the store has sealed
   * since, and answer again once it sees the seal.
   */
  committed(rows: number, last: boolean): void {
    const first = this.chunks[0];
    if (!first) return;
    this.rows -= rows - first.committed;
    first.commitUpTo(rows);
    if (!last) return;
    this.chunks.shift();
    // The largest few are kept; a new chunk takes the largest.
    if (this.spares.length < maxSpares) this.spares.push(first);
    else if (first.byteLength > this.spares[0].byteLength) this.spares[0] = first;
    this.spares.sort((a, b) => a.byteLength - b.byteLength);
  }
}

/** Committed chunks kept for their buffers. */
const maxSpares = 4;

/**
 * Chunk sizes are powers of two: the size asked for moves with the rows' average, and a committed chunk's buffer
 * (whose pages are mapped in already) is taken over only when it is as large. Rounded, one size serves batch after
 * batch, instead of a new shared buffer, its pages faulted in afresh, whenever the average grew by a byte.
 */
function powerOfTwoAtLeast(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(n, 1)));
}

/** The row written apart, for pushDetached later. Throws as Chunk.add. */
export function detach(row: WriterRow): DetachedRow {
  const inScratch = written(row);
  // A copy (a Buffer's slice() would be a view of the scratch).
  return { ...inScratch, bytes: new Uint8Array(inScratch.bytes), ends: [...inScratch.ends] };
}

/**
 * Rows are written in this (ordinary, not shared) memory first, then copied: valid until the next row is written.
 * The copy into shared memory goes a word at a time only when source and destination are aligned alike, and a
 * byte at a time (several times slower) otherwise: the row is placed in the scratch at the alignment of `destination`
 * (where it will be copied to, modulo 8). Throws as Chunk.add.
 */
function written(row: WriterRow, destination = 0): DetachedRow {
  const shift = (destination - scratch.bytes.byteOffset) & 7;
  scratch.used = shift;
  writeRow(row, scratch, scratchEnds, 0);
  for (let f = 0; f < fieldsPerRow; f++) scratchEnds[f] -= shift;
  scratchRow.bytes = scratch.bytes.subarray(shift, scratch.used);
  scratchRow.nulls = nullsOf(row);
  scratchRow.tsNs = row[1];
  return scratchRow;
}

const scratch = new GrowingSink();
const scratchEnds: number[] = Array(fieldsPerRow).fill(0);
const scratchRow: DetachedRow = { bytes: scratch.bytes, ends: scratchEnds, nulls: 0, tsNs: 0n };

/** The row's text columns then its event text, each column's end put in ends[at...]. */
function writeRow(row: WriterRow, sink: ByteSink, ends: Uint32Array | number[], at: number): void {
  const [decisionId, , path, outcome, principal, revision, revisions, event, text, traceId] = row;
  const idBytes = decisionIdBytes(decisionId);
  if (idBytes !== undefined) raw(sink, idBytes);
  ends[at++] = idBytes !== undefined ? sink.used : column(sink, decisionId);
  ends[at++] = pathColumn(sink, path);
  ends[at++] = column(sink, outcome);
  ends[at++] = principal === null ? sink.used : column(sink, principal);
  ends[at++] = revisions !== null ? column(sink, JSON.stringify(revisions)) : revision === null ? sink.used : column(sink, revision);
  ends[at++] = traceId === null ? sink.used : column(sink, traceId);
  writeStoredEvent(event, text, sink);
  ends[at] = sink.used;
}

/** Row k's bit f set: text column f is NULL; severalRevisions. */
function nullsOf(row: WriterRow): number {
  return (row[4] === null ? 8 : 0) | (row[6] !== null ? severalRevisions : row[5] === null ? 16 : 0) | (row[9] === null ? 32 : 0);
}

/** column() for the path, which mostly repeats the last row's: the same text is copied as the bytes written last time. */
function pathColumn(sink: ByteSink, path: string): number {
  const repeated = path === lastPath;
  if (repeated && lastPathBytes !== undefined) {
    raw(sink, lastPathBytes);
    return sink.used;
  }
  const start = sink.used;
  const end = column(sink, path);
  lastPath = path;
  // Kept once the path came twice in a row: paths that change every time cost no copy.
  lastPathBytes = repeated ? Uint8Array.prototype.slice.call(sink.bytes, start, end) : undefined;
  return end;
}

let lastPath: string | undefined;
let lastPathBytes: Uint8Array | undefined;

/** Appends a string's UTF-8 bytes; returns where they end. ASCII, as columns mostly are, is copied in JavaScript. */
function column(sink: ByteSink, value: string): number {
  const n = value.length;
  // UTF-16 units take 1 to 3 bytes in UTF-8.
  sink.room(n * 3);
  const bytes = sink.bytes;
  let at = sink.used;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) {
      sink.used += bytes.write(value, sink.used, 'utf8');
      return sink.used;
    }
    bytes[at++] = c;
  }
  sink.used = at;
  return at;
}
