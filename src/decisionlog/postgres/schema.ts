// The central decision store's layout in PostgreSQL: the embedded log's columns (see ../schema.ts) with
// decision_id unique, so a batch uploaded twice (at-least-once delivery) is stored once. Paths and principals
// compare byte by byte (COLLATE "C"), so the prefix filters are index ranges as in SQLite. The event is kept as
// `json`, the text as the replica sent it, not re-encoded. A decision's bundle revision is in the `revision` column
// when it has one; one made under bundles of several revisions has a row per revision in verdict_decision_revisions
// instead. Both are B-tree indexes on (revision, seq), so a revision filter walks them in seq order and stops at
// the page's LIMIT (a GIN index on an array column could not be read in order: every match was sorted first).
// Likewise (path, seq) and (outcome, path, seq) serve a path prefix, asked as one equality per stored path.
// Tables made by an older version are upgraded in place.
import type { PoolClient } from 'pg';
import { DecisionLogError } from '../errors.js';
import { postgresTraceIdSql } from '../trace-id.js';

export const postgresSchemaVersion = 4;

const traceIdIndex = `CREATE INDEX verdict_decisions_trace_id ON verdict_decisions (trace_id, seq) WHERE trace_id IS NOT NULL;`;

// An outcome with a path (each stored path under a prefix is its own arm of the query, see query.ts) read in seq order.
const outcomePathIndex = `CREATE INDEX verdict_decisions_outcome_path ON verdict_decisions (outcome, path, seq);`;

const revisionsTable = `
CREATE TABLE verdict_decision_revisions (
  seq bigint NOT NULL,                                   -- a decision whose revision column is NULL
  revision text NOT NULL,
  PRIMARY KEY (seq, revision)
);
CREATE INDEX verdict_decision_revisions_revision ON verdict_decision_revisions (revision, seq);`;

const createStatements = `
CREATE TABLE verdict_decisions (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,   -- arrival order; the query cursor
  decision_id text NOT NULL,
  ts_ns bigint NOT NULL,                                 -- event timestamp, Unix nanoseconds
  path text COLLATE "C" NOT NULL,
  outcome text NOT NULL,
  principal text COLLATE "C",
  revision text,                                         -- the bundle revision, when all bundles share one
  received_at timestamptz NOT NULL DEFAULT now(),
  event json NOT NULL,
  trace_id text,                                         -- 32 lowercase hex digits (../trace-id.ts), or NULL
  CONSTRAINT verdict_decisions_decision_id UNIQUE (decision_id)
);
CREATE INDEX verdict_decisions_ts ON verdict_decisions (ts_ns);
CREATE INDEX verdict_decisions_path ON verdict_decisions (path, seq);
CREATE INDEX verdict_decisions_outcome ON verdict_decisions (outcome, seq);
${outcomePathIndex}
CREATE INDEX verdict_decisions_principal ON verdict_decisions (principal, seq) WHERE principal IS NOT NULL;
CREATE INDEX verdict_decisions_revision ON verdict_decisions (revision, seq) WHERE revision IS NOT NULL;
${traceIdIndex}
${revisionsTable}
CREATE TABLE verdict_meta (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO verdict_meta VALUES ('schema_version', '${postgresSchemaVersion}');
`;

/**
 * What takes the tables from version N to N + 1, at index N - 1; run under the schema lock in the transaction
 * that checks the version, so they are upgraded once, whole or not at all.
 */
const migrations: string[] = [
  // 1 → 2: the trace_id column, filled for the rows already stored from their JSON, and its index.
  `ALTER TABLE verdict_decisions ADD COLUMN trace_id text;
   UPDATE verdict_decisions SET trace_id = traced.id
     FROM (SELECT seq, ${postgresTraceIdSql} AS id FROM verdict_decisions) AS traced
     WHERE verdict_decisions.seq = traced.seq AND traced.id IS NOT NULL;
   ${traceIdIndex}`,
  // 2 → 3: the revisions of multi-revision decisions move from an array column under a GIN index to their own table.
  `${revisionsTable}
   INSERT INTO verdict_decision_revisions (seq, revision)
     SELECT DISTINCT seq, unnest(revisions) FROM verdict_decisions WHERE revisions IS NOT NULL;
   DROP INDEX verdict_decisions_revisions;
   ALTER TABLE verdict_decisions DROP COLUMN revisions;`,
  // 3 → 4: the (outcome, path, seq) index. Built under the lock (uploads wait, then go on): 17 s for 1.5 million
  // decisions on a loaded 2-core machine.
  outcomePathIndex,
];

/** A key no other application is likely to lock: collectors starting together create the tables once. */
const schemaLockKey = 0x76657264; // "verd"

/** Creates the tables in an empty database, upgrades those of an older version, or checks that they are this version's. */
export async function ensurePostgresSchema(client: PoolClient): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [schemaLockKey]);
    const found = await client.query<{ exists: boolean }>(`SELECT to_regclass('verdict_meta') IS NOT NULL AS exists`);
    if (!found.rows[0].exists) {
      await client.query(createStatements);
    } else {
      const version = await client.query<{ value: string }>(`SELECT value FROM verdict_meta WHERE key = 'schema_version'`);
      const have = Number(version.rows[0]?.value);
      if (Number.isInteger(have) && have > 0 && have < postgresSchemaVersion) {
        for (let v = have; v < postgresSchemaVersion; v++) await client.query(migrations[v - 1]);
        await client.query(`UPDATE verdict_meta SET value = $1 WHERE key = 'schema_version'`, [String(postgresSchemaVersion)]);
      } else if (have !== postgresSchemaVersion) {
        throw new DecisionLogError('db_incompatible', `central decision store: schema version ${version.rows[0]?.value ?? 'unknown'}, this build reads version ${postgresSchemaVersion}`);
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
