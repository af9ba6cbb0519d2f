import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { queryDecisions } from '../../src/decisionlog/query.js';
import { SharedDecisionWriter } from '../../src/decisionlog/shared-writer.js';
import { eventually } from '../eventually.js';
import { sampleEvent, tempDir, unsignedJwt } from './helpers.js';

function count(store: DecisionLogStore): number {
  return (store.db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n;
}

/** Blocks this thread (no event-loop turn) until the condition holds or timeoutMs pass; the condition's last value. */
function spinUntil(condition: () => boolean, timeoutMs: number): boolean {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    Atomics.wait(pause, 0, 0, 10);
  }
  return true;
}

test('a full batch goes to the writer thread from the record() that fills it, without waiting for the event loop', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), batchSize: 20, flushDelayMs: 60_000 });
  for (let i = 0; i < 19; i++) assert.equal(store.accept(sampleEvent()), 'queued');
  // Not a full batch: it waits for flushDelayMs.
  assert.equal(spinUntil(() => count(store) > 0, 300), false);
  assert.equal(store.accept(sampleEvent()), 'queued');
  // The writer thread commits the batch while this thread never yields.
  assert.ok(spinUntil(() => count(store) === 20, 20_000), `${count(store)} of 20 rows committed`);
  await store.close();
});

test('rows keep their text columns exactly across many batches: non-ASCII text, NULLs, empty path, several revisions', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), batchSize: 7, principals: [{ jwt: 'input.token' }] });
  const events = Array.from({ length: 60 }, (_, i) => {
    const event = sampleEvent({
      ...(i % 5 === 0 ? { query: 'data.x = y' } : { path: i % 2 ? `données/accès/règle${i}` : `http/authz/allow${i}` }),
      input: i % 3 === 0 ? { note: 'no principal here' } : { token: unsignedJwt({ sub: i % 2 ? `名前-${i}` : `user-${i}` }) },
      bundles: i % 4 === 0 ? { a: { revision: `r-α-${i}` }, b: { revision: `r-β-${i}` } } : { authz: { revision: `rev-${i}` } },
      ...(i % 6 === 0 ? { trace_id: `${String(i).padStart(2, '0')}${'ab'.repeat(15)}` } : {}),
      result: i % 7 === 0 ? false : { allowed: true, reason: `ok ✓ ${'x'.repeat(i * 50)}` },
    });
    // A Query API event has no path.
    if (i % 5 === 0) delete event.path;
    return event;
  });
  for (const event of events) await store.record(event);
  await store.flush();
  const rows = store.db
    .prepare(`SELECT decision_id, path, principal, revision, trace_id, event, typeof(decision_id) AS t1, typeof(path) AS t2, typeof(outcome) AS t3,
              typeof(principal) AS t4, typeof(revision) AS t5, typeof(trace_id) AS t6, typeof(event) AS t7 FROM decisions ORDER BY seq`)
    .all() as Record<string, string | null>[];
  assert.equal(rows.length, events.length);
  events.forEach((event, i) => {
    const row = rows[i];
    assert.equal(row.decision_id, event.decision_id);
    assert.equal(row.path, event.path ?? '');
    assert.equal(row.revision, i % 4 === 0 ? null : `rev-${i}`);
    assert.equal(row.trace_id, i % 6 === 0 ? event.trace_id : null);
    assert.deepEqual(JSON.parse(row.event!), event);
    for (const [column, type] of [['t1', 'text'], ['t2', 'text'], ['t3', 'text'], ['t7', 'text'], ['t5', i % 4 === 0 ? 'null' : 'text'], ['t6', i % 6 === 0 ? 'text' : 'null']]) {
      assert.equal(row[column], type, `row ${i} ${column}`);
    }
    assert.equal(row.principal, i % 3 === 0 ? null : i % 2 ? `名前-${i}` : `user-${i}`);
    assert.equal(row.t4, i % 3 === 0 ? 'null' : 'text');
  });
  // The indexed filters find them by their text.
  assert.deepEqual(queryDecisions(store.db, { principal: '名前-55' }).decisions.map((d) => d.event.decision_id), [events[55].decision_id]);
  assert.equal(queryDecisions(store.db, { path: 'données/accès' }).decisions.length, 24);
  assert.equal(queryDecisions(store.db, { decision_id: events[33].decision_id }).decisions[0]?.event.decision_id, events[33].decision_id);
  assert.deepEqual(queryDecisions(store.db, { revision: 'r-β-8' }).decisions.map((d) => d.event.decision_id), [events[8].decision_id]);
  assert.deepEqual(queryDecisions(store.db, { trace_id: events[12].trace_id! }).decisions.map((d) => d.event.decision_id), [events[12].decision_id]);
  await store.close();
});

