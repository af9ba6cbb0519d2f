// The decision log's writer thread: owns the one read-write connection that inserts batches and prunes,
// so SQLite's work (B-tree inserts, WAL writes, checkpoints, fsync in sync mode) never runs on the
// thread that answers requests. It does what the stores (store.ts) ask: the one that started it through its
// parent port, or, for a server whose workers are threads of one process, every server thread through a
// MessagePort of its own (shared-writer.ts hands them out with `connect`).
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { openDecisionDatabase, retryWhileBusy, sqliteCode } from './open.js';
import { TailIndexer, type TailIndexing } from './indexing.js';
import { Retention, type RetentionOptions } from './retention.js';
import { BatchFields, fieldsPerRow, type WriterBatch } from './writer-batch.js';
import { appendFramesAtMost, framesFor, WalFrames } from './wal-frames.js';

export interface WriterSettings {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  retention?: RetentionOptions;
  indexing?: TailIndexing;
  /**
   * Group commit across stores: before committing, wait up to this long (0 for never) for the batches of the
   * other stores that wrote lately. Sync durability: default 2 ms, and no longer than the last commit took.
   * Default durability: default 50 ms, and no longer than the writer has been idle since its last commit.
   */
  groupWaitMs?: number;
  /**
   * Bumped (Atomics.add, then Atomics.notify) by each store of a shared writer after it posts a batch: the writer
   * waiting for a group sleeps until one comes instead of polling the stores' ports.
   */
  posted?: Int32Array;
  /** The WAL is checkpointed once it holds about this many bytes (default 64 MiB), whatever the page size. */
  walCheckpointBytes?: number;
}

export type WriterRequest =
  | { id: number; type: 'write'; batch: WriterBatch }
  | { id: number; type: 'prune' }
  | { id: number; type: 'pragma'; statement: string }
  | { id: number; type: 'setMeta'; key: string; value: number | string }
  | { id: number; type: 'close' }
  /** Serve the stores that send requests through `port` too. */
  | { id: number; type: 'connect'; port: MessagePort }
  /** Send a commit notice through this port after each commit of decisions, whichever store sent them. */
  | { id: number; type: 'watch' };

/**
 * Every reply carries the thread's running totals (rows deleted by retention, transactions committed) and whether
 * it is idle: no commit queued, no maintenance due after one, no index idle timer set (indexing.ts). An idle writer
 * commits nothing more until asked (retention's periodic passes aside). A reply with id 0 (requests count from 1)
 * answers no request: it is a commit notice, sent to the ports that asked with `watch`.
 */
export type WriterReply = { id: number; pruned: number; commits: number; idle: boolean } & (
  | { ok: true; value: unknown }
  | { ok: false; error: { message: string; sqlite_code?: string } }
);

const settings = workerData as WriterSettings;
const port = parentPort!;
const db = openDecisionDatabase(settings.file);
// Never SQLite's own wait for a lock (see beginWriting): every write takes the lock through inWriteTransaction.
const lockWaitMs = 5_000;
const pageSize = db.pragma('page_size', { simple: true }) as number;
db.pragma('busy_timeout = 0');
db.pragma(`synchronous = ${settings.synchronous}`);
// A bigger page cache keeps the index B-trees' hot pages in memory between batches.
db.pragma('cache_size = -32768');
// Statement journals in memory: an index step's statements (indexing.ts) journal each page they change that the
// transaction had before them, so that a failed statement can be undone alone. SQLite spills such a journal to a
// temporary file past 64 KiB, a single page of a new log: every step created, wrote and deleted one, about 800
// bytes per event, an eighth of what the writer wrote. They hold a few MB at most, for one step.
db.pragma('temp_store = MEMORY');
// Checkpoint every 64 MiB of WAL (1,024 pages of 64 KiB, 4,096 of an older log's 16 KiB), not every 1,000 pages
// whatever their size (SQLite's default): index pages rewritten by several steps (indexing.ts) are copied into the
// database once per checkpoint, not once per step. Counted in bytes, so the page size does not change how much a
// power loss can take in default durability (docs/decision-log.md).
const walCheckpointFrames = framesFor(settings.walCheckpointBytes ?? 64 * 1024 * 1024, pageSize);
// The writer checkpoints itself, after answering the commit that reached the threshold (maintain), rather than
// SQLite inside that COMMIT, where the stores waiting for it (sync durability) waited for the checkpoint as well:
// a checkpoint writes every page the WAL changed into the database and fsyncs it, 15-20 ms on a loaded machine.
// Where the WAL's frame count cannot be read, SQLite keeps doing it, at the same threshold.
const walFrames = WalFrames.open(db);
db.pragma(`wal_autocheckpoint = ${walFrames ? 0 : walCheckpointFrames}`);
const retention = settings.retention ? new Retention(db, settings.retention, inWriteTransaction) : undefined;
retention?.start();

