// DecisionLogStore: the decision log's single writer. record() puts an event on a bounded in-memory
// queue and returns at once (default) or once the event is committed (sync durability). Batches go to a
// writer thread (writer-worker.ts) that commits each in one transaction, so neither the request nor the
// event loop that serves requests waits for SQLite; one batch is in flight at a time.
import type Database from 'better-sqlite3';
import type { DecisionEvent, DecisionHints } from './event.js';
import { parseTimestamp } from './event.js';
import type { WatchedMember } from '../json/reader.js';
import { DecisionLogError } from './errors.js';
import { defaultDatabaseFile, openDecisionDatabase, sqliteCode } from './open.js';
import { outcomeClassifier, type OutcomeClassifier, type OutcomeRuleConfig } from './outcome.js';
import { principalExtractor, type PrincipalExtractor, type PrincipalSource } from './principal.js';
import { Retention, type RetentionOptions } from './retention.js';
import { traceIdOf } from './trace-id.js';
import { WriterThread } from './writer.js';
import { sharedWriterSource, type DecisionWriterHandle } from './shared-writer.js';
import { detach, RowQueue, type DetachedRow, type WriterRow } from './writer-batch.js';
import { Fifo } from './fifo.js';

/** default: committed shortly after record() returns; survives a process crash once committed (WAL, synchronous=NORMAL).
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
  /**
   * How long events may gather before a batch that is not full is committed (default 100 ms in default
   * mode, 0 in sync mode). Each commit rewrites whole index pages, so a handful of events per commit
   * costs far more per event than hundreds: measured at about 1,000 decisions/s per worker, the writer
   * thread spent half as much CPU per event at 100 ms as at 5 ms.
   */
  flushDelayMs?: number;
  outcome?: OutcomeRuleConfig;
  principals?: PrincipalSource[];
  retention?: RetentionOptions;
  /**
   * Erase Authorization, Proxy-Authorization, Cookie and Set-Cookie header values before an event is written
   * (see credentials.ts). Default true; false stores them as the decision saw them.
   */
  maskCredentials?: boolean;
  lockTimeoutMs?: number;
  /**
   * The server's one writer thread (shared-writer.ts), for a store in one of several server threads of a process.
   * Without it the store starts a writer thread of its own. Its file and durability are the store's; retention
   * runs in the shared writer, so none is given here.
   */
  writer?: DecisionWriterHandle;
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

/**
 * An event waiting for room in the queue (back-pressure), already written as its row's bytes, so the request's
 * objects (the parsed input above all) do not outlive it.
 */
interface Pending {
  row: DetachedRow;
  /** sync mode: settles record()'s promise once the batch is committed. */
  committed?: (result: RecordResult) => void;
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
  /** A connection for reading (queries, the CLI's and API's searches); the writer thread has its own. */
  readonly db: Database.Database;
  private readonly batchSize: number;
  private readonly flushDelayMs: number;
  private readonly retryDelay: { initial: number; max: number };
  private readonly classify: OutcomeClassifier;
  private readonly principalOf: PrincipalExtractor;
  private readonly maskCredentials: boolean;
  /** The stored text's options for an event without its input's text (one object for all). */
  private readonly textOptions: { maskCredentials: boolean };
  /**
   * The row being queued and its text options with the input's bytes: one of each, filled for every event, since
   * a row is written into the queue's buffer (or detached) before accept() returns. Emptied after, so that they
   * hold no request's objects.
   */
  private readonly row: WriterRow = ['', 0n, '', '', null, null, null, undefined as unknown as DecisionEvent, {}, null];
  private readonly inputOptions: {
    inputBytes: Uint8Array | undefined;
    inputCredentialFree: boolean;
    inputCredentialMembers: readonly WatchedMember[] | undefined;
    inputValidUtf8: boolean;
    maskCredentials: boolean;
  };
  private readonly writer: WriterThread;
  private readonly queue: RowQueue;
  private readonly waiters = new Fifo<Waiter>();
  private drainScheduled = false;
  private inFlight?: Promise<boolean>;
  private retryTimer?: NodeJS.Timeout;
  private nextRetryMs: number;
  private closed = false;
  private counters = { written: 0, dropped_queue_full: 0, encoding_failures: 0, write_failures: 0 };
  private lastError?: DecisionLogStatus['last_error'];
  private failing = false;
  /** Date.now() of the last commit, formatted only when status() is read. */
  private lastCommitAt?: number;
  /** The revisions of the last `bundles` object seen: the decision path hands the same one until the next activation. */
  private lastBundles?: { bundles: DecisionEvent['bundles']; revisions: string[] };

