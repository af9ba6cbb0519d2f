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
  revisions: string[] | null;
}

/**
 * Rows as they cross to the thread: every row's text columns and event JSON as UTF-8 bytes back to back in one
 * shared buffer, their ends, null marks and timestamps in others. Posting a batch then clones no strings, no
 * string of a waiting row stays on the heap, and the store keeps the same buffers to send again if the write fails.
 */
export interface WriterBatch {
  count: number;
  /** Row k's fields end at ends[k * fieldsPerRow + f]; each starts where the one before it ends. */
  bytes: Uint8Array;
  ends: Uint32Array;
  /** Row k's bit f set: text column f is NULL (only principal, revision and trace_id may be). */
  nulls: Uint8Array;
  tsNs: BigInt64Array;
  /** Rows made under several bundle revisions: [row index, revisions]. */
  several: [number, string[]][];
}

/** The text columns in the order a row's bytes hold them, then the event JSON. */
export const textColumns = ['decision_id', 'path', 'outcome', 'principal', 'revision', 'trace_id'] as const;
export const fieldsPerRow = textColumns.length + 1;

/**
 * A batch's rows as the values to bind: the text columns and JSON as byte ranges of the batch's buffer, or null.
 * A text column whose bytes repeat the row before's (the path, outcome and revision mostly do) is given as that
 * row's same view: making a view per value cost the writer about as much as binding it. The decision id and
 * the event, which never repeat, are not compared. One per batch: the views are of its buffer. The views are plain
 * Uint8Arrays (SQLite binds any byte view as a blob): Buffer's subarray goes through its own JavaScript and a
 * derived class's constructor, about twice the cost, two or more times per row.
 */
export class BatchFields {
  private readonly bytes: Uint8Array;
  private readonly buffer: ArrayBufferLike;
  private readonly offset: number;
  /** Per text column, the last value made, and where its bytes lie. */
  private readonly last: (Uint8Array | undefined)[] = Array(fieldsPerRow).fill(undefined);
  private readonly lastStart: number[] = Array(fieldsPerRow).fill(0);
  private readonly lastEnd: number[] = Array(fieldsPerRow).fill(0);

  constructor(private readonly batch: WriterBatch) {
    this.bytes = batch.bytes;
    this.buffer = batch.bytes.buffer;
    this.offset = batch.bytes.byteOffset;
  }

  /** Puts row k's fields into into[at...]; returns the index after them. */
  put(k: number, into: unknown[], at: number): number {
    const { ends, nulls } = this.batch;
    let field = k * fieldsPerRow;
    let start = k === 0 ? 0 : ends[field - 1];
    const mask = nulls[k];
    for (let f = 0; f < fieldsPerRow; f++, field++) {
      const end = ends[field];
      into[at++] = mask & (1 << f) ? null : f === idField || f === eventField ? this.view(start, end) : this.repeated(f, start, end);
      start = end;
    }
    return at;
  }

  private view(start: number, end: number): Uint8Array {
    return new Uint8Array(this.buffer, this.offset + start, end - start);
  }

  private repeated(f: number, start: number, end: number): Uint8Array {
    const last = this.last[f];
    if (last !== undefined && sameBytes(this.bytes, this.lastStart[f], this.lastEnd[f], start, end)) return last;
    const value = this.view(start, end);
    this.last[f] = value;
    this.lastStart[f] = start;
    this.lastEnd[f] = end;
    return value;
  }
}

const idField = textColumns.indexOf('decision_id');
const eventField = textColumns.length;

/** Whether bytes[aStart, aEnd) and bytes[bStart, bEnd) hold the same bytes (short columns: a loop beats a call). */
function sameBytes(bytes: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = aStart, j = bStart; i < aEnd; i++, j++) if (bytes[i] !== bytes[j]) return false;
  return true;
}

/**
 * Up to `capacity` rows written into shared buffers as they are added: each event's text is copied out of the
 * JavaScript heap at once, so what waits for the writer thread is bytes the garbage collector never traces or
 * moves, rather than strings that would live long enough to be promoted and collected in the old generation.
 */