// Rows go in by statements of many rows each: one bind-and-step round trip per chunk instead of per row.
// OR FAIL: a statement that inserts several rows and may abort halfway makes SQLite copy every page it touches
// into a statement journal first (spilled to a temporary file past 64 KiB), so that it can undo just that
// statement; that copy cost a third of the writer's CPU per row. A failed statement fails its whole batch,
// whose transaction is rolled back, so undoing one statement alone is never needed.
const rowsPerInsert = 32;
// Every text value arrives as UTF-8 bytes (writer-batch.ts): bound as they are and stored as TEXT (the CASTs),
// never decoded into strings here.
const rowValues = '(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), ?)';
const valuesPerRow = fieldsPerRow + 1;
const insertSql = (rows: number) =>
  `INSERT OR FAIL INTO decisions (decision_id, path, outcome, principal, revision, trace_id, event, ts_ns) VALUES ${Array(rows).fill(rowValues).join(', ')}`;
const insertOne = db.prepare(insertSql(1));
const insertMany = db.prepare(insertSql(rowsPerInsert));
const setMeta = db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
const insertRevision = db.prepare(`INSERT OR IGNORE INTO decision_revisions (seq, revision) VALUES (?, ?)`);

const lastInsertSeq = db.prepare('SELECT last_insert_rowid()').pluck();

// The values of one statement, filled in place: passed spread as arguments, which better-sqlite3 reads directly,
// rather than as one array, whose elements it reads each through V8's generic property lookup.
const manyValues: unknown[] = Array(rowsPerInsert * valuesPerRow).fill(null);
const oneValues: unknown[] = Array(valuesPerRow).fill(null);

/** Inserts the batch's rows; returns the seq of the last one. */
const insertRows = (batch: WriterBatch): number => {
  const { count, tsNs } = batch;
  const fields = new BatchFields(batch);
  const putRow = (k: number, into: unknown[], at: number): number => {
    at = fields.put(k, into, at);
    into[at] = tsNs[k];
    return at + 1;
  };
  const insertRow = (k: number) => {
    putRow(k, oneValues, 0);
    return insertOne.run(...oneValues);
  };
  let next = 0;
  // Rows next..end-1, none with several revisions: whole chunks, then one by one.
  const insertPlain = (end: number) => {
    for (; end - next >= rowsPerInsert; next += rowsPerInsert) {
      for (let j = 0, at = 0; j < rowsPerInsert; j++) at = putRow(next + j, manyValues, at);
      insertMany.run(...manyValues);
    }
    for (; next < end; next++) insertRow(next);
  };
  for (const [k, revisions] of batch.several) {
    insertPlain(k);
    const { lastInsertRowid } = insertRow(k);
    for (const revision of revisions) insertRevision.run(lastInsertRowid, revision);
    next = k + 1;
  }
  insertPlain(count);
  // Views of the batch's shared buffer are not kept: they would keep it alive after the store let go of it.
  manyValues.fill(null);
  oneValues.fill(null);
  return lastInsertSeq.get() as number;
};

