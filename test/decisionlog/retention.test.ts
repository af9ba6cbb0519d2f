import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { formatTimestamp, nowNs } from '../../src/decisionlog/event.js';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { TailIndexer } from '../../src/decisionlog/indexing.js';
import { Retention } from '../../src/decisionlog/retention.js';
import { ensureSchema } from '../../src/decisionlog/schema.js';
import { sampleEvent, tempDir } from './helpers.js';

const hour = 3_600_000_000_000n;

function ids(store: DecisionLogStore): string[] {
  return (store.db.prepare('SELECT decision_id FROM decisions ORDER BY seq').all() as { decision_id: string }[]).map((r) => r.decision_id);
}

test('decisions older than maxAgeSeconds are pruned in batches; newer ones stay', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), retention: { maxAgeSeconds: 3600, batchSize: 10, intervalMs: 3_600_000 } });
  const now = nowNs();
  for (let i = 0; i < 35; i++) await store.record(sampleEvent({ decision_id: `old-${i}`, timestamp: formatTimestamp(now - 2n * hour) }));
  for (let i = 0; i < 5; i++) await store.record(sampleEvent({ decision_id: `new-${i}` }));
  await store.flush();
  assert.equal(await store.prune(), 35);
  assert.deepEqual(ids(store), ['new-0', 'new-1', 'new-2', 'new-3', 'new-4']);
  assert.equal(store.status().pruned, 35);
  assert.equal(await store.prune(), 0);
  await store.close();
});

/** Opens a log at `file`, 1,200 decisions of ~4 KB past its maxBytes of 1.8 MB, and prunes it; the file's size around. */
async function fillAndPrune(file: string) {
  // An empty log takes about 1.2 MB (a 64 KiB page or more for each table and index), which maxBytes counts.
  const store = new DecisionLogStore({ file, retention: { maxBytes: 1_800_000, batchSize: 50, intervalMs: 3_600_000 } });
  const blob = 'x'.repeat(4000);
  for (let i = 0; i < 1200; i++) await store.record(sampleEvent({ decision_id: `e-${i}`, input: { blob, i } }));
  await store.flush();
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const before = statSync(file).size;
  assert.ok(before > 4_500_000, `database holds ~5.5 MB before pruning (${before})`);
  const pruned = await store.prune();
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const used = (store.db.pragma('page_count', { simple: true }) as number) * (store.db.pragma('page_size', { simple: true }) as number);
  const free = (store.db.pragma('freelist_count', { simple: true }) as number) * (store.db.pragma('page_size', { simple: true }) as number);
  assert.ok(used - free <= 1_800_000 + 50 * 5000, `used ${used - free} bytes`);
  const left = ids(store);
  assert.ok(left.length > 0 && left.length < 1200, `${left.length} decisions left`);
  assert.equal(left.length, 1200 - pruned);
  assert.equal(left[left.length - 1], 'e-1199');
  assert.equal(left[0], `e-${pruned}`);
  return { store, blob, before, pruned, after: statSync(file).size };
}

test('past maxBytes the oldest decisions go first, and new decisions reuse their space: the file does not grow', async () => {
  const file = join(tempDir(), 'd.db');
  const { store, blob, before, pruned, after } = await fillAndPrune(file);
  try {
    assert.equal(store.db.pragma('auto_vacuum', { simple: true }), 0, 'a new log has no auto-vacuum');
    assert.equal(after, before, 'the file keeps its size');
    for (let i = 0; i < pruned; i++) await store.record(sampleEvent({ decision_id: `again-${i}`, input: { blob, i } }));
    await store.flush();
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    // The ~4 MB written again goes into the freed pages; the indexes' pages, which the deletes left part full, may
    // take a page or two more.
    const grown = statSync(file).size - before;
    assert.ok(pruned * 4000 > 4_000_000 && grown <= 4 * 65_536, `as many decisions again as were pruned (${pruned}) grew the file by ${grown} bytes`);
  } finally {
    await store.close();
  }
});