test('text columns that repeat the row before, or nearly (same length, one byte apart), are stored as each row\'s own bytes', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), batchSize: 40, principals: [{ jwt: 'input.token' }] });
  // Each column changes at its own pace, so runs of equal values start and end mid-statement and across batches,
  // between values of the same length that differ in one byte (first, last or a non-ASCII one), and around NULLs.
  const pick = <T>(values: T[], run: number, i: number): T => values[Math.floor(i / run) % values.length];
  const paths = ['a/b/allow', 'a/b/allox', 'b/b/allow', 'a/b/allow', 'é/b/allow', 'è/b/allow'];
  const principals = [null, 'user-1', 'user-1', 'user-2', null, 'user-2', 'vser-2'];
  const revisions = [null, 'rev-1', 'rev-2', null, 'rev-2', 'rev-α', 'rev-β'];
  const traces = [null, 'ab'.repeat(16), 'ab'.repeat(15) + 'ac', 'bb' + 'ab'.repeat(15), null, 'ab'.repeat(16)];
  const events = Array.from({ length: 300 }, (_, i) => {
    const principal = pick(principals, 3, i);
    const revision = pick(revisions, 5, i);
    const trace = pick(traces, 2, i);
    return sampleEvent({
      path: pick(paths, 7, i),
      input: principal === null ? { note: 'none' } : { token: unsignedJwt({ sub: principal }) },
      result: pick([true, true, false], 4, i),
      bundles: revision === null ? {} : { authz: { revision } },
      ...(trace === null ? {} : { trace_id: trace }),
    });
  });
  for (const event of events) await store.record(event);
  await store.flush();
  const rows = store.db
    .prepare(`SELECT typeof(path) AS tp, hex(path) AS path, typeof(outcome) AS tout, outcome, typeof(principal) AS tpr, hex(principal) AS principal,
              typeof(revision) AS tr, hex(revision) AS revision, typeof(trace_id) AS tt, hex(trace_id) AS trace_id FROM decisions ORDER BY seq`)
    .all() as Record<string, string | null>[];
  assert.equal(rows.length, events.length);
  const stored = (value: string | null) => (value === null ? { type: 'null', hex: '' } : { type: 'text', hex: Buffer.from(value).toString('hex').toUpperCase() });
  events.forEach((event, i) => {
    const expected = {
      path: stored(event.path!),
      outcome: stored(event.result === false ? 'deny' : 'allow'),
      principal: stored(pick(principals, 3, i)),
      revision: stored(pick(revisions, 5, i)),
      trace_id: stored(event.trace_id ?? null),
    };
    const row = rows[i];
    const actual = {
      path: { type: row.tp, hex: row.path },
      outcome: { type: row.tout, hex: row.outcome === null ? '' : Buffer.from(row.outcome).toString('hex').toUpperCase() },
      principal: { type: row.tpr, hex: row.principal },
      revision: { type: row.tr, hex: row.revision },
      trace_id: { type: row.tt, hex: row.trace_id },
    };
    assert.deepEqual(actual, expected, `row ${i}`);
  });
  await store.close();
});

test('in sync mode a write that finds the file locked by another writer waits for it, then commits without a failure', async () => {
  const file = join(tempDir(), 'd.db');
  const store = new DecisionLogStore({ file, durability: 'sync' });
  await store.record(sampleEvent());
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  let released = false;
  const release = setTimeout(() => {
    released = true;
    other.exec('COMMIT');
  }, 300);
  const event = sampleEvent();
  assert.equal(await store.record(event), 'committed');
  assert.ok(released, 'committed while another connection held the write lock');
  assert.equal(store.status().write_failures, 0);
  assert.equal(queryDecisions(store.db, { decision_id: event.decision_id }).decisions.length, 1);
  clearTimeout(release);
  other.close();
  await store.close();
});

test('sync durability: a commit is answered whatever becomes of the index step it makes due, which runs apart', async () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file, durability: 'sync', indexing: { stepRows: 10, idleMs: 60_000 } });
  const store = new DecisionLogStore({ writer: writer.handle() });
  try {
    // Every index step fails (as a full disk would fail it) while the log holds 30 rows or fewer. The condition is
    // the log's, not the test's: the step a commit makes due runs after its answer, so a trigger dropped by the test
    // once the 30th row is answered could be gone before that row's step runs, which would then index all 30, and
    // the 31st row would no longer make a step due.
    store.db.exec(`CREATE TRIGGER refuse_keys BEFORE INSERT ON decision_keys WHEN (SELECT count(*) FROM decisions) <= 30
      BEGIN SELECT RAISE(FAIL, 'no room for keys'); END`);
    const events = Array.from({ length: 30 }, (_, i) => sampleEvent({ input: { n: i } }));
    for (let i = 0; i < events.length; i += 5) {
      assert.deepEqual(await Promise.all(events.slice(i, i + 5).map((e) => store.record(e))), Array(5).fill('committed'));
    }
    assert.equal(store.status().write_failures, 0);
    assert.equal(store.db.prepare('SELECT count(*) FROM decision_keys').pluck().get(), 0);
    // Unindexed rows are found all the same.
    assert.deepEqual(queryDecisions(store.db, { limit: 100, order: 'asc' }).decisions.map((d) => d.event.decision_id), events.map((e) => e.decision_id));
    // The 31st row lets steps succeed; its commit makes one due, as the tail is still 30 rows long.
    await store.record(sampleEvent());
    assert.equal(await waitForKeys(store, 31), 31, 'the next commit indexes the tail');
  } finally {
    await store.close();
    await writer.close();
  }
});

