// `sql` adapter: one parameterised query against SQLite (better-sqlite3, opened read-only) or PostgreSQL (`pg`,
// pooled, read-only sessions). Input values are only ever bound as parameters, never spliced into SQL text.

import type Database from 'better-sqlite3';
import type pg from 'pg';
import { lazyRequire } from '../../lazy-require.js';
import { statSync } from 'node:fs';
import type { JsonValue, LookupParams, PipAdapter, PipAdapterKind } from '../adapter.js';
import { PipConfigError, PipLookupError } from '../errors.js';
import { requireParam } from '../template.js';

interface SqlSettings {
  driver: 'sqlite' | 'postgres';
  database?: string;
  connection?: string | pg.PoolConfig;
  query: string;
  params?: string[];
  result?: 'rows' | 'row';
  pool_size?: number;
}

type Row = Record<string, unknown>;

/** The drivers, loaded when an adapter of theirs is configured: most servers have no sql adapter. */
const sqlite = lazyRequire<typeof Database>('better-sqlite3');
const postgres = lazyRequire<typeof pg>('pg');

/** After the lookup's own timeout has fired (and been reported), the server cancels the statement. */
const STATEMENT_GRACE_MS = 250;
type RunQuery = (values: unknown[]) => Promise<Row[]>;

/**
 * The check needs no database: the driver's required setting, and for SQLite a file that exists. The query itself
 * is compiled when the adapter opens the database (SQLite) or on the first lookup (PostgreSQL).
 */
export const sqlAdapter: PipAdapterKind = {
  prepare(name, raw, context) {
    const settings = raw as unknown as SqlSettings;
    const where = `pip.adapters.${name}.settings`;
    if (settings.driver === 'sqlite') {
      if (!settings.database) throw new PipConfigError(`${where}.database: required for the sqlite driver`);
      try {
        if (!statSync(settings.database).isFile()) throw new Error('not a file');
      } catch (err) {
        throw new PipConfigError(`${where}.database: cannot open ${settings.database}: ${(err as Error).message}`);
      }
    } else if (!settings.connection) {
      throw new PipConfigError(`${where}.connection: required for the postgres driver`);
    }
    return { requiredParams: settings.params ?? [], open: () => new SqlAdapter(name, settings, context.timeoutMs) };
  },
};

export class SqlAdapter implements PipAdapter {
  private readonly params: readonly string[];
  private readonly run: RunQuery;
  private readonly release: () => Promise<void>;

  constructor(
    name: string,
    private readonly settings: SqlSettings,
    timeoutMs: number,
  ) {
    const where = `pip.adapters.${name}.settings`;
    this.params = settings.params ?? [];
    if (settings.driver === 'sqlite') {
      let db: Database.Database | undefined;
      let statement: Database.Statement;
      try {
        db = new (sqlite())(settings.database, { readonly: true, fileMustExist: true });
        db.pragma('query_only = ON');
        statement = db.prepare(settings.query);
        if (!statement.reader) throw new PipConfigError(`${where}.query: must be a query that returns rows`);
      } catch (err) {
        db?.close(); // a refused adapter must not keep its database open
        throw err instanceof PipConfigError ? err : new PipConfigError(`${where}: ${(err as Error).message}`);
      }
      const opened = db;
      this.run = async (values) => statement.all(...values) as Row[];
      this.release = async () => void opened.close();
    } else {
      const base: pg.PoolConfig = typeof settings.connection === 'string' ? { connectionString: settings.connection! } : settings.connection!;
      const pool = new (postgres().Pool)({
        ...base,
        max: settings.pool_size ?? 4,
        connectionTimeoutMillis: timeoutMs,
        // The server stops a query soon after the lookup has timed out, so slow queries do not pile up.
        statement_timeout: timeoutMs + STATEMENT_GRACE_MS,
        options: `${base.options ?? ''} -c default_transaction_read_only=on`.trim(),
      });
      pool.on('error', () => undefined); // an idle client's connection dropped: the pool replaces it on next use
      this.run = async (values) => (await pool.query({ text: settings.query, values })).rows as Row[];
      this.release = () => pool.end();
    }
  }

  async lookup(params: LookupParams): Promise<JsonValue> {
    const values = this.params.map((p) => bindable(requireParam(params, p), p));
    let rows: Row[];
    try {
      rows = await this.run(values);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const kind = e.code && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|57P01|08\w{3})$/.test(e.code) ? 'unavailable' : 'failed';
      throw new PipLookupError(kind, `query failed: ${e.code && !e.message?.includes(e.code) ? `${e.code} ` : ''}${e.message ?? String(err)}`);
    }
    const json = rows.map((r) => toJson(r) as Record<string, JsonValue>);
    return this.settings.result === 'row' ? (json[0] ?? null) : json;
  }

  close(): Promise<void> {
    return this.release();
  }
}

/** Only scalars are bound; booleans as 1/0 so SQLite and PostgreSQL (int or bool columns) read them alike. */
function bindable(value: JsonValue, param: string): string | number | null {
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw new PipLookupError('failed', `lookup parameter "${param}" must be a string, number, boolean or null`);
}

/** Column values as JSON: dates as ISO text, binary as base64, 64-bit integers as numbers when exact. */
function toJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value as JsonValue;
}