class Chunk {
  count = 0;
  /** Set once the chunk is handed to the writer thread: later rows go to a new chunk. */
  sealed = false;
  readonly several: [number, string[]][] = [];
  /** sync durability: what to call once the chunk is committed. */
  readonly committed: (() => void)[] = [];
  /**
   * sync durability: the one promise every event of the chunk added without a callback waits on (commitWaited): one
   * promise per batch rather than a promise and two closures per event.
   */
  private wait?: { promise: Promise<'committed'>; resolve: (result: 'committed') => void };
  private bytes: Buffer;
  private used = 0;
  private readonly ends: Uint32Array;
  private readonly nulls: Uint8Array;
  private readonly tsNs: BigInt64Array;

  /** A new chunk, on the buffers of a committed one when given (their pages are already mapped in). */
  constructor(readonly capacity: number, bytes: number, reuse?: Chunk) {
    this.bytes = reuse && reuse.bytes.length >= bytes ? reuse.bytes : Buffer.from(new SharedArrayBuffer(bytes));
    this.ends = reuse?.ends ?? new Uint32Array(new SharedArrayBuffer(capacity * fieldsPerRow * 4));
    this.nulls = reuse?.nulls ?? new Uint8Array(new SharedArrayBuffer(capacity));
    this.tsNs = reuse?.tsNs ?? new BigInt64Array(new SharedArrayBuffer(capacity * 8));
  }

  /**
   * Writes the row into the chunk. Throws, leaving the chunk as it was, when the event cannot be written as JSON
   * (storedEventJson).
   */
  add(row: WriterRow, committed: (() => void) | undefined): void {
    this.addDetached(written(row, this.bytes.byteOffset + this.used), committed);
  }

  /** Copies a row written apart (or in the scratch). */
  addDetached(row: DetachedRow, committed: (() => void) | undefined): void {
    const k = this.count++;
    const base = this.used;
    this.room(row.bytes.length);
    // One copy per row into the shared memory: writing it there piece by piece costs about twice as much.
    this.bytes.set(row.bytes, base);
    this.used += row.bytes.length;
    for (let f = 0; f < fieldsPerRow; f++) this.ends[k * fieldsPerRow + f] = base + row.ends[f];
    this.tsNs[k] = row.tsNs;
    this.nulls[k] = row.nulls;
    if (row.revisions) this.several.push([k, row.revisions]);
    if (committed) this.committed.push(committed);
  }

  /** Settles once the chunk is committed (settle). */
  whenCommitted(): Promise<'committed'> {
    if (!this.wait) {
      let resolve!: (result: 'committed') => void;
      const promise = new Promise<'committed'>((r) => (resolve = r));
      this.wait = { promise, resolve };
    }
    return this.wait.promise;
  }

  /** Once the chunk is committed: settles whenCommitted() and calls each row's callback. */
  settle(): void {
    this.wait?.resolve('committed');
    for (const committed of this.committed) committed();
  }

