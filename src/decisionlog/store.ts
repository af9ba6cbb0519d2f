// DecisionLogStore: the single writer of the decision log. record() puts an event on a bounded in-memory
// queue and returns at once (default) or after the event is committed (sync durability); the queue is
// written in batches, one transaction per batch, on a later turn of the event loop, so a request never
// waits for the disk unless sync mode asks it to.
import type Database from 'better-sqlite3';
import type { DecisionEvent } from './event.js';
import { parseTimestamp } from './event.js';
import { DecisionLogError } from './errors.js';
import { defaultDatabaseFile, openDecisionDatabase, sqliteCode } from './open.js';
import { outcomeClassifier, type OutcomeClassifier, type OutcomeRuleConfig } from './outcome.js';
import { principalExtractor, type PrincipalExtractor, type PrincipalSource } from './principal.js';
import { Retention, type RetentionOptions } from './retention.js';

/** default: committed within one event-loop turn, survives a process crash once committed (WAL, synchronous=NORMAL).
 *  sync: record() resolves only after the commit, and every commit is fsynced (synchronous=FULL). */
export type Durability = 'default' | 'sync';
/** What record() does when the queue is full: wait for room, or drop the event and count it. */
export type WhenFull = 'backpressure' | 'drop';
export type RecordResult = 'queued' | 'committed' | 'dropped';

export interface DecisionLogStoreOptions {
  file?: string;
  durability?: Durability;
  queueLimit?: number;
  whenFull?: WhenFull;
  /** Most events written in one transaction. */
  batchSize?: number;
  outcome?: OutcomeRuleConfig;
  principals?: PrincipalSource[];
  retention?: RetentionOptions;
  lockTimeoutMs?: number;
  /** Back-off between attempts after a failed write. */
  retryDelayMs?: { initial: number; max: number };
}

export interface DecisionLogStatus {
  state: 'OK' | 'ERROR' | 'CLOSED';
  file: string;
  durability: Durability;
  when_full: WhenFull;
  queue_length: number;
  queue_limit: number;
  /** record() calls waiting for room (back-pressure). */
  waiting: number;
  written: number;
  dropped_queue_full: number;
  /** Events that could not be turned into JSON (e.g. a cyclic input); counted, never stored. */
  encoding_failures: number;
  write_failures: number;
  pruned: number;
  last_error?: { code: string; message: string; sqlite_code?: string; at: string };
  last_commit_at?: string;
}

interface Pending {
  event: DecisionEvent;
  tsNs: bigint;
  /** The event as JSON, made once by the writer; null if it could not be encoded. */
  json?: string | null;
  /** sync mode: resolves record()'s promise once committed. */
  committed?: () => void;
}

interface Waiter {
  pending: Pending;
  admit: () => void;
}

export class DecisionLogStore {
  readonly file: string;
  readonly durability: Durability;
  readonly whenFull: WhenFull;
  readonly queueLimit: number;
  private readonly batchSize: number;
  private readonly retryDelay: { initial: number; max: number };
  private readonly classify: OutcomeClassifier;
  private readonly principalOf: PrincipalExtractor;
  private readonly insertBatch: (rows: Pending[]) => void;
  private readonly retention?: Retention;
  private queue: Pending[] = [];
  private waiters: Waiter[] = [];
  private drainScheduled = false;
  private retryTimer?: NodeJS.Timeout;
  private nextRetryMs: number;
  private closed = false;
  private counters = { written: 0, dropped_queue_full: 0, encoding_failures: 0, write_failures: 0 };
  private lastError?: DecisionLogStatus['last_error'];
  private failing = false;
  private lastCommitAt?: string;