  /** Opens or creates the database; throws DecisionLogError (db_corrupt, db_locked, ...) if it cannot. */
  constructor(options: DecisionLogStoreOptions = {}) {
    const shared = options.writer;
    if (shared) checkSharedWriter(shared, options);
    this.file = shared?.file ?? options.file ?? defaultDatabaseFile;
    this.durability = shared?.durability ?? options.durability ?? 'default';
    this.whenFull = options.whenFull ?? 'backpressure';
    this.queueLimit = positive(options.queueLimit ?? 10_000, 'queueLimit');
    this.batchSize = positive(options.batchSize ?? 2_000, 'batchSize');
    this.flushDelayMs = options.flushDelayMs ?? (this.durability === 'sync' ? 0 : 100);
    if (!(this.flushDelayMs >= 0)) throw new RangeError(`decision log flushDelayMs must be 0 or more, got ${options.flushDelayMs}`);
    this.queue = new RowQueue(this.batchSize);
    this.retryDelay = options.retryDelayMs ?? { initial: 100, max: 5_000 };
    this.nextRetryMs = this.retryDelay.initial;
    this.classify = outcomeClassifier(options.outcome);
    this.principalOf = principalExtractor(options.principals);
    this.maskCredentials = options.maskCredentials ?? true;
    this.textOptions = { maskCredentials: this.maskCredentials };
    this.inputOptions = { inputBytes: undefined, inputCredentialFree: false, inputCredentialMembers: undefined, inputValidUtf8: false, maskCredentials: this.maskCredentials };
    if (options.retention) Retention.check(options.retention);
    // Opened here, synchronously, so a corrupt or locked file fails construction with a typed error.
    this.db = openDecisionDatabase(this.file, { lockTimeoutMs: options.lockTimeoutMs });
    this.db.pragma('busy_timeout = 100');
    this.writer = shared
      ? new WriterThread(sharedWriterSource(shared))
      : WriterThread.own({
          file: this.file,
          synchronous: this.durability === 'sync' ? 'FULL' : 'NORMAL',
          ...(options.retention ? { retention: options.retention } : {}),
        });
  }