  /** The chunk as the writer thread reads it; seals it. */
  batch(): WriterBatch {
    this.sealed = true;
    return {
      count: this.count,
      bytes: new Uint8Array(this.bytes.buffer, 0, this.used),
      ends: this.ends.subarray(0, this.count * fieldsPerRow),
      nulls: this.nulls.subarray(0, this.count),
      tsNs: this.tsNs.subarray(0, this.count),
      several: this.several,
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

/** The store's queue of rows waiting for the writer thread, in chunks of at most `batchSize` rows (one batch each). */
export class RowQueue {
  private readonly chunks: Chunk[] = [];
  private rows = 0;
  /**
   * Committed chunks, whose buffers new chunks take over (their pages are mapped in already). More than one: when
   * the queue runs ahead of the writer, several chunks wait at once, and each would otherwise start on a new shared
   * buffer and grow it, copying, while it fills.
   */
  private readonly spares: Chunk[] = [];

  constructor(private readonly batchSize: number) {}

  get length(): number {
    return this.rows;
  }

  /**
   * Queues the row, its text written into the batch's buffer; throws, queueing nothing, as Chunk.add. With
   * `waitForCommit`, returns a promise that settles once the row's batch is committed (shared by the batch's rows).
   */
  push(row: WriterRow, waitForCommit: true): Promise<'committed'>;
  push(row: WriterRow, waitForCommit?: false): undefined;
  push(row: WriterRow, waitForCommit = false): Promise<'committed'> | undefined {
    const chunk = this.open();
    chunk.add(row, undefined);
    this.rows++;
    return waitForCommit ? chunk.whenCommitted() : undefined;
  }

  /** Queues a row written apart (detach). */
  pushDetached(row: DetachedRow, committed?: () => void): void {
    this.open().addDetached(row, committed);
    this.rows++;
  }

  /** The chunk rows are added to: the last one, or a new one when that is full or handed to the writer. */
  private open(): Chunk {
    let last = this.chunks.at(-1);
    if (!last || last.sealed || last.count >= last.capacity) {
      last = new Chunk(this.batchSize, powerOfTwoAtLeast(Math.min(this.batchSize, 256) * (last?.bytesPerRow ?? 2048)), this.spares.pop());
      this.chunks.push(last);
    }
    return last;
  }

  /**
   * The oldest rows as one batch (the same one again until shift() removes it), and what to call once it is
   * committed; undefined when empty.
   */
  front(): { batch: WriterBatch; settle: () => void } | undefined {
    const first = this.chunks[0];
    return first ? { batch: first.batch(), settle: () => first.settle() } : undefined;
  }

  /** Removes the batch front() gave, once it is committed: the writer thread is done with its buffers. */
  shift(): void {
    const done = this.chunks.shift();
    if (!done) return;
    this.rows -= done.count;
    // The largest few are kept; a new chunk takes the largest.
    if (this.spares.length < maxSpares) this.spares.push(done);
    else if (done.byteLength > this.spares[0].byteLength) this.spares[0] = done;
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
  // A plain view: Buffer's subarray makes a Buffer, through its own JavaScript and a derived class's constructor.
  scratchRow.bytes = new Uint8Array(scratch.bytes.buffer, scratch.bytes.byteOffset + shift, scratch.used - shift);
  scratchRow.nulls = nullsOf(row);
  scratchRow.tsNs = row[1];
  scratchRow.revisions = row[6];
  return scratchRow;
}

const scratch = new GrowingSink();
const scratchEnds: number[] = Array(fieldsPerRow).fill(0);
const scratchRow: DetachedRow = { bytes: new Uint8Array(0), ends: scratchEnds, nulls: 0, tsNs: 0n, revisions: null };

/** The row's text columns then its event text, each column's end put in ends[at...]. */
function writeRow(row: WriterRow, sink: ByteSink, ends: Uint32Array | number[], at: number): void {
  // Read by index: destructuring would go through the array's iterator.
  const decisionId = row[0];
  const path = row[2];
  const outcome = row[3];
  const principal = row[4];
  const revision = row[5];
  const event = row[7];
  const text = row[8];
  const traceId = row[9];
  const idBytes = decisionIdBytes(decisionId);
  if (idBytes !== undefined) raw(sink, idBytes);
  ends[at++] = idBytes !== undefined ? sink.used : column(sink, decisionId);
  ends[at++] = pathColumn(sink, path);
  ends[at++] = column(sink, outcome);
  ends[at++] = principal === null ? sink.used : column(sink, principal);
  ends[at++] = revision === null ? sink.used : column(sink, revision);
  ends[at++] = traceId === null ? sink.used : column(sink, traceId);
  writeStoredEvent(event, text, sink);
  ends[at] = sink.used;
}

/** Row k's bit f set: text column f is NULL. */
function nullsOf(row: WriterRow): number {
  return (row[4] === null ? 8 : 0) | (row[5] === null ? 16 : 0) | (row[9] === null ? 32 : 0);
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
