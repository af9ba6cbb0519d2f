import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { newLogPageSize } from '../../src/decisionlog/open.js';
import { ensureSchema } from '../../src/decisionlog/schema.js';
import { queryDecisions } from '../../src/decisionlog/query.js';
import { sampleEvent, tempDir } from './helpers.js';

/** The writer connection's checkpoint threshold, in pages. */
async function checkpointPages(store: DecisionLogStore): Promise<number> {
  return ((await store.writerPragma('wal_autocheckpoint')) as [{ wal_autocheckpoint: number }])[0].wal_autocheckpoint;
}

test('a new log has 64 KiB pages, and its writer checkpoints every 64 MiB of WAL (1,024 pages)', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  try {
    assert.equal(newLogPageSize, 65_536);
    assert.equal(store.db.pragma('page_size', { simple: true }), 65_536);
    assert.equal(await checkpointPages(store), 1_024);
    const events = Array.from({ length: 300 }, (_, i) => sampleEvent({ path: `p/${i % 3}` }));
    for (const event of events) await store.record(event);
    await store.flush();
    const page = queryDecisions(store.db, { path: 'p/1', limit: 1_000 });
    assert.deepEqual(page.decisions.map((d) => d.event.decision_id).sort(), events.filter((_, i) => i % 3 === 1).map((e) => e.decision_id).sort());
  } finally {
    await store.close();
  }
});

test('a log made with 16 KiB pages keeps them, is written and read as before, and is checkpointed every 64 MiB (4,096 pages)', async () => {
  const file = join(tempDir(), 'd.db');
  const old = new Database(file);
  old.pragma('page_size = 16384');
  old.pragma('auto_vacuum = INCREMENTAL');
  old.pragma('journal_mode = WAL');
  ensureSchema(old, file);
  old.close();

  const store = new DecisionLogStore({ file, durability: 'sync' });
  try {
    assert.equal(await checkpointPages(store), 4_096);
    const events = Array.from({ length: 50 }, () => sampleEvent());
    await Promise.all(events.map((event) => store.record(event)));
    const found = queryDecisions(store.db, { limit: 1_000, order: 'asc' }).decisions.map((d) => d.event.decision_id);
    assert.deepEqual(found, events.map((e) => e.decision_id));
    assert.equal(store.db.pragma('page_size', { simple: true }), 16_384);
  } finally {
    await store.close();
  }
});
