// The central decision store in PostgreSQL. A collector writes each uploaded batch in one transaction (all of
// it or none), skipping decision ids already stored, so an uploader that sends a batch again after a lost
// acknowledgement never duplicates a row. Each batch is marked in flight until it ends, and readers hand out only
// the seqs below every batch in flight (settled.ts), so a cursor never passes a seq that commits later. Events
// are classified (outcome, principal, revisions) and have credentials erased here, with the collector's own
// settings, exactly as the embedded log does on write.
// Retention is a DELETE in batches run in the database; collectors sharing one database take turns on it.
import type pg from 'pg';
import { lazyRequire } from '../../lazy-require.js';
import type { DecisionEvent } from '../event.js';
import { DecisionLogError } from '../errors.js';
import { storedEventJson } from '../stored-json.js';
import { outcomeClassifier, type OutcomeClassifier, type OutcomeRuleConfig } from '../outcome.js';
import { principalExtractor, type PrincipalExtractor, type PrincipalSource } from '../principal.js';
import { bundleRevisions, checkEvent } from '../store.js';
import { nowNs } from '../event.js';
import type { DecisionFilters, DecisionPage, StoredDecision } from '../query.js';
import type { DecisionQueries } from '../queries.js';
import type { PostgresStoreOptions } from './config.js';
import { ensurePostgresSchema } from './schema.js';
import { queryPostgres, settledSeq } from './query.js';
import { markInFlightSql } from './settled.js';
import { traceIdOf } from '../trace-id.js';

/** node-postgres, loaded when a central store is opened: servers that log to SQLite never need it. */
const postgres = lazyRequire<typeof pg>('pg');

export interface CentralRowOptions {
  outcome?: OutcomeRuleConfig;
  principals?: PrincipalSource[];
  /** Default true, as in the embedded log: Authorization and cookie values are erased before storing. */
  maskCredentials?: boolean;
}

export interface IngestResult {
  /** Events in the batch. */
  received: number;
  /** Events new to the store (the rest were already stored under their decision_id). */
  stored: number;
}

export interface CentralStoreStatus {
  state: 'OK' | 'ERROR' | 'CLOSED';
  batches: number;
  stored: number;
  duplicates: number;
  failed_batches: number;
  pruned: number;
  last_error?: { message: string; at: string };
}

/** Rows per INSERT statement; a bigger batch is several statements in the same transaction. */
const rowsPerStatement = 5_000;
const pruneBatch = 10_000;
const retentionLockKey = 0x76657265;

/**
 * One statement stores a slice of the batch (column arrays, the events as one JSON array: json_array_elements
 * hands each event's text back as sent, and a JSON array costs no escaping where a text[] literal would escape
 * every quote of every event): the decisions not stored yet (a repeated decision_id, in the store
 * or earlier in the batch, is skipped), then the revisions of the multi-revision ones under the seq each got.
 * The rows are joined with the transaction's in-flight mark (settled.ts), so it is taken before their first seq
 * is drawn. Answers how many decisions were new.
 */
const insertSql = `
WITH batch AS (
  SELECT * FROM ROWS FROM (unnest($1::text[]), unnest($2::bigint[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]),
    unnest($6::text[]), unnest($7::text[]), json_array_elements($8::json), unnest($9::text[])) WITH ORDINALITY AS u(d, t, p, o, pr, r, rs, e, tr, n)
), mark AS (${markInFlightSql}
), added AS (
  INSERT INTO verdict_decisions (decision_id, ts_ns, path, outcome, principal, revision, event, trace_id)
  SELECT d, t, p, o, pr, r, e, tr FROM batch CROSS JOIN mark ORDER BY n
  ON CONFLICT (decision_id) DO NOTHING
  RETURNING seq, decision_id
), revisions AS (
  INSERT INTO verdict_decision_revisions (seq, revision)
  SELECT added.seq, x
  FROM added JOIN (SELECT DISTINCT ON (d) d, rs FROM batch WHERE rs IS NOT NULL ORDER BY d, n) AS multi ON multi.d = added.decision_id,
       json_array_elements_text(multi.rs::json) AS x
)
SELECT count(*)::int AS stored FROM added`;