test('a log made with incremental auto-vacuum (by an earlier build) keeps it, and its file shrinks after pruning', async () => {
  const file = join(tempDir(), 'd.db');
  const old = new Database(file);
  old.pragma('page_size = 65536');
  old.pragma('auto_vacuum = INCREMENTAL');
  old.pragma('journal_mode = WAL');
  ensureSchema(old, file);
  old.close();
  const { store, before, after } = await fillAndPrune(file);
  try {
    assert.equal(store.db.pragma('auto_vacuum', { simple: true }), 2, 'incremental');
    assert.ok(after < before / 2, `file shrank from ${before} to ${after}`);
  } finally {
    await store.close();
  }
});

test('pruning yields between batches, so decisions keep being committed during a long pass', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync', retention: { maxAgeSeconds: 60, batchSize: 1, intervalMs: 3_600_000 } });
  const old = formatTimestamp(nowNs() - hour);
  for (let i = 0; i < 300; i++) await store.record(sampleEvent({ timestamp: old }));
  let passDone = false;
  const pass = store.prune().then((n) => {
    passDone = true;
    return n;
  });
  assert.equal(await store.record(sampleEvent({ decision_id: 'during' })), 'committed');
  assert.equal(passDone, false, 'the write did not wait for the pass');
  assert.equal(await pass, 300);
  assert.deepEqual(ids(store), ['during']);
  await store.close();
});

test('retention settings must be positive numbers', () => {
  assert.throws(() => new DecisionLogStore({ file: join(tempDir(), 'd.db'), retention: { maxAgeSeconds: -1 } }), /maxAgeSeconds must be a positive number, got -1/);
  assert.throws(() => new DecisionLogStore({ file: join(tempDir(), 'e.db'), retention: { maxBytes: 0 } }), /maxBytes must be a positive number/);
});

test('indexed decisions past the age limit are found through the zones, out-of-order ones too, and their zones go with them', () => {
  const db = openDecisionDatabase(join(tempDir(), 'd.db'));
  const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, ?, 'a/b', 'allow', NULL, NULL, '{}')`);
  const now = nowNs();
  // 600 rows two hours old, then 400 new ones, one of them (seq 900) written with an old timestamp.
  for (let i = 0; i < 1000; i++) insert.run(`id-${i}`, i < 600 || i === 899 ? now - 2n * hour + BigInt(i) : now - BigInt(1000 - i));
  new TailIndexer(db, (work) => db.transaction(work).immediate()).indexTail();
  const retention = new Retention(db, { maxAgeSeconds: 3600, batchSize: 1000 });
  assert.equal(retention.pruneStep(now), 601);
  const left = db.prepare('SELECT decision_id FROM decisions ORDER BY seq').pluck().all() as string[];
  assert.equal(left.length, 399);
  assert.ok(!left.includes('id-899') && left[0] === 'id-600', left.slice(0, 3).join());
  // Zones 1-256 and 257-512 held deleted rows only; 513-768 still holds rows 601.. and stays.
  assert.deepEqual(db.prepare('SELECT first_seq FROM decision_zones ORDER BY first_seq').pluck().all(), [513, 769]);
  db.close();
});

test('the principals\' lists of steps wholly older than every row left go with the rows; a list that still names a row stays', () => {
  const db = openDecisionDatabase(join(tempDir(), 'd.db'));
  const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, ?, 'a/b', 'allow', ?, NULL, '{}')`);
  const now = nowNs();
  const indexer = new TailIndexer(db, (work) => db.transaction(work).immediate(), { stepRows: 100 });
  // Three steps of 100 rows (alice and bob in turn), the first 150 two hours old.
  for (let i = 0; i < 300; i++) {
    insert.run(`id-${i}`, i < 150 ? now - 2n * hour : now - BigInt(1000 - i), i % 2 ? 'bob' : 'alice');
    if (i % 100 === 99) indexer.afterCommit(i + 1);
  }
  indexer.stop();
  const steps = () => db.prepare('SELECT DISTINCT first_seq FROM decision_principals ORDER BY first_seq').pluck().all();
  assert.deepEqual(steps(), [1, 101, 201]);
  assert.equal(new Retention(db, { maxAgeSeconds: 3600, batchSize: 1000 }).pruneStep(now), 150);
  assert.deepEqual(steps(), [101, 201]);
  db.close();
});
