import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { newLogPageSize } from '../../src/decisionlog/open.js';
import { SharedDecisionWriter } from '../../src/decisionlog/shared-writer.js';
import { framesFor } from '../../src/decisionlog/wal-frames.js';
import { ensureSchema } from '../../src/decisionlog/schema.js';
import { queryDecisions } from '../../src/decisionlog/query.js';
import { sampleEvent, tempDir } from './helpers.js';

/** The writer connection's setting for SQLite's automatic checkpoint, in pages (0: off). */
async function autoCheckpointPages(store: DecisionLogStore): Promise<number> {
  return ((await store.writerPragma('wal_autocheckpoint')) as [{ wal_autocheckpoint: number }])[0].wal_autocheckpoint;
}

/** Creates an empty log with `pageSize` pages, as an older version made them. */
function oldLog(file: string, pageSize: number): void {
  const old = new Database(file);
  old.pragma(`page_size = ${pageSize}`);
  old.pragma('auto_vacuum = INCREMENTAL');
  old.pragma('journal_mode = WAL');
  ensureSchema(old, file);
  old.close();
}

test('the WAL is checkpointed every 64 MiB, whatever the page size: 1,024 pages of 64 KiB, 4,096 of 16 KiB', () => {
  assert.equal(framesFor(64 * 1024 * 1024, 65_536), 1_024);
  assert.equal(framesFor(64 * 1024 * 1024, 16_384), 4_096);
});

test('a new log has 64 KiB pages, and its writer checkpoints the WAL itself, not SQLite inside a commit', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  try {
    assert.equal(newLogPageSize, 65_536);
    assert.equal(store.db.pragma('page_size', { simple: true }), 65_536);
    assert.equal(await autoCheckpointPages(store), 0);
    const events = Array.from({ length: 300 }, (_, i) => sampleEvent({ path: `p/${i % 3}` }));
    for (const event of events) await store.record(event);
    await store.flush();
    const page = queryDecisions(store.db, { path: 'p/1', limit: 1_000 });
    assert.deepEqual(page.decisions.map((d) => d.event.decision_id).sort(), events.filter((_, i) => i % 3 === 1).map((e) => e.decision_id).sort());
  } finally {
    await store.close();
  }
});

test('a log made with 16 KiB pages keeps them, and is written and read as before', async () => {
  const file = join(tempDir(), 'd.db');
  oldLog(file, 16_384);
  const store = new DecisionLogStore({ file, durability: 'sync' });
  try {
    assert.equal(await autoCheckpointPages(store), 0);
    const events = Array.from({ length: 50 }, () => sampleEvent());
    await Promise.all(events.map((event) => store.record(event)));
    const found = queryDecisions(store.db, { limit: 1_000, order: 'asc' }).decisions.map((d) => d.event.decision_id);
    assert.deepEqual(found, events.map((e) => e.decision_id));
    assert.equal(store.db.pragma('page_size', { simple: true }), 16_384);
  } finally {
    await store.close();
  }
});

for (const pageSize of [65_536, 16_384]) {
  test(`the writer's checkpoints keep the WAL near its threshold in bytes (${pageSize / 1024} KiB pages, sync durability)`, async () => {
    const file = join(tempDir(), 'd.db');
    if (pageSize !== newLogPageSize) oldLog(file, pageSize);
    const threshold = 512 * 1024;
    // No index step while the rows go in (1,800 rows, a step every 4,096; no idle step for ten minutes): a step is a
    // commit of its own, as big as the tail it indexes. On a loaded machine this thread can stall for longer than
    // the default idle pause (200 ms), and an idle step of 800 rows wrote 11-12 frames of 64 KiB, past the margin
    // below, which counts the frames of one batch's commit.
    const writer = new SharedDecisionWriter({ file, durability: 'sync', walCheckpointBytes: threshold, indexing: { stepRows: 4_096, idleMs: 600_000 } });
    const store = new DecisionLogStore({ writer: writer.handle() });
    try {
      // About 3 MB of events in commits of 20: six times the threshold.
      for (let round = 0; round < 90; round++) await Promise.all(Array.from({ length: 20 }, () => store.record(sampleEvent({ input: { pad: 'x'.repeat(1500) } }))));
      assert.equal(store.status().written, 1_800);
      // The WAL file keeps the size it grew to (a 32-byte header, then frames of a 24-byte header and a page): the
      // threshold plus the commit that crossed it, which may rewrite a few pages (the table's last leaf, its
      // parent, the header page, a pointer-map page). Without the checkpoints it would hold every commit.
      const frames = (statSync(`${file}-wal`).size - 32) / (pageSize + 24);
      assert.ok(frames <= threshold / pageSize + 6, `WAL of ${frames} frames, threshold ${threshold / pageSize}`);
      assert.ok(statSync(file).size > 2 * threshold, 'the rows reached the database file');
    } finally {
      await store.close();
      await writer.close();
    }
  });
}