// Stores of separate processes each have a writer thread on the same file, and SQLite lets one write at a time.
// Its own wait for the lock sleeps 1, 2, 5, 10, 15... ms between attempts, while a batch holds the lock for about
// a millisecond: in sync mode two writers spent most of their time asleep (two processes together stored half of
// what one did alone). This one tries again every 50 µs at first, backing off to 1 ms. The connection's busy
// timeout stays 0 rather than being turned off and on around each BEGIN: SQLite prepares a PRAGMA statement
// anew at every run, and that pair cost about 3% of the writer's CPU in sync mode (a commit per few dozen events).
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const rollback = db.prepare('ROLLBACK');
const pause = new Int32Array(new SharedArrayBuffer(4));
let commits = 0;
// Changes by another connection (a store of another process on the same file) since this one's last transaction,
// read inside each transaction, where it costs no lock of its own: SQLite changes the figure at each of their
// commits, never at this connection's.
const dataVersion = db.prepare('PRAGMA data_version').pluck();
let seenDataVersion = dataVersion.get();
/** Set while the transaction is an insert of rows (insertBatches): the one kind of commit followed in memory. */
let inserting = false;

function beginWriting(): void {
  retryWhileBusy(Date.now() + lockWaitMs, { first: 0.05, max: 1 }, () => begin.run());
}

/**
 * Runs `work` with SQLite's own busy timeout, for what may wait for other connections in ways BEGIN IMMEDIATE
 * does not cover (a checkpoint that waits for readers). Rare, so preparing the PRAGMAs each time costs nothing.
 */
function waitingForLocks<T>(work: () => T): T {
  db.pragma(`busy_timeout = ${lockWaitMs}`);
  try {
    return work();
  } finally {
    db.pragma('busy_timeout = 0');
  }
}

/** Runs `work` in one transaction holding the write lock: all it writes, or nothing. */
function inWriteTransaction<T>(work: () => T): T {
  beginWriting();
  try {
    const version = dataVersion.get();
    if (version !== seenDataVersion || !inserting) forgetFigures();
    seenDataVersion = version;
    const value = work();
    commit.run();
    commits++;
    scheduleMaintenance();
    return value;
  } catch (error) {
    if (db.inTransaction) rollback.run();
    throw error;
  }
}

const indexer = new TailIndexer(db, inWriteTransaction, settings.indexing);
/** The seq of the last row committed. */
let lastSeq = 0;
/** Rows were committed since the last maintenance: only they move the index step and its idle timer on. */
let inserted = false;
/**
 * The most frames the WAL can hold: the count last read plus a generous estimate of what this writer's inserts
 * wrote since (appendFramesAtMost), so that the count is read only once it could have reached the checkpoint
 * threshold. Undefined (read at the next maintenance) once anything else may have written to the WAL or started it
 * over: another connection, this one's other transactions (index steps, retention), a checkpoint.
 */
let walFramesAtMost: number | undefined;

/** What is kept in memory of the file (the highest indexed seq, the WAL's frames) is read again when next needed. */
function forgetFigures(): void {
  indexer.forget();
  walFramesAtMost = undefined;
}

// What follows a commit but need not hold up its answer: the index step (indexing.ts) and the checkpoint. Run once
// the commit's waiting stores have been answered (commitQueued replies as soon as COMMIT returns), on the next
// turn of the event loop: a store answered in sync durability then sends its next batch while this thread works.
let maintenanceScheduled = false;

function scheduleMaintenance(): void {
  if (maintenanceScheduled) return;
  maintenanceScheduled = true;
  setImmediate(maintain);
}

function maintain(): void {
  maintenanceScheduled = false;
  if (!db.open) return;
  // Not after the index step's own commit, nor retention's: an idle writer would index every idleMs for ever.
  if (inserted) {
    inserted = false;
    indexer.afterCommit(lastSeq);
  }
  if (!walFrames || (walFramesAtMost !== undefined && walFramesAtMost < walCheckpointFrames)) return;
  const frames = walFrames.count();
  walFramesAtMost = frames;
  if (frames !== undefined && frames >= walCheckpointFrames) {
    walFramesAtMost = undefined;
    try {
      // PASSIVE, as SQLite's automatic checkpoint: it copies what no reader still needs and waits for nobody.
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // As with SQLite's automatic checkpoint, a failure leaves the WAL as it is, and the next commit tries again.
    }
  }
}