  /** Opens or creates the database; throws DecisionLogError (db_corrupt, db_locked, ...) if it cannot. */
  constructor(options: DecisionLogStoreOptions = {}) {
    this.file = options.file ?? defaultDatabaseFile;
    this.durability = options.durability ?? 'default';
    this.whenFull = options.whenFull ?? 'backpressure';
    this.queueLimit = positive(options.queueLimit ?? 10_000, 'queueLimit');
    this.batchSize = positive(options.batchSize ?? 2_000, 'batchSize');
    this.retryDelay = options.retryDelayMs ?? { initial: 100, max: 5_000 };
    this.nextRetryMs = this.retryDelay.initial;
    this.classify = outcomeClassifier(options.outcome);
    this.principalOf = principalExtractor(options.principals);
    this.db = openDecisionDatabase(this.file, { lockTimeoutMs: options.lockTimeoutMs });
    // Once running, a lock held by a reader (e.g. the CLI) must not freeze the event loop for long:
    // a busy write fails fast and is retried with back-off instead.
    this.db.pragma('busy_timeout = 100');
    this.db.pragma(`synchronous = ${this.durability === 'sync' ? 'FULL' : 'NORMAL'}`);
    this.insertBatch = this.prepareInsert();
    if (options.retention) {
      this.retention = new Retention(this.db, options.retention);
      this.retention.start();
    }
  }

  /** The open connection, for queries on the same process (reads never block the writer in WAL mode). */
  readonly db: Database.Database;

  /**
   * Hands one event to the log. Resolves "queued" once it is on the queue (default), "committed" once it
   * is in the database (sync), or "dropped" when the queue is full and whenFull is "drop". With
   * back-pressure a full queue makes the promise wait for room. Rejects with invalid_event or store_closed.
   */
  record(event: DecisionEvent): Promise<RecordResult> {
    if (this.closed) return Promise.reject(new DecisionLogError('store_closed', 'decision log is closed'));
    let pending: Pending;
    try {
      pending = { event, tsNs: checkEvent(event) };
    } catch (error) {
      return Promise.reject(error);
    }
    const full = this.queue.length >= this.queueLimit || this.waiters.length > 0;
    if (full && this.whenFull === 'drop') {
      this.counters.dropped_queue_full++;
      return Promise.resolve('dropped');
    }
    if (this.durability === 'sync') {
      return new Promise((resolve) => {
        pending.committed = () => resolve('committed');
        if (full) this.waiters.push({ pending, admit: () => undefined });
        else this.enqueue(pending);
      });
    }
    if (!full) {
      this.enqueue(pending);
      return Promise.resolve('queued');
    }
    return new Promise((resolve) => this.waiters.push({ pending, admit: () => resolve('queued') }));
  }

  /** Writes everything queued (and waiting) now. Rejects with db_write_failed if the database refuses. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.waiters.length > 0) {
      this.admitWaiters();
      if (!this.writeBatch()) throw this.writeError();
    }
  }

  /** Flushes and closes. If the final flush fails, the error says how many events were not written. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retention?.stop();
    try {
      await this.flush();
    } finally {
      this.db.close();
    }
  }

  /** Runs a retention pass now (one also runs every retention.intervalMs); resolves to rows deleted. */
  prune(): Promise<number> {
    return this.retention?.runPass() ?? Promise.resolve(0);
  }

  status(): DecisionLogStatus {
    return {
      state: this.closed ? 'CLOSED' : this.failing ? 'ERROR' : 'OK',
      file: this.file,
      durability: this.durability,
      when_full: this.whenFull,
      queue_length: this.queue.length,
      queue_limit: this.queueLimit,
      waiting: this.waiters.length,
      ...this.counters,
      pruned: this.retention?.pruned ?? 0,
      ...(this.lastError ? { last_error: this.lastError } : {}),
      ...(this.lastCommitAt ? { last_commit_at: this.lastCommitAt } : {}),
    };
  }

