// `decision_logs.store.postgres`: the central decision store a collector fills from POST /logs and answers
// /v1/decisions from. The password never sits in the configuration file: it is read from an environment
// variable or a file (a mounted secret) each time a connection is opened, so a rotated secret is picked up.
import { readFileSync } from 'node:fs';
import { DecisionLogConfigError } from '../config.js';

export interface PostgresStoreOptions {
  /** libpq-style URL or keyword string, without a password. */
  connectionString: string;
  /** Where the password comes from; undefined lets node-postgres use PGPASSWORD. */
  password?: () => string;
  /** Most connections the collector holds. */
  poolSize: number;
  /** Delete decisions whose timestamp is older than this; undefined keeps everything. */
  maxAgeSeconds?: number;
  /** How often a retention pass runs. */
  retentionIntervalMs: number;
}

/** The central store keeps a month by default: it is the fleet's audit trail, not one replica's buffer. */
export const defaultCentralMaxAgeSeconds = 30 * 24 * 60 * 60;

const keys = ['connection_string', 'password_env', 'password_file', 'pool_size', 'retention'];

export function postgresStoreOptions(value: unknown, env: NodeJS.ProcessEnv = process.env): PostgresStoreOptions {
  const where = 'decision_logs.store.postgres';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DecisionLogConfigError(`${where} must be an object`);
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !keys.includes(k));
  if (unknown !== undefined) throw new DecisionLogConfigError(`${where}.${unknown} is not a setting; settings are ${keys.join(', ')}`);
  const connectionString = o.connection_string;
  if (typeof connectionString !== 'string' || connectionString.trim() === '') {
    throw new DecisionLogConfigError(`${where}.connection_string must name the database, e.g. postgresql://verdict@db.example:5432/audit`);
  }
  if (carriesPassword(connectionString)) {
    throw new DecisionLogConfigError(`${where}.connection_string holds a password; put it in an environment variable (password_env) or a file (password_file) instead`);
  }
  if (o.password_env !== undefined && o.password_file !== undefined) throw new DecisionLogConfigError(`${where}: set password_env or password_file, not both`);
  const options: PostgresStoreOptions = { connectionString, poolSize: 10, retentionIntervalMs: 60_000, maxAgeSeconds: defaultCentralMaxAgeSeconds };
  if (o.password_env !== undefined) {
    const name = o.password_env;
    if (typeof name !== 'string' || name === '') throw new DecisionLogConfigError(`${where}.password_env must name an environment variable`);
    if (env[name] === undefined) throw new DecisionLogConfigError(`${where}.password_env: environment variable ${name} is not set`);
    options.password = () => {
      const password = env[name];
      if (password === undefined) throw new Error(`environment variable ${name} (${where}.password_env) is not set`);
      return password;
    };
  }
  if (o.password_file !== undefined) {
    const file = o.password_file;
    if (typeof file !== 'string' || file === '') throw new DecisionLogConfigError(`${where}.password_file must be a file name`);
    const read = () => readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    try {
      read();
    } catch (error) {
      throw new DecisionLogConfigError(`${where}.password_file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    options.password = read;
  }
  if (o.pool_size !== undefined) {
    if (!Number.isInteger(o.pool_size) || (o.pool_size as number) < 1) throw new DecisionLogConfigError(`${where}.pool_size must be a positive integer, got ${JSON.stringify(o.pool_size)}`);
    options.poolSize = o.pool_size as number;
  }
  if (o.retention !== undefined) {
    const r = o.retention;
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new DecisionLogConfigError(`${where}.retention must be an object`);
    const { max_age_seconds: maxAge, interval_seconds: interval, ...rest } = r as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new DecisionLogConfigError(`${where}.retention.${extra} is not a setting; settings are max_age_seconds, interval_seconds`);
    if (maxAge !== undefined) {
      if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0) throw new DecisionLogConfigError(`${where}.retention.max_age_seconds must be a number of seconds, or 0 to keep everything, got ${JSON.stringify(maxAge)}`);
      options.maxAgeSeconds = maxAge === 0 ? undefined : maxAge;
    }
    if (interval !== undefined) {
      if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) throw new DecisionLogConfigError(`${where}.retention.interval_seconds must be a positive number, got ${JSON.stringify(interval)}`);
      options.retentionIntervalMs = interval * 1000;
    }
  }
  return options;
}

/** postgresql://user:secret@host/db, ...?password=secret, or a keyword string with password=... */
function carriesPassword(text: string): boolean {
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      return url.password !== '' || url.searchParams.has('password');
    } catch {
      throw new DecisionLogConfigError('decision_logs.store.postgres.connection_string is not a valid postgresql:// URL');
    }
  }
  return /(^|\s)password\s*=/i.test(text);
}