/** A write request waiting for the next commit, and where its answer goes. */
interface QueuedWrite {
  id: number;
  batch: WriterBatch;
  from: MessagePort;
}

// Group commit: the write requests that arrive while the thread is busy (one per store, so one per server thread
// at most) are committed together, one transaction and, in sync mode, one fsync for all of them.
let queuedWrites: QueuedWrite[] = [];
let commitScheduled = false;

function queueWrite(write: QueuedWrite): void {
  queuedWrites.push(write);
  lastWrite.set(write.from, performance.now());
  if (commitScheduled) return;
  commitScheduled = true;
  setImmediate(commitQueued);
}

// In sync mode each store has one batch in flight, and sends the next once the last is committed. Committing each
// store's batch as it comes makes the stores take turns: every batch waits for another store's commit before its
// own, and a commit (an fsync) holds half the events it could. So, with stores that wrote lately still missing
// from the group, the writer waits a little for their batches: at most as long as the last commit took (the wait
// stays within what the commit it saves would cost), reading their ports without returning to the event loop.
// Between reads it sleeps until a store signals a new batch (`posted`), or, for stores that do not signal, for
// 50 µs at a time: polling, each wake-up cost CPU and a context switch, several per commit.
// In default durability each store sends a batch flushDelayMs (100 ms) after the reply to its last one. Stores
// answered by one commit therefore send their next batches together and share the next commit too, while stores
// answered apart keep their phases: a busy server made two commits every flush delay, each writing the table's
// last pages again. So a batch waits for the batches of the other stores that wrote lately, up to groupWaitMs
// (50 ms) and no longer than the writer has been idle since its last commit: whichever store has the longer idle
// stretch behind it waits the longer, which brings the stores' cycles together within a few commits (a store
// waiting alone shifts its own cycle), and a writer busy with back-to-back batches does not wait at all. Nobody
// waits for these commits but flush() and a closing store.
const sync = settings.synchronous === 'FULL';
const groupWaitMs = settings.groupWaitMs ?? (sync ? 2 : 50);
/** When each store last sent a batch: those active in the last `activeMs` are waited for. */
const lastWrite = new Map<MessagePort, number>();
const posted = settings.posted;
// A default-durability store sends a batch per flush delay at most: those that wrote within a few are busy.
const activeMs = sync ? 100 : 1_000;
let lastCommitMs = 0;
/** When the last commit of rows ended (performance.now()). */
let lastCommitEnd = 0;

function gatherGroup(): void {
  // Without `posted`, waiting means polling: worth it only for the short waits of sync durability.
  if (groupWaitMs === 0 || lastWrite.size < 2 || (!sync && !posted)) return;
  const now = performance.now();
  const deadline = now + Math.min(groupWaitMs, sync ? lastCommitMs : now - lastCommitEnd);
  const missing = () => [...lastWrite].filter(([port, at]) => now - at < activeMs && !queuedWrites.some((w) => w.from === port)).map(([port]) => port);
  for (let waiting = missing(); waiting.length > 0; waiting = missing()) {
    const left = deadline - performance.now();
    if (left <= 0) return;
    // Read before the ports: a batch posted after this reading changes it, so the wait below returns at once.
    const seen = posted ? Atomics.load(posted, 0) : 0;
    let received = false;
    for (const port of waiting) {
      for (let message = receiveMessageOnPort(port); message; message = receiveMessageOnPort(port)) {
        dispatch(port, message.message as WriterRequest);
        received = true;
      }
    }
    if (!received) {
      if (posted) Atomics.wait(posted, 0, seen, left);
      else Atomics.wait(pause, 0, 0, 0.05);
    }
  }
}