type Columns = [string[], string[], string[], string[], (string | null)[], (string | null)[], (string | null)[], string[], (string | null)[]];

export class PostgresDecisionStore implements DecisionQueries {
  readonly pool: pg.Pool;
  private readonly classify: OutcomeClassifier;
  private readonly principalOf: PrincipalExtractor;
  private readonly maskCredentials: boolean;
  private timer?: NodeJS.Timeout;
  private pruning?: Promise<number>;
  private closed = false;
  private failing = false;
  private lastError?: CentralStoreStatus['last_error'];
  private readonly counters = { batches: 0, stored: 0, duplicates: 0, failed_batches: 0, pruned: 0 };

  constructor(
    private readonly options: PostgresStoreOptions,
    rows: CentralRowOptions = {},
  ) {
    this.pool = new (postgres().Pool)({
      connectionString: options.connectionString,
      max: options.poolSize,
      ...(options.password ? { Client: clientWithPassword(options.password) } : {}),
      connectionTimeoutMillis: 10_000,
      application_name: 'verdict-collector',
    });
    // A connection the server drops while idle (a restart, a failover) is replaced on next use; without a
    // listener the pool's error would end the process.
    this.pool.on('error', (error) => this.failed(error));
    this.classify = outcomeClassifier(rows.outcome);
    this.principalOf = principalExtractor(rows.principals);
    this.maskCredentials = rows.maskCredentials ?? true;
  }

