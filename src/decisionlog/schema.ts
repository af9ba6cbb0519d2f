// The decision-log database layout. One row per event in `decisions`, appended in seq order with no secondary
// index: the indexed columns for the questions audits ask (when, which path, allowed or not, who, which bundle
// revision, which trace) and the whole event as OPA-shaped JSON. Those columns are indexed in batches: the writer
// copies the rows not yet indexed (the tail) into `decision_keys`, whose indexes serve the queries, once the tail
// holds indexStepRows rows or the writer falls idle (indexing.ts). Queries read the indexed rows through
// `decision_keys` and the tail by its seq range (query.ts). Time and decision id, which grow with seq, have no
// index entry per row: `decision_zones` holds, per stretch of zoneRows indexed rows, their least and greatest
// time and id, and a query by time or id reads the seq range of the zones that can hold its rows. The principal,
// whose entries went into the middle of an index at about 1 µs a row, has no entry per row either:
// `decision_principals` holds, per index step and principal, the list of that principal's seqs, appended step by
// step. The trace id, random in real traffic, is indexed by stretch of seq (traceIndex), so a step adds to the
// newest stretch's part of that index only. A file made by an older version is upgraded in place when a server
// opens it (see migrations).
import type { Database } from 'better-sqlite3';
import { DecisionLogError } from './errors.js';
import { outcomes, type Outcome } from './outcome.js';
import { sqliteTraceIdSql } from './trace-id.js';

export const schemaVersion = 7;

const keysTable = `CREATE TABLE decision_keys (
  seq INTEGER PRIMARY KEY,          -- the row of decisions these are the keys of
  decision_id TEXT NOT NULL,
  ts_ns INTEGER NOT NULL,
  path TEXT NOT NULL,
  outcome TEXT NOT NULL,
  principal TEXT,
  revision TEXT,
  trace_id TEXT
);`;

/** Copies the rows of decisions past seq `after` into decision_keys. */
const copyKeysSql = (after: string) => `INSERT OR FAIL INTO decision_keys (seq, decision_id, ts_ns, path, outcome, principal, revision, trace_id)
  SELECT seq, decision_id, ts_ns, path, outcome, principal, revision, trace_id FROM decisions WHERE seq > ${after};`;

/** Indexes the tail (the rows of decisions past seq ?): one batch of index upkeep. */
export const indexTailSql = copyKeysSql('?');

/** The highest indexed seq (0 when none): the rows of decisions past it are the tail. */
export const indexedSeqSql = `(SELECT coalesce(max(seq), 0) FROM decision_keys)`;

/** How many rows of decision_keys one zone covers at most (see zonesSql). */
export const zoneRows = 256;

/**
 * One index per outcome, of seq alone: each row adds an entry at the end of one of them, where an index of
 * (outcome, seq) took a search down the tree into its outcome's group. The outcome a query names is written into
 * its SQL (outcomeIndexCondition), as a partial index is used only for the condition it was made with.
 */
const outcomeIndexes = outcomes.map((o) => `CREATE INDEX decision_keys_outcome_${o} ON decision_keys(seq) WHERE ${outcomeIndexCondition(o)};`).join('\n');

/** The condition of the outcome's index, as a query must write it for SQLite to read that index. */
export function outcomeIndexCondition(outcome: Outcome, column = 'outcome'): string {
  return `${column} = '${outcome}'`;
}

/** A trace index bucket holds the rows of 2^traceBucketBits consecutive seqs (see traceIndex). */
export const traceBucketBits = 14;

/** The trace index bucket of a seq column, as the index and the queries that read it must write it alike. */
export function traceBucketSql(seq: string): string {
  return `(${seq} >> ${traceBucketBits})`;
}

/**
 * The trace id's index, keyed by bucket (a stretch of 16,384 seqs) first, then the id as 16 bytes, then seq.
 * Trace ids are random (W3C): keyed by id first (version 6), each index step put its rows all over the index, and
 * rewrote most of its 64 KiB leaf pages once it spanned more pages than a step has rows, a cost per row that grew
 * with the log (a million rows of random ids: the step 19 µs of CPU a row, 29 over the last tenth, against 5 with
 * no trace ids). Keyed by bucket, a step adds to the pages of its one or two buckets only (about eight for a full
 * bucket), however long the log (6.4 µs a row, 7.8 over the last tenth); a query by trace id seeks
 * once per bucket, newest first (or oldest), which gives its rows in seq order. The 16 bytes (`unhex`) of the id
 * take half the room of its hex text, so a bucket spans half as many pages. Partial: rows without a trace id add
 * nothing, and a query names `trace_id IS NOT NULL` for SQLite to read it.
 */