  /**
   * Hands one event to the log. Resolves "queued" once it is on the queue (default), "committed" once it
   * is in the database (sync), or "dropped" when the queue is full and whenFull is "drop" or the event cannot be
   * written as JSON (counted in encoding_failures). With
   * back-pressure a full queue makes the promise wait for room. Rejects with invalid_event or store_closed.
   * `hints` spare the store work the decision path has already done (see DecisionHints); the input text is
   * used only while `event.input` is the value it was written from.
   */
  record(event: DecisionEvent, hints?: DecisionHints): Promise<RecordResult> {
    try {
      return Promise.resolve(this.accept(event, hints));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * record() for the decision path: the result itself when it is known at once (the event is queued, or dropped
   * as the queue is full), a promise only when it is not (sync durability, back-pressure), so the common case
   * allocates nothing. Throws DecisionLogError invalid_event or store_closed.
   */
  accept(event: DecisionEvent, hints?: DecisionHints): RecordResult | Promise<RecordResult> {
    if (this.closed) throw new DecisionLogError('store_closed', 'decision log is closed');
    const tsNs = checkEvent(event, hints?.tsNs);
    const full = this.queue.length >= this.queueLimit || this.waiters.length > 0;
    if (full && this.whenFull === 'drop') {
      this.counters.dropped_queue_full++;
      return 'dropped';
    }
    const row = this.toRow(event, tsNs, hints?.inputText && event.input !== undefined ? hints : undefined);
    if (!full) {
      // The row's text is written into the queue's buffer now: an event that cannot be written as JSON is counted
      // in encoding_failures and not stored.
      let settled: Promise<RecordResult> | undefined;
      try {
        // sync: the promise of the row's batch, which every row of the batch shares.
        settled = this.durability === 'sync' ? this.queue.push(row, true) : this.queue.push(row);
      } catch {
        this.counters.encoding_failures++;
        return 'dropped';
      } finally {
        this.emptyRow();
      }
      this.scheduleDrain();
      return settled ?? 'queued';
    }
    let pending: Pending;
    try {
      pending = { row: detach(row) };
    } catch {
      this.counters.encoding_failures++;
      return 'dropped';
    } finally {
      this.emptyRow();
    }
    return new Promise((resolve) => {
      if (this.durability === 'sync') {
        pending.committed = resolve;
        this.waiters.push({ pending, admit: () => undefined });
      } else this.waiters.push({ pending, admit: () => resolve('queued') });
    });
  }

  /**
   * Transactions the writer thread has committed so far, as of its last reply: on a shared writer, for every
   * store it serves (their batches that arrive together share one commit).
   */
  get writerCommits(): number {
    return this.writer.commits;
  }

  /**
   * Whether the writer thread was idle as of its last reply: nothing queued or scheduled, so it commits nothing
   * more until asked (retention's periodic passes aside).
   */
  get writerIdle(): boolean {
    return this.writer.idle;
  }

  /** True while record() would wait for room (back-pressure) or drop: the queue is full or others already wait. */
  get saturated(): boolean {
    return this.queue.length >= this.queueLimit || this.waiters.length > 0;
  }

  /** Writes everything queued (and waiting) now. Rejects with db_write_failed if the database refuses. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.waiters.length > 0 || this.inFlight) {
      this.admitWaiters();
      if (!(await this.runBatch())) throw new DecisionLogError('db_write_failed', this.lastError?.message ?? 'decision log write failed');
    }
  }

  /** Flushes and closes. If the final flush fails, the error says how many events were not written. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    try {
      await this.flush();
    } finally {
      await this.writer.close();
      this.db.close();
    }
  }

  /** Runs a retention pass now (one also runs every retention.intervalMs); resolves to rows deleted. */
  async prune(): Promise<number> {
    return (await this.writer.call({ type: 'prune' })) as number;
  }

  /**
   * Runs a PRAGMA on the writer's connection, e.g. "wal_checkpoint(TRUNCATE)" or, to simulate a full
   * disk in tests, "max_page_count = N".
   */
  writerPragma(statement: string): Promise<unknown> {
    return this.writer.call({ type: 'pragma', statement });
  }

  /** Stores a small fact (e.g. the upload watermark) through the writer, so it never contends with it. */
  async setMeta(key: string, value: number | string): Promise<void> {
    await this.writer.call({ type: 'setMeta', key, value });
  }

  /**
   * Calls `listener` after each batch committed to the file by this store's writer thread: on the server's shared
   * writer, every server thread's batches, so the one uploader (trigger "immediate") ships them all right away.
   */
  onCommit(listener: () => void): void {
    this.writer.onCommit(listener);
  }

  getMeta(key: string): unknown {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: unknown } | undefined)?.value;
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
      pruned: this.writer.pruned,
      ...(this.lastError ? { last_error: this.lastError } : {}),
      ...(this.lastCommitAt !== undefined ? { last_commit_at: new Date(this.lastCommitAt).toISOString() } : {}),
    };
  }

  private queueRow({ row, committed }: Pending): void {
    this.queue.pushDetached(row, committed && (() => committed('committed')));
  }

  private scheduleDrain(): void {
    if (this.inFlight || this.retryTimer !== undefined || this.closed) return;
    // A full batch goes to the writer thread at once, from the record() that filled it: the thread commits it while
    // this one makes the next, even when the caller records many events without yielding to the event loop.
    if (this.queue.length >= this.batchSize) return this.drain();
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    // Let events gather into one batch: those of this event-loop turn at least, for flushDelayMs at most.
    const later = this.flushDelayMs > 0 ? (run: () => void) => setTimeout(run, this.flushDelayMs) : setImmediate;
    later(() => {
      this.drainScheduled = false;
      if (!this.inFlight) this.drain();
    });
  }

  /** Sends the oldest batch; after it, the next one (or a retry after a back-off if it failed). */
  private drain(): void {
    void this.runBatch().then((ok) => {
      if (!ok) {
        if (this.closed) return;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          // A batch flush() sent meanwhile may be in flight: retry after it, or nothing would if it failed.
          if (this.inFlight) void this.inFlight.then(() => this.scheduleDrain());
          else this.scheduleDrain();
        }, this.nextRetryMs);
        this.nextRetryMs = Math.min(this.nextRetryMs * 2, this.retryDelay.max);
      } else if (this.queue.length > 0) this.scheduleDrain();
    });
  }

  /** The batch in flight, or a new one; true once committed (or nothing to do), false if it failed. */
  private runBatch(): Promise<boolean> {
    this.inFlight ??= this.writeBatch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.queue.length < this.queueLimit) {
      const waiter = this.waiters.shift()!;
      this.queueRow(waiter.pending);
      waiter.admit();
    }
  }

  /** Commits up to batchSize queued events in one transaction; false (events kept queued) on failure. */
  private async writeBatch(): Promise<boolean> {
    const front = this.queue.front();
    if (!front) return true;
    try {
      await this.writer.write(front.batch);
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
    this.queue.shift();
    this.counters.written += front.batch.count;
    this.failing = false;
    this.nextRetryMs = this.retryDelay.initial;
    this.lastCommitAt = Date.now();
    front.settle();
    this.admitWaiters();
    return true;
  }

  /** `input`: hints with the input's text, when they have it. */
  private toRow(event: DecisionEvent, tsNs: bigint, input: DecisionHints | undefined): WriterRow {
    // The principal is read before credentials are erased: the `sub` of an Envoy bearer token still labels
    // the row (it names, it grants nothing), while the token itself is not stored.
    const principal = this.principalOf(event) ?? null;
    const revisions = this.revisionsOf(event.bundles);
    const row = this.row;
    row[0] = event.decision_id;
    row[1] = tsNs;
    row[2] = event.path ?? '';
    row[3] = this.classify(event);
    row[4] = principal;
    row[5] = revisions.length === 1 ? revisions[0] : null;
    row[6] = revisions.length > 1 ? revisions : null;
    row[7] = event;
    if (input) {
      this.inputOptions.inputBytes = input.inputText;
      this.inputOptions.inputCredentialFree = input.inputCredentialFree === true;
      this.inputOptions.inputCredentialMembers = input.inputCredentialMembers;
      this.inputOptions.inputValidUtf8 = input.inputValidUtf8 === true;
      row[8] = this.inputOptions;
    } else row[8] = this.textOptions;
    row[9] = traceIdOf(event);
    return row;
  }

  /** Lets go of the last event and its input once its row is written. */
  private emptyRow(): void {
    this.row[7] = undefined as unknown as DecisionEvent;
    this.row[4] = this.row[9] = this.row[6] = null;
    this.inputOptions.inputBytes = undefined;
    this.inputOptions.inputCredentialMembers = undefined;
  }

  private revisionsOf(bundles: DecisionEvent['bundles']): string[] {
    const last = this.lastBundles;
    if (last && last.bundles === bundles) return last.revisions;
    this.lastBundles = { bundles, revisions: bundleRevisions(bundles) };
    return this.lastBundles.revisions;
  }
}