  /** Connects and creates or checks the tables; rejects with db_open_failed or db_incompatible. */
  async open(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new DecisionLogError('db_open_failed', `central decision store cannot be reached: ${(error as Error).message}`, { cause: error });
    }
    try {
      await ensurePostgresSchema(client);
    } finally {
      client.release();
    }
  }

  /**
   * Stores one uploaded batch in one transaction. Every event is checked first: one bad event refuses the whole
   * batch (invalid_event naming it) and nothing is written. Store failures reject with db_write_failed.
   */
  async ingest(events: readonly unknown[]): Promise<IngestResult> {
    if (this.closed) throw new DecisionLogError('store_closed', 'central decision store is closed');
    const columns = this.columns(events);
    const client = await this.connect();
    let stored = 0;
    // One statement is atomic by itself, and durable when it answers; a bigger batch needs a transaction.
    const statements = Math.ceil(events.length / rowsPerStatement);
    try {
      if (statements > 1) await client.query('BEGIN');
      for (let start = 0; start < events.length; start += rowsPerStatement) {
        const values: unknown[] = columns.map((column) => column.slice(start, start + rowsPerStatement));
        values[7] = `[${(values[7] as string[]).join(',')}]`;
        stored += (await client.query<{ stored: number }>({ name: 'verdict_ingest', text: insertSql, values })).rows[0].stored;
      }
      if (statements > 1) await client.query('COMMIT');
    } catch (error) {
      if (statements > 1) await client.query('ROLLBACK').catch(() => undefined);
      this.counters.failed_batches++;
      this.failed(error);
      throw new DecisionLogError('db_write_failed', `central decision store refused the batch, nothing was stored: ${(error as Error).message}`, { cause: error });
    } finally {
      client.release();
    }
    this.counters.batches++;
    this.counters.stored += stored;
    this.counters.duplicates += events.length - stored;
    this.failing = false;
    return { received: events.length, stored };
  }

  query(filters?: DecisionFilters): Promise<DecisionPage> {
    return queryPostgres(this.pool, filters).catch(readFailure);
  }

  async find(decisionId: string): Promise<StoredDecision | undefined> {
    return (await this.query({ decision_id: decisionId, limit: 1 })).decisions[0];
  }

  /** The highest settled seq (settled.ts): a walk from it on misses nothing that commits later. */
  newestSeq(): Promise<number> {
    return settledSeq(this.pool).catch(readFailure);
  }

  startRetention(): void {
    if (this.options.maxAgeSeconds === undefined) return;
    this.timer = setInterval(() => void this.prune().catch((error) => this.failed(error)), this.options.retentionIntervalMs);
    this.timer.unref();
  }

  /**
   * Deletes decisions older than the age limit, batch by batch, each batch its own transaction. Another collector
   * already pruning makes this pass a no-op. Resolves to rows deleted.
   */
  prune(now: bigint = nowNs()): Promise<number> {
    const maxAge = this.options.maxAgeSeconds;
    if (maxAge === undefined) return Promise.resolve(0);
    this.pruning ??= (async () => {
      const cutoff = (now - BigInt(Math.floor(maxAge * 1e9))).toString();
      let total = 0;
      for (;;) {
        const client = await this.connect();
        try {
          await client.query('BEGIN');
          const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [retentionLockKey]);
          if (!lock.rows[0].ok) {
            await client.query('ROLLBACK');
            return total;
          }
          const deleted = await client.query<{ n: number }>(
            `WITH gone AS (
               DELETE FROM verdict_decisions WHERE seq IN (SELECT seq FROM verdict_decisions WHERE ts_ns < $1 ORDER BY ts_ns LIMIT $2)
               RETURNING seq, revision
             ), revisions AS (
               DELETE FROM verdict_decision_revisions WHERE seq IN (SELECT seq FROM gone WHERE revision IS NULL)
             )
             SELECT count(*)::int AS n FROM gone`,
            [cutoff, pruneBatch],
          );
          await client.query('COMMIT');
          const n = deleted.rows[0].n;
          total += n;
          this.counters.pruned += n;
          if (n < pruneBatch) return total;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      }
    })().finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.pruning?.catch(() => undefined);
    await this.pool.end();
  }

  status(): CentralStoreStatus {
    return {
      state: this.closed ? 'CLOSED' : this.failing ? 'ERROR' : 'OK',
      ...this.counters,
      ...(this.lastError ? { last_error: this.lastError } : {}),
    };
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      this.failed(error);
      throw new DecisionLogError('db_write_failed', `central decision store cannot be reached: ${(error as Error).message}`, { cause: error });
    }
  }

  private failed(error: unknown): void {
    this.failing = true;
    this.lastError = { message: error instanceof Error ? error.message : String(error), at: new Date().toISOString() };
  }

  /** The batch as column arrays for one INSERT ... SELECT FROM unnest(...); throws invalid_event for the first bad event. */
  private columns(events: readonly unknown[]): Columns {
    const columns: Columns = [[], [], [], [], [], [], [], [], []];
    events.forEach((value, i) => {
      const event = value as DecisionEvent;
      let tsNs: bigint;
      try {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DecisionLogError('invalid_event', 'decision event must be an object');
        tsNs = checkEvent(event, undefined);
      } catch (error) {
        throw new DecisionLogError('invalid_event', `event ${i} of ${events.length}: ${(error as Error).message}`);
      }
      // As in the embedded log: the principal is read before credentials are erased (it names, it grants nothing).
      const principal = this.principalOf(event) ?? null;
      // The text as the embedded log stores it: credential headers cut out of it unless the operator keeps them.
      const text = storedEventJson(event, { maskCredentials: this.maskCredentials });
      const revisions = bundleRevisions(event.bundles);
      columns[0].push(event.decision_id);
      columns[1].push(tsNs.toString());
      columns[2].push(event.path ?? '');
      columns[3].push(this.classify(event));
      columns[4].push(principal);
      columns[5].push(revisions.length === 1 ? revisions[0] : null);
      columns[6].push(revisions.length > 1 ? JSON.stringify(revisions) : null);
      columns[7].push(text);
      columns[8].push(traceIdOf(event));
    });
    return columns;
  }
}

/** A failed read as the decision log's error (the CLI's exit code, the API's 500), naming the store. */
function readFailure(error: unknown): never {
  if (error instanceof DecisionLogError) throw error;
  throw new DecisionLogError('db_open_failed', `central decision store cannot be read: ${(error as Error).message}`, { cause: error });
}

/**
 * node-postgres lets a connection string override the `password` option (with nothing, when the string has
 * none), so the password source is set on each client instead; it is asked at every new connection.
 */
function clientWithPassword(password: () => string): typeof pg.Client {
  return class extends postgres().Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      (this as unknown as { password: () => string }).password = password;
    }
  };
}
