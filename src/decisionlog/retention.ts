// Retention: delete decisions older than a maximum age and, when the database grows past a size, the
// oldest ones. Work is done in small batches, each its own short transaction, with a turn of the event
// loop between batches, so the writer (same connection, same thread) is never held up for long.
import type Database from 'better-sqlite3';
import { nowNs } from './event.js';
import { indexedSeqSql } from './schema.js';

export interface RetentionOptions {
  /** Delete decisions whose timestamp is older than this. */
  maxAgeSeconds?: number;
  /** Delete the oldest decisions while the database's used pages exceed this many bytes. */
  maxBytes?: number;
  /** How often a pruning pass starts (default 10 s). */
  intervalMs?: number;
  /** Rows deleted per transaction (default 500). */
  batchSize?: number;
  /**
   * Set when decisions are uploaded to a collector: the age limit then spares decisions not yet
   * shipped (past the upload watermark). The size limit still applies, as the disk must not fill.
   */
  keepUnshipped?: boolean;
}

/**
 * The limits a configured decision log gets unless it says otherwise (decision_logs.store.retention): a week of
 * decisions, at most 1 GiB, so an audit store nobody sized never fills the disk. 0 in the file turns a limit off.
 */
export const defaultRetention = { maxAgeSeconds: 7 * 24 * 60 * 60, maxBytes: 1024 ** 3 } as const;

/** meta key of the highest seq a collector has acknowledged. */
export const shippedSeqKey = 'shipped_seq';

export class Retention {
  pruned = 0;
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly deleteOlder: Database.Statement;
  private readonly deleteOldest: Database.Statement;
  private readonly dropZones: Database.Statement;
  private readonly dropLists: Database.Statement;
  private readonly oldestIndexed: Database.Statement;
  private readonly batchSize: number;

  /** Throws a RangeError naming the first setting that is not a positive number. */
  static check(options: RetentionOptions): void {
    for (const key of ['maxAgeSeconds', 'maxBytes', 'intervalMs', 'batchSize'] as const) {
      const value = options[key];
      if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
        throw new RangeError(`decision log retention ${key} must be a positive number, got ${value}`);
      }
    }
  }

  /** `inWriteTransaction` runs each batch's deletes holding the write lock, then commits (the writer's own). */
  constructor(
    private readonly db: Database.Database,
    private readonly options: RetentionOptions,
    private readonly inWriteTransaction: <T>(work: () => T) => T = (work) => work(),
  ) {
    Retention.check(options);
    this.batchSize = Math.floor(options.batchSize ?? 500);
    const shippedOnly = options.keepUnshipped
      ? ` AND seq <= coalesce((SELECT value FROM meta WHERE key = '${shippedSeqKey}'), 0)`
      : '';
    // The indexed rows from the oldest up to the last zone holding a time before the cutoff (schema.ts), and rows
    // of the tail not indexed yet by a scan of that bounded stretch: events recorded with an old timestamp go as
    // soon as they are written.
    this.deleteOlder = db.prepare(
      `DELETE FROM decisions WHERE seq IN (
         SELECT seq FROM (SELECT seq FROM decision_keys WHERE seq <= coalesce((SELECT max(last_seq) FROM decision_zones WHERE min_ts < @cutoff), 0)
           AND ts_ns < @cutoff${shippedOnly} ORDER BY seq LIMIT @limit)
         UNION ALL SELECT seq FROM (SELECT seq FROM decisions WHERE seq > ${indexedSeqSql} AND ts_ns < @cutoff${shippedOnly} LIMIT @limit)
         LIMIT @limit)`,
    );
    this.deleteOldest = db.prepare(`DELETE FROM decisions WHERE seq IN (SELECT seq FROM decisions ORDER BY seq LIMIT ?)`);
    // The zones before the oldest indexed row bound no row any more.
    this.dropZones = db.prepare(`DELETE FROM decision_zones WHERE first_seq < @oldest AND last_seq < @oldest`);
    // Nor the principals' lists of steps wholly before it.
    this.dropLists = db.prepare(`DELETE FROM decision_principals WHERE last_seq < @oldest`);
    this.oldestIndexed = db.prepare('SELECT coalesce(min(seq), 0) FROM decision_keys').pluck();
  }

  start(): void {
    this.timer = setInterval(() => void this.runPass(), this.options.intervalMs ?? 10_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Prunes batch by batch, yielding between batches, until nothing is over the limits. */
  async runPass(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let total = 0;
    try {
      for (;;) {
        if (!this.db.open) break;
        const n = this.pruneStep();
        total += n;
        if (n === 0) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
    return total;
  }

  /** One batch: rows past the age limit first, then the oldest rows if over the size limit. */
  pruneStep(now: bigint = nowNs()): number {
    return this.inWriteTransaction(() => this.pruneBatch(now));
  }

  private pruneBatch(now: bigint): number {
    if (this.options.maxAgeSeconds !== undefined) {
      const cutoff = now - BigInt(Math.floor(this.options.maxAgeSeconds * 1e9));
      const { changes } = this.deleteOlder.run({ cutoff, limit: this.batchSize });
      if (changes > 0) return this.deleted(changes);
    }
    if (this.options.maxBytes !== undefined && this.usedBytes() > this.options.maxBytes) {
      const { changes } = this.deleteOldest.run(this.batchSize);
      return this.deleted(changes);
    }
    return 0;
  }

  /** Bytes in pages that hold data (free pages are reused before the file grows). */
  usedBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  private deleted(changes: number): number {
    this.pruned += changes;
    const oldest = this.oldestIndexed.get();
    this.dropZones.run({ oldest });
    this.dropLists.run({ oldest });
    // A log made with incremental auto-vacuum (by an older version) gives a bounded number of freed pages back to
    // the file system, so its file shrinks too; on a log made without (open.ts) this does nothing, and new decisions
    // reuse the freed pages.
    this.db.pragma(`incremental_vacuum(${this.batchSize})`);
    return changes;
  }
}