const traceIndex = `CREATE INDEX decision_keys_trace_id ON decision_keys(${traceBucketSql('seq')}, unhex(trace_id), seq) WHERE trace_id IS NOT NULL;`;

const keysIndexes = `
CREATE INDEX decision_keys_path ON decision_keys(path);
${outcomeIndexes}
CREATE INDEX decision_keys_revision ON decision_keys(revision, seq) WHERE revision IS NOT NULL;
${traceIndex}
-- Retention deletes from decisions; a row's keys go with it.
CREATE TRIGGER decisions_drop_keys AFTER DELETE ON decisions
BEGIN
  DELETE FROM decision_keys WHERE seq = old.seq;
END;`;

/**
 * Per stretch of at most zoneRows rows of decision_keys (first_seq..last_seq): the least and greatest time and
 * decision id among them. Rows are appended about in time order and Verdict's ids begin with their millisecond
 * (event.ts), so a zone's bounds are close together, and the zones that can hold a time range or an id are a
 * short stretch of seq. A zone stays when its rows are deleted (it then bounds nothing it should not: a query
 * reads the rows of decision_keys in the range it gives), and is made again when its seqs are reused.
 */
const zonesTable = `CREATE TABLE decision_zones (
  first_seq INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  min_id TEXT NOT NULL,
  max_id TEXT NOT NULL
);
-- A lookup of a recent id or time range reads the few newest zones from these (an entry per 256 rows).
CREATE INDEX decision_zones_max_id ON decision_zones(max_id);
CREATE INDEX decision_zones_max_ts ON decision_zones(max_ts);`;

/**
 * Per index step (the rows of decision_keys from first_seq to last_seq) and principal: the seqs of that principal's
 * rows among them, as a JSON array in no particular order (queries read it with json_each and sort each list). A
 * step adds one row per distinct principal in it, where an index of (principal, seq) took an entry per row, each a
 * search down the tree and an insert inside a page (97 principals: ~0.85 µs of the writer's CPU a row, measured,
 * against ~0.05 for the lists). Every list of one step has the step's first_seq and last_seq, and the steps do
 * not overlap, so lists in last_seq order, each sorted, are the rows in seq order: by principal from
 * decision_principals_principal, for a principal prefix from decision_principals_step. A list keeps the seqs of
 * rows retention deleted (a query reads each seq's row in decision_keys, which has gone) until its whole step is
 * older than every row.
 *
 * The lists are keyed by step first, so a step's lists are appended at the end of the table. Keyed by principal
 * first (version 5), each step put a list into every principal's stretch of the table, a page of 64 KiB rewritten
 * per principal and step once the table spans that many pages: with 97 principals, at a million rows the lists
 * took 1.0 µs of the writer's CPU a row against 0.56 keyed by step, and the writer 1.2-1.8 µs a row more in all
 * (checkpoints writing those pages included). The index by principal holds a principal and a seq per list, not
 * the list, so it spans a small part of those pages.
 */
const principalsTable = `CREATE TABLE decision_principals (
  principal TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  seqs TEXT NOT NULL,               -- JSON array of seqs
  PRIMARY KEY (first_seq, principal)
) WITHOUT ROWID;
CREATE INDEX decision_principals_principal ON decision_principals(principal, first_seq);
CREATE INDEX decision_principals_step ON decision_principals(last_seq, principal);`;

/**
 * The principals' lists of the rows of decision_keys from seq @from to seq @to (one step, see principalsTable).
 * OR FAIL, as the index step's other inserts: a statement that may abort halfway makes SQLite copy each page it
 * changes into a statement journal first, to undo that statement alone; a failed step is rolled back whole instead
 * (indexing.ts).
 */
export const principalsSql = `INSERT OR FAIL INTO decision_principals (principal, first_seq, last_seq, seqs)
  SELECT principal, @from, @to, json_group_array(seq) FROM decision_keys WHERE seq BETWEEN @from AND @to AND principal IS NOT NULL GROUP BY principal`;

