// The central decision store's layout in PostgreSQL: the embedded log's columns (see ../schema.ts) with
// decision_id unique, so a batch uploaded twice (at-least-once delivery) is stored once. Paths and principals
// compare byte by byte (COLLATE "C"), so the prefix filters are index ranges as in SQLite. The event is kept as
// `json`, the text as the replica sent it, not re-encoded.
import type { PoolClient } from 'pg';
import { DecisionLogError } from '../errors.js';

export const postgresSchemaVersion = 1;

const createStatements = `
CREATE TABLE verdict_decisions (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,   -- arrival order; the query cursor
  decision_id text NOT NULL,
  ts_ns bigint NOT NULL,                                 -- event timestamp, Unix nanoseconds
  path text COLLATE "C" NOT NULL,
  outcome text NOT NULL,
  principal text COLLATE "C",
  revision text,                                         -- the bundle revision, when all bundles share one
  revisions text[],                                      -- else every revision (NULL when there is one or none)
  received_at timestamptz NOT NULL DEFAULT now(),
  event json NOT NULL,
  CONSTRAINT verdict_decisions_decision_id UNIQUE (decision_id)
);
CREATE INDEX verdict_decisions_ts ON verdict_decisions (ts_ns);
CREATE INDEX verdict_decisions_path ON verdict_decisions (path, seq);
CREATE INDEX verdict_decisions_outcome ON verdict_decisions (outcome, seq);
CREATE INDEX verdict_decisions_principal ON verdict_decisions (principal, seq) WHERE principal IS NOT NULL;
CREATE INDEX verdict_decisions_revision ON verdict_decisions (revision, seq) WHERE revision IS NOT NULL;
CREATE INDEX verdict_decisions_revisions ON verdict_decisions USING gin (revisions) WHERE revisions IS NOT NULL;
CREATE TABLE verdict_meta (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO verdict_meta VALUES ('schema_version', '${postgresSchemaVersion}');
`;

/** A key no other application is likely to lock: collectors starting together create the tables once. */
const schemaLockKey = 0x76657264; // "verd"

/** Creates the tables in an empty database or checks that existing ones are this version's. */
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
      if (have !== postgresSchemaVersion) {
        throw new DecisionLogError('db_incompatible', `central decision store: schema version ${version.rows[0]?.value ?? 'unknown'}, this build reads version ${postgresSchemaVersion}`);
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
