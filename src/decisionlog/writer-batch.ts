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
 * Rows as they cross to the thread: the events' JSON as UTF-8 bytes back to back in one shared buffer and the
 * timestamps and row ends in others, so a batch is a handful of objects to pass whatever its size, and the
 * store keeps the same buffers to send again if the write fails.
 */
export interface WriterBatch {
  count: number;
  /** Per row, in order: decision_id, path, outcome, principal, revision, trace_id. */
  columns: (string | null)[];
  tsNs: BigInt64Array;
  /** Row k's event is json[ends[k - 1] ?? 0 .. ends[k]). */
  json: Uint8Array;
  ends: Uint32Array;
  /** Rows made under several bundle revisions: [row index, revisions]. */
  several: [number, string[]][];
}

export const columnsPerRow = 6;

/**
 * Up to `capacity` rows written into shared buffers as they are added: each event's text is copied out of the
 * JavaScript heap at once, so what waits for the writer thread is bytes the garbage collector never traces or
 * moves, rather than strings that would live long enough to be promoted and collected in the old generation.
 */
class Chunk {
  count = 0;
  /** Set once the chunk is handed to the writer thread: later rows go to a new chunk. */
  sealed = false;
  readonly columns: (string | null)[] = [];
  readonly several: [number, string[]][] = [];
  /** sync durability: what to call once the chunk is committed. */
  readonly committed: (() => void)[] = [];
  private json: Buffer;
  private used = 0;
  private readonly tsNs: BigInt64Array;
  private readonly ends: Uint32Array;

  constructor(readonly capacity: number, bytes: number) {
    this.json = Buffer.from(new SharedArrayBuffer(bytes));
    this.tsNs = new BigInt64Array(new SharedArrayBuffer(capacity * 8));
    this.ends = new Uint32Array(new SharedArrayBuffer(capacity * 4));
  }

  add(row: WriterRow, committed: (() => void) | undefined): void {
    const [decisionId, ts, path, outcome, principal, revision, revisions, pieces, traceId] = row;
    const k = this.count++;
    this.columns.push(decisionId, path, outcome, principal, revision, traceId);
    this.tsNs[k] = ts;
    if (revisions) this.several.push([k, revisions]);
    if (committed) this.committed.push(committed);
    for (const piece of pieces) {
      // UTF-16 units take 1 to 3 bytes in UTF-8.
      const most = typeof piece === 'string' ? piece.length * 3 : piece.length;
      if (this.json.length - this.used < most) {
        const bigger = Buffer.from(new SharedArrayBuffer(Math.max(this.json.length * 2, this.used + most)));
        this.json.copy(bigger, 0, 0, this.used);
        this.json = bigger;
      }
      if (typeof piece === 'string') this.used += this.json.write(piece, this.used, 'utf8');
      else {
        this.json.set(piece, this.used);
        this.used += piece.length;
      }
    }
    this.ends[k] = this.used;
  }

  /** The chunk as the writer thread reads it; seals it. */
  batch(): WriterBatch {
    this.sealed = true;
    return {
      count: this.count,
      columns: this.columns,
      tsNs: this.tsNs.subarray(0, this.count),
      json: new Uint8Array(this.json.buffer, 0, this.used),
      ends: this.ends.subarray(0, this.count),
      several: this.several,
    };
  }

  /** Bytes used per row so far: the next chunk starts at about its size. */
  get bytesPerRow(): number {
    return this.count === 0 ? 2048 : Math.ceil(this.used / this.count);
  }
}

/** The store's queue of rows waiting for the writer thread, in chunks of at most `batchSize` rows (one batch each). */
export class RowQueue {
  private readonly chunks: Chunk[] = [];
  private rows = 0;

  constructor(private readonly batchSize: number) {}

  get length(): number {
    return this.rows;
  }

  push(row: WriterRow, committed?: () => void): void {
    let last = this.chunks.at(-1);
    if (!last || last.sealed || last.count >= last.capacity) {
      last = new Chunk(this.batchSize, Math.min(this.batchSize, 256) * (last?.bytesPerRow ?? 2048));
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

  /** Removes the batch front() gave, once it is committed. */
  shift(): void {
    this.rows -= this.chunks.shift()?.count ?? 0;
  }
}
