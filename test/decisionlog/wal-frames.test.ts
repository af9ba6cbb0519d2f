import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { hasNoopCheckpoint, WalFrames } from '../../src/decisionlog/wal-frames.js';
import { sampleEvent, tempDir } from './helpers.js';

const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * What `PRAGMA wal_checkpoint(TRUNCATE)` answers in another process, waiting for no lock: busy 1 while a connection
 * still reads from the WAL, which it then must not start over.
 */
function truncateElsewhere(file: string): { busy: number; log: number; checkpointed: number } {
  const script = `const db = new (require(process.argv[1]))(process.argv[2], { timeout: 0 });
    process.stdout.write(JSON.stringify(db.pragma('wal_checkpoint(TRUNCATE)')[0])); db.close();`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, betterSqlite3, file], { encoding: 'utf8' })) as ReturnType<typeof truncateElsewhere>;
}

test("a writer thread that closes leaves the WAL-index locks of the process's other connections in place", async () => {
  const file = join(tempDir(), 'd.db');
  const store = new DecisionLogStore({ file });
  const reader = new Database(file, { readonly: true });
  try {
    for (let i = 0; i < 20; i++) await store.record(sampleEvent());
    await store.flush();
    // A reader of this process in a read transaction: its snapshot is in the WAL (the writer has not checkpointed
    // it), and its lock on a read mark of the WAL-index keeps every connection from starting the WAL over.
    reader.exec('BEGIN');
    assert.equal(reader.prepare('SELECT count(*) FROM decisions').pluck().get(), 20);
    assert.equal(truncateElsewhere(file).busy, 1, 'another process sees the reader');
    // The writer thread closes its connection (after indexing the tail) while the reader reads.
    await store.close();
    assert.equal(truncateElsewhere(file).busy, 1, 'another process still sees the reader once the writer has closed');
    assert.equal(reader.prepare('SELECT count(*) FROM decisions').pluck().get(), 20);
  } finally {
    if (reader.inTransaction) reader.exec('COMMIT');
    reader.close();
  }
});

test('the WAL frame count comes from SQLite, and only from one that has the NOOP checkpoint', () => {
  assert.equal(hasNoopCheckpoint('3.51.0'), true);
  assert.equal(hasNoopCheckpoint('3.53.2'), true);
  assert.equal(hasNoopCheckpoint('4.0.0'), true);
  // An older SQLite takes the unknown mode for PASSIVE, and would checkpoint at every count.
  assert.equal(hasNoopCheckpoint('3.50.4'), false);
  assert.equal(hasNoopCheckpoint('3.9.9'), false);
  const file = join(tempDir(), 'd.db');
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    const frames = WalFrames.open(db)!;
    assert.ok(frames, `SQLite ${String(db.prepare('SELECT sqlite_version()').pluck().get())} counts WAL frames`);
    db.exec('CREATE TABLE t (x)');
    const before = frames.count()!;
    for (let i = 0; i < 5; i++) db.prepare('INSERT INTO t VALUES (randomblob(3000))').run();
    // Each insert commits at least one page; counting copies nothing into the database.
    assert.ok(frames.count()! >= before + 5, `${frames.count()} frames after ${before}`);
    assert.equal((db.pragma('wal_checkpoint(NOOP)') as [{ checkpointed: number }])[0].checkpointed, 0);
    db.pragma('wal_checkpoint(PASSIVE)');
    // The WAL starts over at the next commit once checkpointed.
    db.prepare('INSERT INTO t VALUES (1)').run();
    assert.equal(frames.count(), 1);
    // Not in WAL mode: no count, and the writer leaves checkpoints to SQLite.
    const memory = new Database(':memory:');
    assert.equal(WalFrames.open(memory), undefined);
    memory.close();
  } finally {
    db.close();
  }
});
