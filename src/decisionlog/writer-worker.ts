// The decision log's writer thread: owns the one read-write connection that inserts batches and prunes,
// so SQLite's work (B-tree inserts, WAL writes, checkpoints, fsync in sync mode) never runs on the
// thread that answers requests. It does what the store (store.ts) asks, one message at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { openDecisionDatabase, sqliteCode } from './open.js';
import { Retention, type RetentionOptions } from './retention.js';

export interface WriterSettings {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  retention?: RetentionOptions;
}

/** One decision, ready to insert: the indexed columns and the event JSON. */
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
];

export type WriterRequest =
  | { id: number; type: 'write'; rows: WriterRow[] }
  | { id: number; type: 'prune' }
  | { id: number; type: 'pragma'; statement: string }
  | { id: number; type: 'setMeta'; key: string; value: number | string }
  | { id: number; type: 'close' };

export type WriterReply =
  | { id: number; ok: true; value: unknown; pruned: number }
  | { id: number; ok: false; error: { message: string; sqlite_code?: string }; pruned: number };

const settings = workerData as WriterSettings;
const port = parentPort!;
const db = openDecisionDatabase(settings.file);
db.pragma('busy_timeout = 5000');
db.pragma(`synchronous = ${settings.synchronous}`);
// A bigger page cache keeps the index B-trees' hot pages in memory between batches.
db.pragma('cache_size = -32768');
const retention = settings.retention ? new Retention(db, settings.retention) : undefined;
retention?.start();

const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, ?, ?, ?, ?, ?, ?)`);
const setMeta = db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
const insertRevision = db.prepare(`INSERT OR IGNORE INTO decision_revisions (seq, revision) VALUES (?, ?)`);
const insertBatch = db.transaction((rows: WriterRow[]) => {
  for (const [decisionId, tsNs, path, outcome, principal, revision, revisions, json] of rows) {
    const { lastInsertRowid } = insert.run(decisionId, tsNs, path, outcome, principal, revision, json);
    if (revisions) for (const r of revisions) insertRevision.run(lastInsertRowid, r);
  }
  return rows.length;
});

async function handle(request: WriterRequest): Promise<unknown> {
  switch (request.type) {
    case 'write':
      return insertBatch(request.rows);
    case 'prune':
      return retention ? retention.runPass() : 0;
    case 'pragma':
      return db.pragma(request.statement);
    case 'setMeta':
      return setMeta.run(request.key, request.value).changes;
    case 'close':
      retention?.stop();
      db.close();
      return undefined;
  }
}

port.on('message', (request: WriterRequest) => {
  handle(request).then(
    (value) => {
      port.postMessage({ id: request.id, ok: true, value, pruned: retention?.pruned ?? 0 } satisfies WriterReply);
      if (request.type === 'close') port.close();
    },
    (error: unknown) => {
      const code = sqliteCode(error);
      port.postMessage({
        id: request.id,
        ok: false,
        error: { message: error instanceof Error ? error.message : String(error), ...(code ? { sqlite_code: code } : {}) },
        pruned: retention?.pruned ?? 0,
      } satisfies WriterReply);
    },
  );
});
