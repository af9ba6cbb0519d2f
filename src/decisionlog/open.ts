// Opening the database file, with failures turned into typed errors the CLI maps to exit codes.
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { createOwnerOnlyFileSync, makeOwnerOnlyDirSync, tightenFileSync } from '../fs/owner-only.js';
import { DecisionLogError } from './errors.js';
import { ensureSchema, schemaVersion } from './schema.js';

export const defaultDatabaseFile = '.verdict/decisions.db';

export interface OpenOptions {
  readonly?: boolean;
  /** How long to wait for another process's lock before giving up. */
  lockTimeoutMs?: number;
}

// The workers of one server open a new log at the same moment, and one of them waits while another creates
// the tables; on a loaded machine that took over 2 s, and the waiting worker failed to start.
const defaultLockTimeoutMs = 10_000;

/** The page size of a log this version creates. */
export const newLogPageSize = 65_536;

export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

function openError(file: string, error: unknown): DecisionLogError {
  if (error instanceof DecisionLogError) return error;
  const code = sqliteCode(error) ?? '';
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new DecisionLogError('db_corrupt', `decision log ${file} is corrupt or not a SQLite database (${detail}); move it aside to start a new log`, { cause: error });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new DecisionLogError('db_locked', `decision log ${file} is locked by another process (${detail}); is another verdict server using it?`, { cause: error });
  }
  return new DecisionLogError('db_open_failed', `decision log ${file} cannot be opened: ${detail}`, { cause: error });
}

/**
 * The audit store is readable by its owner only: a new directory is 0700, and the database is created 0600
 * before SQLite opens it, because SQLite gives the -wal and -shm files the database file's mode. Files left
 * looser by an older version are tightened; one that cannot be is refused (db_open_failed).
 */
function prepareOwnerOnlyFiles(file: string): void {
  makeOwnerOnlyDirSync(dirname(file));
  createOwnerOnlyFileSync(file);
  for (const path of [file, `${file}-wal`, `${file}-shm`]) tightenFileSync(path);
}

/**
 * Opens (creating if needed, unless read-only) a decision-log database in WAL mode and checks its
 * schema. Throws DecisionLogError: db_corrupt, db_locked, db_incompatible or db_open_failed.
 */
export function openDecisionDatabase(file: string, options: OpenOptions = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (!options.readonly && file !== ':memory:') prepareOwnerOnlyFiles(file);
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false, timeout: options.lockTimeoutMs ?? defaultLockTimeoutMs });
    if (options.readonly) {
      const version = db.pragma('user_version', { simple: true });
      const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'decisions'`).get();
      if (table === undefined) throw new DecisionLogError('db_incompatible', `${file} is not a decision log (no decisions table; user_version ${String(version)})`);
      if (version !== schemaVersion) {
        // Reading never changes the file, so an older log is upgraded by the first server (or writer) to open it.
        const upgrade = typeof version === 'number' && version > 0 && version < schemaVersion ? '; start the server on it once to upgrade it' : '';
        throw new DecisionLogError('db_incompatible', `decision log ${file}: schema version ${String(version)}, this build reads version ${schemaVersion}${upgrade}`);
      }
    } else {
      // Both only take on a new, empty file, before WAL mode and the first table (no-ops on existing logs).
      // 64 KiB pages (SQLite's largest) hold dozens of 1–2 KB events each: a commit or checkpoint writes a quarter
      // as many WAL frames (two writes and a checksum each) as with 16 KiB pages, for about the same bytes.
      // Measured: the writer's CPU per event 15-20% lower than 16 KiB, which was ~30% lower than 4 KiB. An older
      // log keeps the page size it was made with.
      // No auto-vacuum: the pages retention frees go on SQLite's freelist and new decisions reuse them, so the file
      // stays at its high-water mark instead of shrinking. Incremental auto-vacuum (logs made before) keeps a
      // pointer-map page that every commit allocating pages rewrites: with 64 KiB pages, one WAL frame in eight at
      // 150-row commits, and the writer's CPU per row 5-6% higher at such commits (bench-decisionlog-writer).
      const deadline = Date.now() + (options.lockTimeoutMs ?? defaultLockTimeoutMs);
      const writable = db;
      // Two connections that both read a new file and then want to change it (WAL mode, the first tables) are a
      // deadlock SQLite resolves by failing one at once, not through the busy timeout: its second try finds the
      // work done.
      retryWhileBusy(deadline, { first: 1, max: 50 }, () => {
        writable.pragma(`page_size = ${newLogPageSize}`);
        writable.pragma('auto_vacuum = NONE');
        writable.pragma('journal_mode = WAL');
        ensureSchema(writable, file);
      });
    }
    return db;
  } catch (error) {
    db?.close();
    throw openError(file, error);
  }
}

/**
 * Runs `step` again while SQLite answers SQLITE_BUSY, until `deadline`, pausing `pauseMs.first` and then twice as
 * long each time up to `pauseMs.max`. For the busy answers SQLite gives without waiting out the busy timeout, or
 * where its own busy handler would sleep far too long between attempts.
 */
export function retryWhileBusy<T>(deadline: number, pauseMs: { first: number; max: number }, step: () => T): T {
  for (let pause = pauseMs.first; ; pause = Math.min(pause * 2, pauseMs.max)) {
    try {
      return step();
    } catch (error) {
      if (!sqliteCode(error)?.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw error;
      Atomics.wait(pauseWord, 0, 0, pause);
    }
  }
}

const pauseWord = new Int32Array(new SharedArrayBuffer(4));