/** Keys indexed, once there are `n` (the step runs after the commit is answered). */
async function waitForKeys(store: DecisionLogStore, n: number): Promise<number> {
  const keys = () => store.db.prepare('SELECT count(*) FROM decision_keys').pluck().get() as number;
  await eventually(`${n} keys indexed`, () => keys() >= n);
  return keys();
}

test('the writer keeps statement journals in memory, where an index step spilled them to a temporary file', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  try {
    await store.record(sampleEvent());
    await store.flush();
    // 2: MEMORY. SQLite spills a statement journal past 64 KiB, one page of a new log, to a file created and
    // deleted at each step.
    assert.deepEqual(await store.writerPragma('temp_store'), [{ temp_store: 2 }]);
  } finally {
    await store.close();
  }
});

test('a writer with nothing to write commits nothing: indexing the idle tail does not start the idle timer again', async () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file, indexing: { idleMs: 10 } });
  const store = new DecisionLogStore({ writer: writer.handle() });
  try {
    for (let i = 0; i < 5; i++) await store.record(sampleEvent());
    await store.flush();
    await waitForKeys(store, 5);
    // Each reply carries the writer's commit count and whether it is idle (nothing scheduled, the idle timer
    // included), so once idle it commits nothing more.
    const writerNow = async () => (await store.writerPragma('user_version'), { commits: store.writerCommits, idle: store.writerIdle });
    await eventually('the writer to be idle after the idle step', async () => (await writerNow()).idle);
    const idle = store.writerCommits;
    assert.deepEqual(await writerNow(), { commits: idle, idle: true });
  } finally {
    await store.close();
    await writer.close();
  }
});

test('rows another connection writes between two commits of the writer, past seqs it freed, are indexed at the next commit', async () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file, durability: 'sync', indexing: { stepRows: 10, idleMs: 600_000 } });
  const store = new DecisionLogStore({ writer: writer.handle() });
  const other = new Database(file);
  try {
    await Promise.all(Array.from({ length: 12 }, () => store.record(sampleEvent())));
    assert.equal(await waitForKeys(store, 12), 12);
    // Another connection (a store of another process on the file) deletes the newest rows, freeing their seqs, and
    // writes 12 rows of its own on seqs 3 to 14: the highest indexed seq is 2 again, and the tail 12 rows long.
    other.prepare('DELETE FROM decisions WHERE seq > 2').run();
    const insert = other.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, 1, 'a/b', 'allow', NULL, NULL, '{}')`);
    other.transaction(() => {
      for (let i = 0; i < 12; i++) insert.run(`other-${i}`);
    })();
    // The writer's next commit (seq 15) makes the 13-row tail a step: 3 rows past the 12 it indexed itself would not.
    await store.record(sampleEvent());
    assert.equal(await waitForKeys(store, 15), 15);
  } finally {
    other.close();
    await store.close();
    await writer.close();
  }
});

test('frames another connection writes to the WAL count towards the writer checkpoint threshold', async () => {
  const file = join(tempDir(), 'd.db');
  // 64 frames of 64 KiB: more than the writer's own commits below could write, by its estimate.
  const writer = new SharedDecisionWriter({ file, durability: 'sync', walCheckpointBytes: 4 * 1024 * 1024, indexing: { idleMs: 600_000 } });
  const store = new DecisionLogStore({ writer: writer.handle() });
  const other = new Database(file);
  const checkpointed = () => (other.pragma('wal_checkpoint(NOOP)') as [{ checkpointed: number }])[0].checkpointed;
  try {
    other.pragma('wal_autocheckpoint = 0');
    await store.record(sampleEvent());
    await store.record(sampleEvent());
    assert.equal(checkpointed(), 0);
    // 5 MiB in the WAL from another connection, then one small commit of the writer's.
    other.exec('CREATE TABLE scratch (b BLOB)');
    other.prepare('INSERT INTO scratch VALUES (randomblob(5 * 1024 * 1024))').run();
    await store.record(sampleEvent());
    // The checkpoint runs after the commit's answer.
    await eventually('the writer to checkpoint the WAL', () => checkpointed() > 0);
  } finally {
    other.close();
    await store.close();
    await writer.close();
  }
});
