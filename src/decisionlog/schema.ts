// The decision-log database layout. One row per event: indexed columns for the questions audits ask
// (when, which path, allowed or not, who, which bundle revision, which trace) and the whole event as OPA-shaped
// JSON. A file made by an older version is upgraded in place when a server opens it (see migrations).
import type { Database } from 'better-sqlite3';
import { DecisionLogError } from './errors.js';
import { sqliteTraceIdSql } from './trace-id.js';

export const schemaVersion = 2;

const traceIdIndex = `CREATE INDEX decisions_trace_id ON decisions(trace_id, seq) WHERE trace_id IS NOT NULL;`;

const createStatements = `
CREATE TABLE decisions (
  seq INTEGER PRIMARY KEY,          -- insertion order; the query cursor
  decision_id TEXT NOT NULL,
  ts_ns INTEGER NOT NULL,           -- event timestamp, Unix nanoseconds
  path TEXT NOT NULL,               -- path queried ('' for Query API events, whose text is in the event)
  outcome TEXT NOT NULL,            -- allow | deny | undefined | error | other
  principal TEXT,
  revision TEXT,                    -- the bundle revision, when all bundles share one; else NULL + decision_revisions
  event TEXT NOT NULL,              -- the event as JSON, OPA's EventV1
  trace_id TEXT                     -- 32 lowercase hex digits (trace-id.ts), or NULL
);
CREATE INDEX decisions_ts ON decisions(ts_ns);
CREATE INDEX decisions_decision_id ON decisions(decision_id);
CREATE INDEX decisions_path ON decisions(path);
CREATE INDEX decisions_outcome ON decisions(outcome, seq);
CREATE INDEX decisions_principal ON decisions(principal, seq) WHERE principal IS NOT NULL;
CREATE INDEX decisions_revision ON decisions(revision, seq) WHERE revision IS NOT NULL;
${traceIdIndex}
-- Events made under several bundles with different revisions: one row per revision.
CREATE TABLE decision_revisions (
  seq INTEGER NOT NULL,
  revision TEXT NOT NULL,
  PRIMARY KEY (seq, revision)
) WITHOUT ROWID;
CREATE INDEX decision_revisions_revision ON decision_revisions(revision, seq);
CREATE TRIGGER decisions_drop_revisions AFTER DELETE ON decisions WHEN old.revision IS NULL
BEGIN
  DELETE FROM decision_revisions WHERE seq = old.seq;
END;
-- Small key/value facts: the upload watermark.
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
`;

/**
 * What takes a file from version N to N + 1, at index N - 1. Each runs in the transaction that checks the version,
 * so a file is upgraded once, whole or not at all, even when several workers open it together.
 */
const migrations: string[] = [
  // 1 → 2: the trace_id column, filled for the rows already stored from their JSON (read all, written only where
  // there is a trace), and its index.
  `ALTER TABLE decisions ADD COLUMN trace_id TEXT;
   UPDATE decisions SET trace_id = traced.id
     FROM (SELECT seq, ${sqliteTraceIdSql} AS id FROM decisions) AS traced
     WHERE decisions.seq = traced.seq AND traced.id IS NOT NULL;
   ${traceIdIndex}`,
];

/**
 * Creates the tables in a new database, upgrades one made by an older version, or checks that it is ours and
 * current. The check and the creation or upgrade hold the write lock together (BEGIN IMMEDIATE): workers opening
 * one file at the same moment create or upgrade it once, and the others find it done.
 */
export function ensureSchema(db: Database, file: string): void {
  if (db.pragma('user_version', { simple: true }) === schemaVersion) return;
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === schemaVersion) return;
    if (version > 0 && version < schemaVersion) {
      for (let v = version; v < schemaVersion; v++) db.exec(migrations[v - 1]);
      db.pragma(`user_version = ${schemaVersion}`);
      return;
    }
    if (version !== 0) {
      throw new DecisionLogError(
        'db_incompatible',
        `decision log ${file}: schema version ${version}, this build reads version ${schemaVersion}`,
      );
    }
    const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'`).get() as { n: number };
    if (tables.n > 0) {
      throw new DecisionLogError('db_incompatible', `decision log ${file}: the file is a SQLite database but not a decision log (it has other tables)`);
    }
    db.exec(createStatements);
    db.pragma(`user_version = ${schemaVersion}`);
  }).immediate();
}
