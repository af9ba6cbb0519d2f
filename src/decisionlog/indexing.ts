// Index upkeep in batches (see schema.ts): the writer appends rows to `decisions` only, and the tail (the rows not
// yet in decision_keys) is copied into decision_keys, whose indexes serve the queries, a stretch at a time. Each
// commit then rewrites the table's last pages only, instead of a leaf page of every index as well (with a
// principal index, about one page per distinct principal in the batch): with small fsync'd commits that index
// upkeep was most of the writer's CPU, and most of the bytes each fsync waited for. The same step writes the zones
// of the rows it indexes (schema.ts), which bound time and decision id in place of an index entry per row, and the
// principals' lists of the rows' seqs (one row per principal in the step), in place of a principal index.
import type Database from 'better-sqlite3';
import { indexedSeqSql, indexTailSql, principalsSql, zoneRows, zoneSql } from './schema.js';

export interface TailIndexing {
  /** Index the tail once a commit makes it this long (default indexStepRows). */
  stepRows?: number;
  /** Index what tail there is once no batch has come for this long (default 200 ms). */
  idleMs?: number;
}

/**
 * The tail's longest stretch, give or take one batch: what a query reads without an index. Each step rewrites the
 * last leaf page of every key group it adds to (one per distinct path, revision, outcome...), so longer steps
 * put more rows on each page written: 4,096 rather than 1,024 cut the bytes written per event by about a tenth
 * (16 KiB pages, 97 principals) and the writer's CPU per event by about as much. A step holds the writer for about
 * 10 ms, and a query reads at most this many rows plus one batch by a scan.
 */
export const indexStepRows = 4096;

/**
 * Each step is a transaction of its own, run after the commit that made the tail a step long has been answered:
 * the stores waiting for that commit (sync durability) do not wait for the step as well, and a step that fails
 * fails no write (the tail stays, every query still reads it, and the next commit or idle pause tries again).
 */
export class TailIndexer {
  private readonly indexedSeq: Database.Statement;
  private readonly copy: Database.Statement;
  private readonly zoneBefore: Database.Statement;
  private readonly dropZones: Database.Statement;
  private readonly zone: Database.Statement;
  private readonly staleListsFrom: Database.Statement;
  private readonly dropStaleLists: Database.Statement;
  private readonly lists: Database.Statement;
  private readonly stepRows: number;
  private readonly idleMs: number;
  private idle?: NodeJS.Timeout;
  /** When the last commit was (performance.now()): the idle timer goes off idleMs after it. */
  private lastCommit = 0;
  /**
   * The highest indexed seq, as last read or indexed here, so that a commit costs no query; undefined once it may
   * have changed otherwise (forget): another connection's commit, or this one deleting rows (retention).
   */
  private indexed?: number;

  /** `inWriteTransaction` runs its argument holding the write lock, then commits (the writer's own). */
  constructor(db: Database.Database, private readonly inWriteTransaction: (work: () => void) => void, options: TailIndexing = {}) {
    this.indexedSeq = db.prepare(`SELECT ${indexedSeqSql}`).pluck();
    this.copy = db.prepare(indexTailSql);
    this.zoneBefore = db.prepare('SELECT first_seq, last_seq FROM decision_zones WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1');
    this.dropZones = db.prepare('DELETE FROM decision_zones WHERE first_seq >= ?');
    this.zone = db.prepare(zoneSql);
    // Through the step index: SQLite would read min(first_seq) from the primary key, from the oldest list onwards.
    this.staleListsFrom = db.prepare('SELECT min(first_seq) FROM decision_principals INDEXED BY decision_principals_step WHERE last_seq > ?').pluck();
    this.dropStaleLists = db.prepare('DELETE FROM decision_principals WHERE last_seq > ?');
    this.lists = db.prepare(principalsSql);
    this.stepRows = options.stepRows ?? indexStepRows;
    this.idleMs = options.idleMs ?? 200;
  }

  /**
   * After a commit that stored rows up to `lastSeq`, outside any transaction: indexes the tail once it is a step
   * long, and otherwise once the writer has had nothing to do for idleMs.
   */
  afterCommit(lastSeq: number): void {
    this.lastCommit = performance.now();
    this.indexed ??= this.indexedSeq.get() as number;
    // A seq at or below the figure: rows were deleted and their seqs taken again, so it is stale.
    if (lastSeq <= this.indexed) this.indexed = this.indexedSeq.get() as number;
    if (lastSeq - this.indexed >= this.stepRows) this.tryIndexTail();
    // One timer, moved on when it goes off too early rather than at every commit.
    if (!this.idle) this.armIdle(this.idleMs);
  }

  /** Indexes the whole tail now, in a transaction of its own. */
  indexTail(): void {
    this.indexed = undefined;
    let indexed: number | undefined;
    this.inWriteTransaction(() => {
      indexed = this.step(this.indexedSeq.get() as number);
    });
    this.indexed = indexed;
  }

  /** The highest indexed seq may have changed other than by this indexer's steps: read it again at the next commit. */
  forget(): void {
    this.indexed = undefined;
  }

  /**
   * Indexes the rows past seq `indexed` and makes their zones and principals' lists (schema.ts); returns the
   * highest indexed seq then.
   */
  private step(indexed: number): number {
    if (this.copy.run(indexed).changes === 0) return indexed;
    const to = this.indexedSeq.get() as number;
    // Lists reaching past the rows indexed hold seqs freed by deletes and taken again by new rows: their steps are
    // made again, from the rows of them that are left, together with the new rows.
    const stale = this.staleListsFrom.get(indexed) as number | null;
    if (stale !== null) this.dropStaleLists.run(indexed);
    this.lists.run({ from: Math.min(stale ?? indexed + 1, indexed + 1), to });
    // The newest zone is made again with the new rows when it is not full yet, and so is a zone that reaches past
    // the rows indexed: its seqs were freed by deletes and taken again by new rows.
    let from = indexed + 1;
    const before = this.zoneBefore.get(indexed) as { first_seq: number; last_seq: number } | undefined;
    if (before && (before.last_seq > indexed || before.last_seq - before.first_seq + 1 < zoneRows)) from = before.first_seq;
    this.dropZones.run(from);
    for (let first = from; first <= to; first += zoneRows) this.zone.run(first, Math.min(first + zoneRows - 1, to));
    return to;
  }

  /** Whether the idle timer is set, i.e. a tail will be indexed once no batch has come for idleMs. */
  get idleTimerArmed(): boolean {
    return this.idle !== undefined;
  }

  stop(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
  }

  private armIdle(ms: number): void {
    this.idle = setTimeout(() => this.onIdle(), ms);
    this.idle.unref();
  }

  private onIdle(): void {
    this.idle = undefined;
    const idleFor = performance.now() - this.lastCommit;
    if (idleFor < this.idleMs) return this.armIdle(this.idleMs - idleFor);
    this.tryIndexTail();
  }

  private tryIndexTail(): void {
    try {
      this.indexTail();
    } catch {
      // The tail stays as it is and every query still finds it; the next commit or idle pause tries again.
    }
  }
}
