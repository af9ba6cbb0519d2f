// What the store hands the writer thread (writer-worker.ts) per batch, and how it crosses the thread boundary.
import type { EventText } from './stored-json.js';

/** One decision, ready to insert: the indexed columns and the event JSON (what the store makes per event). */
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
  /** The event's JSON text, in pieces (stored-json.ts). */
  json: EventText,
  /** 32 lowercase hex digits (trace-id.ts), or null. */
  traceId: string | null,
];

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

/** Row k of a batch as the values to bind: the text columns and JSON as byte ranges of the batch's buffer, or null. */
export function rowFields(batch: WriterBatch, bytes: Buffer, k: number, into: unknown[]): void {
  const { ends, nulls } = batch;
  let at = k * fieldsPerRow;
  let start = k === 0 ? 0 : ends[at - 1];
  const mask = nulls[k];
  for (let f = 0; f < fieldsPerRow; f++, at++) {
    const end = ends[at];
    into.push(mask & (1 << f) ? null : bytes.subarray(start, end));
    start = end;
  }
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

  add(row: WriterRow, committed: (() => void) | undefined): void {
    const [decisionId, ts, path, outcome, principal, revision, revisions, pieces, traceId] = row;
    const k = this.count++;
    let at = k * fieldsPerRow;
    this.tsNs[k] = ts;
    if (revisions) this.several.push([k, revisions]);
    if (committed) this.committed.push(committed);
    this.nulls[k] = (principal === null ? 8 : 0) | (revision === null ? 16 : 0) | (traceId === null ? 32 : 0);
    this.ends[at++] = this.text(decisionId);
    this.ends[at++] = this.text(path);
    this.ends[at++] = this.text(outcome);
    this.ends[at++] = principal === null ? this.used : this.text(principal);
    this.ends[at++] = revision === null ? this.used : this.text(revision);
    this.ends[at++] = traceId === null ? this.used : this.text(traceId);
    for (const piece of pieces) {
      if (typeof piece === 'string') this.text(piece);
      else {
        this.room(piece.length);
        this.bytes.set(piece, this.used);
        this.used += piece.length;
      }
    }
    this.ends[at] = this.used;
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

  /** Bytes used per row so far: the next chunk starts at about its size. */
  get bytesPerRow(): number {
    return this.count === 0 ? 2048 : Math.ceil(this.used / this.count);
  }

  /** Appends a string's UTF-8 bytes; returns where they end. */
  private text(value: string): number {
    // UTF-16 units take 1 to 3 bytes in UTF-8.
    this.room(value.length * 3);
    this.used += this.bytes.write(value, this.used, 'utf8');
    return this.used;
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
  /** The last committed chunk, whose buffers the next new chunk takes over. */
  private spare?: Chunk;

  constructor(private readonly batchSize: number) {}

  get length(): number {
    return this.rows;
  }

  push(row: WriterRow, committed?: () => void): void {
    let last = this.chunks.at(-1);
    if (!last || last.sealed || last.count >= last.capacity) {
      last = new Chunk(this.batchSize, Math.min(this.batchSize, 256) * (last?.bytesPerRow ?? 2048), this.spare);
      this.spare = undefined;
      this.chunks.push(last);
    }
    last.add(row, committed);
    this.rows++;
  }

  /** The oldest rows as one batch (the same one again until shift() removes it), or undefined when empty. */
  front(): { batch: WriterBatch; committed: (() => void)[] } | undefined {
    const first = this.chunks[0];
    return first ? { batch: first.batch(), committed: first.committed } : undefined;
  }

  /** Removes the batch front() gave, once it is committed: the writer thread is done with its buffers. */
  shift(): void {
    const done = this.chunks.shift();
    if (!done) return;
    this.rows -= done.count;
    this.spare = done;
  }
}