/** Inserts batches in one transaction. */
function insertBatches(batches: WriterBatch[]): void {
  inserting = true;
  try {
    lastSeq = inWriteTransaction(() => {
      let last = 0;
      for (const batch of batches) last = insertRows(batch);
      return last;
    });
  } finally {
    inserting = false;
  }
  inserted = true;
  if (walFramesAtMost !== undefined) {
    for (const batch of batches) walFramesAtMost += appendFramesAtMost(batch.bytes.byteLength, batch.count, pageSize);
  }
}

/**
 * Commits every queued write in one transaction. If that fails with several batches, each is tried alone, so
 * one store's bad batch fails that store's write only.
 */
function commitQueued(): void {
  gatherGroup();
  commitScheduled = false;
  const started = performance.now();
  const writes = queuedWrites;
  queuedWrites = [];
  if (writes.length === 0) return;
  try {
    insertBatches(writes.map((w) => w.batch));
    lastCommitEnd = performance.now();
    lastCommitMs = lastCommitEnd - started;
    for (const w of writes) reply(w.from, w.id, { ok: true, value: w.batch.count });
    return noticeCommit();
  } catch (error) {
    if (writes.length === 1) return reply(writes[0].from, writes[0].id, failure(error));
  }
  let committed = false;
  for (const w of writes) {
    try {
      insertBatches([w.batch]);
      committed = true;
      reply(w.from, w.id, { ok: true, value: w.batch.count });
    } catch (error) {
      reply(w.from, w.id, failure(error));
    }
  }
  if (committed) noticeCommit();
}

/**
 * The ports that asked for commit notices (`watch`): on a shared writer, the uploading thread's store learns of
 * the decisions every other thread commits, which its own replies never tell it about.
 */
const watchers = new Set<MessagePort>();

function noticeCommit(): void {
  for (const to of watchers) reply(to, 0, { ok: true, value: undefined });
}

async function handle(request: Exclude<WriterRequest, { type: 'write' | 'connect' | 'watch' }>): Promise<unknown> {
  switch (request.type) {
    case 'prune':
      return retention ? retention.runPass() : 0;
    case 'pragma':
      // It may checkpoint or write.
      forgetFigures();
      return waitingForLocks(() => db.pragma(request.statement));
    case 'setMeta':
      return inWriteTransaction(() => setMeta.run(request.key, request.value).changes);
    case 'close':
      retention?.stop();
      try {
        commitQueued();
        // A log at rest is indexed whole.
        indexer.stop();
        indexer.indexTail();
      } finally {
        db.close();
      }
      return undefined;
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: { message: string; sqlite_code?: string } };

function failure(error: unknown): Outcome {
  const code = sqliteCode(error);
  return { ok: false, error: { message: error instanceof Error ? error.message : String(error), ...(code ? { sqlite_code: code } : {}) } };
}

function reply(to: MessagePort, id: number, outcome: Outcome): void {
  to.postMessage({ id, ...outcome, pruned: retention?.pruned ?? 0, commits, idle: !commitScheduled && !maintenanceScheduled && !indexer.idleTimerArmed } satisfies WriterReply);
}

/** Does what one request asks; the reply goes back through the port it came from. */
function dispatch(from: MessagePort, request: WriterRequest): void {
  if (request.type === 'write') return queueWrite({ id: request.id, batch: request.batch, from });
  if (request.type === 'connect') {
    serve(request.port);
    return reply(from, request.id, { ok: true, value: undefined });
  }
  if (request.type === 'watch') {
    watchers.add(from);
    return reply(from, request.id, { ok: true, value: undefined });
  }
  handle(request).then(
    (value) => {
      reply(from, request.id, { ok: true, value });
      if (request.type === 'close') port.close();
    },
    (error: unknown) => reply(from, request.id, failure(error)),
  );
}

/** Serves the requests that come through `from`. */
function serve(from: MessagePort): void {
  from.on('message', (request: WriterRequest) => dispatch(from, request));
  from.on('close', () => {
    lastWrite.delete(from);
    watchers.delete(from);
  });
}

serve(port);