/** The zone of the rows of decision_keys from seq ? to seq ? (none when there are none). OR FAIL: see principalsSql. */
export const zoneSql = `INSERT OR FAIL INTO decision_zones (first_seq, last_seq, min_ts, max_ts, min_id, max_id)
  SELECT min(seq), max(seq), min(ts_ns), max(ts_ns), min(decision_id), max(decision_id) FROM decision_keys
  WHERE seq BETWEEN ? AND ? HAVING count(*) > 0`;

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
${keysTable}
${keysIndexes}
${zonesTable}
${principalsTable}
-- Events made under several bundles with different revisions: one row per revision (rare, indexed as written).
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
   CREATE INDEX decisions_trace_id ON decisions(trace_id, seq) WHERE trace_id IS NOT NULL;`,
  // 2 → 3: the indexes move from decisions to decision_keys, filled with every stored row (indexes built after
  // the rows, by sorting, rather than row by row), and decisions keeps none.
  `${keysTable}
   ${copyKeysSql('0')}
   CREATE INDEX decision_keys_ts ON decision_keys(ts_ns);
   CREATE INDEX decision_keys_decision_id ON decision_keys(decision_id);
   CREATE INDEX decision_keys_path ON decision_keys(path);
   CREATE INDEX decision_keys_outcome ON decision_keys(outcome, seq);
   CREATE INDEX decision_keys_principal ON decision_keys(principal, seq) WHERE principal IS NOT NULL;
   CREATE INDEX decision_keys_revision ON decision_keys(revision, seq) WHERE revision IS NOT NULL;
   CREATE INDEX decision_keys_trace_id ON decision_keys(trace_id, seq) WHERE trace_id IS NOT NULL;
   CREATE TRIGGER decisions_drop_keys AFTER DELETE ON decisions
   BEGIN
     DELETE FROM decision_keys WHERE seq = old.seq;
   END;
   DROP INDEX decisions_ts;
   DROP INDEX decisions_decision_id;
   DROP INDEX decisions_path;
   DROP INDEX decisions_outcome;
   DROP INDEX decisions_principal;
   DROP INDEX decisions_revision;
   DROP INDEX decisions_trace_id;`,
  // 3 → 4: time and decision id are bounded by zones instead of indexed row by row, and the outcome index is one
  // per outcome (see keysIndexes); the zones of the rows already indexed are made from decision_keys.
  `DROP INDEX decision_keys_ts;
   DROP INDEX decision_keys_decision_id;
   DROP INDEX decision_keys_outcome;
   ${outcomeIndexes}
   ${zonesTable}
   INSERT INTO decision_zones (first_seq, last_seq, min_ts, max_ts, min_id, max_id)
     SELECT min(seq), max(seq), min(ts_ns), max(ts_ns), min(decision_id), max(decision_id) FROM decision_keys GROUP BY (seq - 1) / ${zoneRows};`,
  // 4 → 5: the principal index gives way to the principals' lists (keyed by principal first, until 5 → 6), made for
  // the rows already indexed in stretches of 4,096 seqs as if by steps of that length, the last one ending at the
  // last indexed row.
  `DROP INDEX decision_keys_principal;
   CREATE TABLE decision_principals (
     principal TEXT NOT NULL,
     first_seq INTEGER NOT NULL,
     last_seq INTEGER NOT NULL,
     seqs TEXT NOT NULL,
     PRIMARY KEY (principal, first_seq)
   ) WITHOUT ROWID;
   CREATE INDEX decision_principals_step ON decision_principals(last_seq, principal);
   INSERT INTO decision_principals (principal, first_seq, last_seq, seqs)
     SELECT principal, step * 4096 + 1, min(step * 4096 + 4096, (SELECT max(seq) FROM decision_keys)), json_group_array(seq)
     FROM (SELECT (seq - 1) / 4096 AS step, seq, principal FROM decision_keys WHERE principal IS NOT NULL) GROUP BY step, principal;`,
  // 5 → 6: the principals' lists are keyed by step first (principalsTable), the same lists.
  `DROP INDEX decision_principals_step;
   ALTER TABLE decision_principals RENAME TO decision_principals_5;
   ${principalsTable}
   INSERT INTO decision_principals (principal, first_seq, last_seq, seqs)
     SELECT principal, first_seq, last_seq, seqs FROM decision_principals_5 ORDER BY first_seq, principal;
   DROP TABLE decision_principals_5;`,
  // 6 → 7: the trace index keyed by bucket of seq first, the id as bytes (traceIndex), made from the indexed rows.
  `DROP INDEX decision_keys_trace_id;
   ${traceIndex}`,
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
