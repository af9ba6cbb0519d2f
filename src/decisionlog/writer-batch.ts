// What the store hands the writer thread (writer-worker.ts) per batch, and how it crosses the thread boundary.

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
  json: string,
  /** 32 lowercase hex digits (trace-id.ts), or null. */
  traceId: string | null,
];

/**
 * Rows as they cross to the thread: the events' JSON as UTF-8 bytes back to back in one transferred buffer and
 * the timestamps in another, so a batch is a handful of objects to pass whatever its size.
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

/** The rows as one WriterBatch, its buffers fresh (they are transferred, so the rows can be packed again on a retry). */
export function packBatch(rows: readonly WriterRow[]): WriterBatch {
  const count = rows.length;
  const columns: (string | null)[] = new Array(count * columnsPerRow);
  const tsNs = new BigInt64Array(count);
  const ends = new Uint32Array(count);
  const several: [number, string[]][] = [];
  let chars = 0;
  for (const row of rows) chars += row[7].length;
  // UTF-16 units take 1 to 3 bytes in UTF-8: room for mostly-ASCII text, grown when a row needs more.
  let json = Buffer.allocUnsafeSlow(Math.ceil(chars * 1.1) + 1024);
  let used = 0;
  for (let k = 0; k < count; k++) {
    const [decisionId, ts, path, outcome, principal, revision, revisions, text, traceId] = rows[k];
    const c = k * columnsPerRow;
    columns[c] = decisionId;
    columns[c + 1] = path;
    columns[c + 2] = outcome;
    columns[c + 3] = principal;
    columns[c + 4] = revision;
    columns[c + 5] = traceId;
    tsNs[k] = ts;
    if (revisions) several.push([k, revisions]);
    if (json.length - used < text.length * 3) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(json.length * 2, used + text.length * 3));
      json.copy(bigger, 0, 0, used);
      json = bigger;
    }
    used += json.write(text, used, 'utf8');
    ends[k] = used;
  }
  return { count, columns, tsNs, json: new Uint8Array(json.buffer, 0, used), ends, several };
}