  /** Counters and gauges named for a Prometheus exposition (the server adds the prefix and HELP text). */
  metrics(): Record<string, number> {
    const s = this.status();
    return {
      decision_logs_written_total: s.written,
      decision_logs_dropped_queue_full_total: s.dropped_queue_full,
      decision_logs_encoding_failure_total: s.encoding_failures,
      decision_logs_write_failures_total: s.write_failures,
      decision_logs_pruned_total: s.pruned,
      decision_logs_queue_length: s.queue_length,
      decision_logs_waiting: s.waiting,
      decision_logs_healthy: s.state === 'OK' ? 1 : 0,
    };
  }

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.retryTimer !== undefined) return;
    this.drainScheduled = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    if (this.db.open && this.writeBatch()) {
      this.admitWaiters();
      if (this.queue.length > 0) this.scheduleDrain();
    } else if (this.db.open) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.scheduleDrain();
      }, this.nextRetryMs);
      this.nextRetryMs = Math.min(this.nextRetryMs * 2, this.retryDelay.max);
    }
  };

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.queue.length < this.queueLimit) {
      const waiter = this.waiters.shift()!;
      this.queue.push(waiter.pending);
      waiter.admit();
    }
  }

  /** Commits up to batchSize queued events in one transaction; false (events kept) if the write failed. */
  private writeBatch(): boolean {
    const batch = this.queue.slice(0, this.batchSize);
    if (batch.length === 0) return true;
    for (const pending of batch) if (pending.json === undefined) pending.json = this.encode(pending.event);
    try {
      this.insertBatch(batch);
    } catch (error) {
      this.counters.write_failures++;
      this.failing = true;
      const code = sqliteCode(error);
      this.lastError = {
        code: 'db_write_failed',
        message: `decision log write failed, ${this.queue.length} events kept queued: ${error instanceof Error ? error.message : String(error)}`,
        ...(code ? { sqlite_code: code } : {}),
        at: new Date().toISOString(),
      };
      return false;
    }
    this.queue.splice(0, batch.length);
    this.failing = false;
    this.nextRetryMs = this.retryDelay.initial;
    this.lastCommitAt = new Date().toISOString();
    for (const pending of batch) pending.committed?.();
    return true;
  }

  private writeError(): DecisionLogError {
    return new DecisionLogError('db_write_failed', this.lastError?.message ?? 'decision log write failed');
  }

  private prepareInsert(): (rows: Pending[]) => void {
    const insert = this.db.prepare(
      `INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertRevision = this.db.prepare(`INSERT OR IGNORE INTO decision_revisions (seq, revision) VALUES (?, ?)`);
    return this.db.transaction((rows: Pending[]) => {
      let written = 0;
      for (const { event, tsNs, json } of rows) {
        if (typeof json !== 'string') continue;
        const revisions = bundleRevisions(event);
        const single = revisions.length === 1 ? revisions[0] : null;
        const { lastInsertRowid } = insert.run(
          event.decision_id,
          tsNs,
          event.path ?? '',
          this.classify(event),
          this.principalOf(event) ?? null,
          single,
          json,
        );
        if (revisions.length > 1) for (const revision of revisions) insertRevision.run(lastInsertRowid, revision);
        written++;
      }
      this.counters.written += written;
    });
  }

  private encode(event: DecisionEvent): string | null {
    try {
      return JSON.stringify(event);
    } catch {
      this.counters.encoding_failures++;
      return null;
    }
  }
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`decision log ${name} must be a positive integer, got ${n}`);
  return n;
}

/** The checks the writer relies on; returns the event time in Unix nanoseconds. */
function checkEvent(event: DecisionEvent): bigint {
  if (event === null || typeof event !== 'object') throw new DecisionLogError('invalid_event', 'decision event must be an object');
  if (typeof event.decision_id !== 'string' || event.decision_id === '') {
    throw new DecisionLogError('invalid_event', 'decision event needs a non-empty string decision_id');
  }
  const ts = typeof event.timestamp === 'string' ? parseTimestamp(event.timestamp) : undefined;
  if (ts === undefined) {
    throw new DecisionLogError('invalid_event', `decision event ${event.decision_id}: timestamp ${JSON.stringify(event.timestamp)} is not RFC3339`);
  }
  return ts;
}

function bundleRevisions(event: DecisionEvent): string[] {
  if (!event.bundles) return [];
  const set = new Set<string>();
  for (const info of Object.values(event.bundles)) if (typeof info?.revision === 'string' && info.revision !== '') set.add(info.revision);
  return [...set].sort();
}