/** A store on the shared writer takes its file and durability from it, and leaves retention to it. */
function checkSharedWriter(shared: DecisionWriterHandle, options: DecisionLogStoreOptions): void {
  if (options.file !== undefined && options.file !== shared.file) {
    throw new RangeError(`decision log file ${options.file} differs from the shared writer's ${shared.file}`);
  }
  if (options.durability !== undefined && options.durability !== shared.durability) {
    throw new RangeError(`decision log durability ${options.durability} differs from the shared writer's ${shared.durability}`);
  }
  if (options.retention !== undefined) throw new RangeError('decision log retention runs in the shared writer: give it to SharedDecisionWriter, not to the store');
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`decision log ${name} must be a positive integer, got ${n}`);
  return n;
}

/** The checks the writer relies on; returns the event time in Unix nanoseconds (`tsNs` when the caller knows it). */
export function checkEvent(event: DecisionEvent, tsNs: bigint | undefined): bigint {
  if (event === null || typeof event !== 'object') throw new DecisionLogError('invalid_event', 'decision event must be an object');
  if (typeof event.decision_id !== 'string' || event.decision_id === '') {
    throw new DecisionLogError('invalid_event', 'decision event needs a non-empty string decision_id');
  }
  if (event.path !== undefined && typeof event.path !== 'string') notAString(event, 'path');
  if (event.query !== undefined && typeof event.query !== 'string') notAString(event, 'query');
  if (tsNs !== undefined && typeof event.timestamp === 'string') return tsNs;
  const ts = typeof event.timestamp === 'string' ? parseTimestamp(event.timestamp) : undefined;
  if (ts === undefined) {
    throw new DecisionLogError('invalid_event', `decision event ${event.decision_id}: timestamp ${JSON.stringify(event.timestamp)} is not RFC3339`);
  }
  return ts;
}

function notAString(event: DecisionEvent, field: 'path' | 'query'): never {
  throw new DecisionLogError('invalid_event', `decision event ${event.decision_id}: ${field} must be a string, got ${typeof event[field]}`);
}

export function bundleRevisions(bundles: DecisionEvent['bundles']): string[] {
  if (!bundles) return [];
  const set = new Set<string>();
  for (const info of Object.values(bundles)) if (typeof info?.revision === 'string' && info.revision !== '') set.add(info.revision);
  return [...set].sort();
}
