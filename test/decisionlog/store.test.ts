import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { DecisionLogError } from '../../src/decisionlog/errors.js';
import { schemaVersion } from '../../src/decisionlog/schema.js';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { queryDecisions } from '../../src/decisionlog/query.js';
import { traceIdOf } from '../../src/decisionlog/trace-id.js';
import type { DecisionEvent } from '../../src/decisionlog/event.js';
import type { DecisionFilters } from '../../src/decisionlog/query.js';
import { eventually } from '../eventually.js';
import { eventsOfOldSchema, sampleEvent, tempDir, unsignedJwt } from './helpers.js';

interface Row {
  decision_id: string;
  path: string;
  outcome: string;
  principal: string | null;
  revision: string | null;
  event: string;
}

/** A log file of an earlier schema version, made from its fixture (fixtures/decisions-vN.sql), open for filling. */
function oldLog(file: string, version: number): Database.Database {
  const db = new Database(file);
  db.exec(readFileSync(new URL(`../../../test/decisionlog/fixtures/decisions-v${version}.sql`, import.meta.url), 'utf8'));
  db.pragma(`user_version = ${version}`);
  return db;
}

const t0 = 1_700_000_000_000_000_000n;

/**
 * `count` rows into an old log's decisions, in one transaction: `old-<i>` at t0 + i seconds, on paths a/b and c,
 * allowed or denied, by five principals and none.
 */
function insertPrincipalRows(old: Database.Database, count: number): void {
  const insert = old.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event, trace_id) VALUES (?, ?, ?, ?, ?, 'r1', ?, NULL)`);
  const principals = ['alice', 'bob', null, 'svc-1', 'alice', 'svc-2', 'carol'];
  old.transaction(() => {
    for (let i = 0; i < count; i++) {
      const event = sampleEvent({ decision_id: `old-${i}`, path: i % 2 ? 'a/b' : 'c' });
      insert.run(event.decision_id, t0 + BigInt(i) * 1_000_000_000n, event.path, i % 3 ? 'allow' : 'deny', principals[(i * 5) % principals.length], JSON.stringify(event));
    }
  })();
}

/** What each query answers on an old log, read by SQL from its rows; the old log is closed after. */
function answersAndClose(old: Database.Database, queries: string[]): unknown[][] {
  const answers = queries.map((sql) => old.prepare(sql).pluck().all());
  old.close();
  return answers;
}

function rows(store: DecisionLogStore): Row[] {
  return store.db.prepare('SELECT * FROM decisions ORDER BY seq').all() as Row[];
}

test('default mode answers before the write and commits on a later turn of the event loop', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  const event = sampleEvent();
  assert.equal(await store.record(event), 'queued');
  assert.equal(rows(store).length, 0);
  await eventually('the row to be committed', () => rows(store).length === 1);
  const [row] = rows(store);
  assert.equal(row.decision_id, event.decision_id);
  assert.deepEqual(JSON.parse(row.event), event);
  assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  await store.close();
});

test('the default file is .verdict/decisions.db under the working directory', async () => {
  const dir = tempDir();
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const store = new DecisionLogStore();
    assert.equal(store.file, '.verdict/decisions.db');
    await store.close();
  } finally {
    process.chdir(cwd);
  }
  assert.ok(new Database(join(dir, '.verdict/decisions.db')).prepare('SELECT 1 FROM decisions').all());
});

test('sync mode resolves only once the event is committed', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  const events = [sampleEvent(), sampleEvent(), sampleEvent()];
  const results = await Promise.all(events.map((e) => store.record(e)));
  assert.deepEqual(results, ['committed', 'committed', 'committed']);
  assert.deepEqual(rows(store).map((r) => r.decision_id), events.map((e) => e.decision_id));
  assert.deepEqual(await store.writerPragma('synchronous'), [{ synchronous: 2 }]); // FULL: fsync per commit
  await store.close();
});

test('indexed columns: outcome by the default rule, principal from input path or unverified JWT sub, revision', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  const token = unsignedJwt({ sub: 'bob', exp: 1 });
  await store.record(sampleEvent({ result: true }));
  await store.record(sampleEvent({ result: { allowed: false, headers: {} }, input: { attributes: { request: { http: { headers: { authorization: `Bearer ${token}` } } } } } }));
  await store.record(sampleEvent({ result: { allow: true }, input: { user: 'carol' }, bundles: { a: { revision: 'r1' }, b: { revision: 'r1' } } }));
  await store.record(sampleEvent({ result: undefined, input: { subject: { id: 42 } }, bundles: undefined }));
  await store.record(sampleEvent({ result: { reason: 'x' }, input: 'not an object' }));
  await store.record(sampleEvent({ error: { code: 'internal_error', message: 'boom' }, result: undefined }));
  await store.record(sampleEvent({ input: { user: { id: 'dave' } }, bundles: { a: { revision: 'r1' }, b: { revision: 'r2' } } }));
  await store.flush();
  const got = rows(store).map((r) => [r.outcome, r.principal, r.revision]);
  assert.deepEqual(got, [
    ['allow', 'alice', 'rev-1'],
    ['deny', 'bob', 'rev-1'],
    ['allow', 'carol', 'r1'],
    ['undefined', '42', null],
    ['other', null, 'rev-1'],
    ['error', 'alice', 'rev-1'],
    ['allow', 'dave', null],
  ]);
  const multi = store.db.prepare('SELECT revision FROM decision_revisions ORDER BY revision').all();
  assert.deepEqual(multi, [{ revision: 'r1' }, { revision: 'r2' }]);
  store.db.prepare(`DELETE FROM decisions WHERE principal = 'dave'`).run();
  assert.equal((store.db.prepare('SELECT count(*) AS n FROM decision_revisions').get() as { n: number }).n, 0);
  await store.close();
});

test('the outcome rule and principal sources are configurable', async () => {
  const store = new DecisionLogStore({
    file: join(tempDir(), 'd.db'),
    outcome: { paths: ['result.decision.permit'] },
    principals: [{ jwt: 'input.token' }, { path: 'input.client.name' }],
  });
  await store.record(sampleEvent({ result: { decision: { permit: false } }, input: { token: unsignedJwt({ sub: 'svc-a' }) } }));
  await store.record(sampleEvent({ result: true, input: { token: 'garbage', client: { name: 'svc-b' } } }));
  await store.flush();
  assert.deepEqual(rows(store).map((r) => [r.outcome, r.principal]), [['deny', 'svc-a'], ['other', 'svc-b']]);
  await store.close();
  assert.throws(() => new DecisionLogStore({ file: join(tempDir(), 'e.db'), outcome: { paths: ['allow'] } }), /must look like result\./);
  assert.throws(() => new DecisionLogStore({ file: join(tempDir(), 'e.db'), principals: [{ path: 'subject..id' }] }), /must look like input\./);
});

test('back-pressure: with a full queue record() waits for room, and nothing is lost', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), queueLimit: 2, batchSize: 2 });
  const settled: string[] = [];
  const events = Array.from({ length: 7 }, () => sampleEvent());
  const promises = events.map((e, i) => store.record(e).then((r) => settled.push(`${i}:${r}`)));
  await Promise.resolve();
  assert.deepEqual(settled, ['0:queued', '1:queued']);
  assert.equal(store.status().waiting, 5);
  await Promise.all(promises);
  await store.flush();
  assert.deepEqual(rows(store).map((r) => r.decision_id), events.map((e) => e.decision_id));
  assert.equal(store.status().dropped_queue_full, 0);
  await store.close();
});

test('drop mode: a full queue drops the event and counts it in status and metrics', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), queueLimit: 2, whenFull: 'drop' });
  const results = await Promise.all(Array.from({ length: 5 }, () => store.record(sampleEvent())));
  assert.deepEqual(results, ['queued', 'queued', 'dropped', 'dropped', 'dropped']);
  await store.flush();
  assert.equal(rows(store).length, 2);
  assert.equal(store.status().dropped_queue_full, 3);
  assert.equal(store.status().dropped_queue_full, 3);
  await store.close();
});

test('bad events are refused with a named error, and do not stop the others', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  await assert.rejects(store.record(sampleEvent({ decision_id: '' })), { name: 'DecisionLogError', code: 'invalid_event' });
  await assert.rejects(store.record(sampleEvent({ timestamp: '2024-13-45 nope' })), /timestamp "2024-13-45 nope" is not RFC3339/);
  await assert.rejects(store.record(null as never), /must be an object/);
  await assert.rejects(store.record(sampleEvent({ path: ['a', 'b'] as never })), /path must be a string, got object/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await store.record(sampleEvent({ input: cyclic }));
  const good = sampleEvent();
  await store.record(good);
  await store.flush();
  assert.deepEqual(rows(store).map((r) => r.decision_id), [good.decision_id]);
  assert.equal(store.status().encoding_failures, 1);
  assert.equal(store.status().written, 1);
  await store.close();
  await assert.rejects(store.record(sampleEvent()), { code: 'store_closed' });
});

test('in sync mode an event that cannot be encoded settles as dropped, not committed', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  const [bad, good] = await Promise.all([store.record(sampleEvent({ input: cyclic })), store.record(sampleEvent())]);
  assert.deepEqual([bad, good], ['dropped', 'committed']);
  assert.equal(store.status().encoding_failures, 1);
  await store.close();
});

test('a corrupt file at start-up is a db_corrupt error with its exit code', () => {
  const file = join(tempDir(), 'd.db');
  writeFileSync(file, 'this is not a database, just text that is long enough to look like a header '.repeat(20));
  assert.throws(() => new DecisionLogStore({ file }), (error: unknown) => {
    assert.ok(error instanceof DecisionLogError);
    assert.equal(error.code, 'db_corrupt');
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /corrupt or not a SQLite database/);
    return true;
  });
});

test('a database locked by another process at start-up is a db_locked error', () => {
  const file = join(tempDir(), 'd.db');
  const other = new Database(file);
  other.pragma('locking_mode = EXCLUSIVE');
  other.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');
  try {
    assert.throws(() => new DecisionLogStore({ file, lockTimeoutMs: 50 }), { code: 'db_locked', exitCode: 4 });
  } finally {
    other.exec('COMMIT');
    other.close();
  }
});

test('a log made before the trace_id column is upgraded when opened, and its old decisions are found by trace_id', async () => {
  const file = join(tempDir(), 'd.db');
  const { traceId, events, traced } = eventsOfOldSchema();
  const old = oldLog(file, 1);
  const insert = old.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, ?, ?, 'allow', NULL, NULL, ?)`);
  events.forEach((e, i) => insert.run(e.decision_id, 1_700_000_000_000_000_000n + BigInt(i), e.path, JSON.stringify(e)));
  old.close();
  // Reading alone never changes the file: the CLI's read-only open says what to do.
  assert.throws(() => openDecisionDatabase(file, { readonly: true }), { code: 'db_incompatible', message: new RegExp(`schema version 1, this build reads version ${schemaVersion}; start the server on it once to upgrade it`) });

  const store = new DecisionLogStore({ file, durability: 'sync' });
  try {
    assert.equal(store.db.pragma('user_version', { simple: true }), schemaVersion);
    await store.record(sampleEvent({ decision_id: 'new-field', trace_id: traceId }));
    assert.deepEqual(
      queryDecisions(store.db, { trace_id: traceId, order: 'asc' }).decisions.map((d) => d.event.decision_id),
      [...traced, 'new-field'],
    );
    // The upgrade's SQL reads the stored JSON as the writer reads the event object, row by row.
    for (const row of store.db.prepare('SELECT trace_id, event FROM decisions').all() as { trace_id: string | null; event: string }[]) {
      assert.equal(row.trace_id, traceIdOf(JSON.parse(row.event) as DecisionEvent), row.event);
    }
    const indexes = store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decision_keys' AND name = 'decision_keys_trace_id'`).all();
    assert.equal(indexes.length, 1);
  } finally {
    await store.close();
  }
  // Opened again, the upgraded file is current: nothing runs twice.
  const again = new DecisionLogStore({ file });
  assert.equal(queryDecisions(again.db, { trace_id: traceId }).decisions.length, traced.length + 1);
  await again.close();
});

test('a log whose indexes were updated row by row (version 2) is upgraded in place: rows indexed in decision_keys, the old indexes dropped, answers unchanged', async () => {
  const file = join(tempDir(), 'd.db');
  const old = oldLog(file, 2);
  const insert = old.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`);
  for (let i = 0; i < 12; i++) {
    const event = sampleEvent({ decision_id: `old-${i}`, path: i % 2 ? 'a/b' : 'c' });
    insert.run(event.decision_id, 1_700_000_000_000_000_000n + BigInt(i), event.path, i % 3 ? 'allow' : 'deny', i % 4 ? 'alice' : null, i === 5 ? null : 'r1', JSON.stringify(event));
  }
  old.prepare(`INSERT INTO decision_revisions (seq, revision) VALUES (6, 'r1'), (6, 'r2')`).run();
  // What the version 2 layout answers, from its own indexes.
  const before = answersAndClose(old, [
    `SELECT decision_id FROM decisions WHERE principal = 'alice' AND outcome = 'deny' ORDER BY seq DESC`,
    `SELECT decision_id FROM decisions WHERE path = 'a/b' ORDER BY seq`,
    `SELECT decision_id FROM decisions WHERE revision = 'r1' OR seq IN (SELECT seq FROM decision_revisions WHERE revision = 'r1') ORDER BY seq DESC`,
  ]);

  const store = new DecisionLogStore({ file });
  try {
    assert.equal(store.db.pragma('user_version', { simple: true }), schemaVersion);
    assert.equal(store.db.prepare('SELECT count(*) FROM decision_keys').pluck().get(), 12);
    assert.deepEqual(store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decisions'`).all(), []);
    const ids = (filters: object) => queryDecisions(store.db, { limit: 100, ...filters }).decisions.map((d) => d.event.decision_id);
    assert.deepEqual([ids({ principal: 'alice', outcome: 'deny' }), ids({ path: 'a/b', order: 'asc' }), ids({ revision: 'r1' })], before);
    assert.deepEqual(ids({ revision: 'r2' }), ['old-5']);
  } finally {
    await store.close();
  }
});

test('a log of version 3 (time, decision id and (outcome, seq) indexed row by row) is upgraded in place: zones made for its indexed rows, answers unchanged', async () => {
  const file = join(tempDir(), 'd.db');
  const old = oldLog(file, 3);
  const insert = old.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event, trace_id) VALUES (?, ?, ?, ?, ?, 'r1', ?, NULL)`);
  const outcomes = ['allow', 'deny', 'undefined', 'error', 'other'];
  // 600 rows, the first 520 indexed (decision_keys), the rest the tail; ids as the server makes them, one a second.
  const idOf = (i: number) => `${(1_700_000_000_000 + i * 1000).toString(16).padStart(12, '0').replace(/^(.{8})/, '$1-')}-7abc-8def-${String(i).padStart(12, '0')}`;
  for (let i = 0; i < 600; i++) {
    const event = sampleEvent({ decision_id: idOf(i), path: i % 2 ? 'a/b' : 'c' });
    insert.run(event.decision_id, t0 + BigInt(i) * 1_000_000_000n, event.path, outcomes[i % 5], i % 4 ? 'alice' : null, JSON.stringify(event));
  }
  old.exec('INSERT INTO decision_keys SELECT seq, decision_id, ts_ns, path, outcome, principal, revision, trace_id FROM decisions WHERE seq <= 520');
  // What version 3 answers, from its own indexes.
  const before = answersAndClose(old, [
    `SELECT decision_id FROM decisions WHERE ts_ns >= ${t0 + 100_000_000_000n} AND ts_ns < ${t0 + 110_000_000_000n} ORDER BY seq DESC`,
    `SELECT decision_id FROM decisions WHERE decision_id IN ('${idOf(7)}', '${idOf(300)}', '${idOf(599)}') ORDER BY seq DESC`,
    `SELECT decision_id FROM decisions WHERE outcome = 'error' AND seq > 480 ORDER BY seq DESC`,
  ]);

  const store = new DecisionLogStore({ file });
  try {
    assert.equal(store.db.pragma('user_version', { simple: true }), schemaVersion);
    const indexes = store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decision_keys' ORDER BY name`).pluck().all();
    assert.deepEqual(indexes, [
      'decision_keys_outcome_allow', 'decision_keys_outcome_deny', 'decision_keys_outcome_error', 'decision_keys_outcome_other', 'decision_keys_outcome_undefined',
      'decision_keys_path', 'decision_keys_revision', 'decision_keys_trace_id',
    ]);
    // A zone per 256 indexed rows, each bounding its own rows (the writer may index the tail meanwhile: the
    // third zone is checked as far as the indexed rows went).
    assert.deepEqual(store.db.prepare('SELECT first_seq, last_seq, min_ts, max_ts, min_id, max_id FROM decision_zones WHERE last_seq <= 512 ORDER BY first_seq').safeIntegers().raw().all(), [
      [1n, 256n, t0, t0 + 255_000_000_000n, idOf(0), idOf(255)],
      [257n, 512n, t0 + 256_000_000_000n, t0 + 511_000_000_000n, idOf(256), idOf(511)],
    ]);
    assert.deepEqual(store.db.prepare('SELECT first_seq, min_ts, min_id FROM decision_zones WHERE first_seq > 512').safeIntegers().raw().all(), [[513n, t0 + 512_000_000_000n, idOf(512)]]);
    const ids = (filters: object) => queryDecisions(store.db, { limit: 100, ...filters }).decisions.map((d) => d.event.decision_id);
    const since = (s: number) => new Date(1_700_000_000_000 + s * 1000).toISOString();
    assert.deepEqual(
      [
        ids({ since: since(100), until: since(110) }),
        [...ids({ decision_id: idOf(599) }), ...ids({ decision_id: idOf(300) }), ...ids({ decision_id: idOf(7) })],
        ids({ outcome: 'error', cursor: Buffer.from('desc:10000').toString('base64url') }).filter((id) => id > idOf(480)),
      ],
      before,
    );
  } finally {
    await store.close();
  }
});

test('a log of version 4 (a principal index updated by the index steps) is upgraded in place: lists of seqs per principal made for its indexed rows, answers unchanged', async () => {
  const file = join(tempDir(), 'd.db');
  const old = oldLog(file, 4);
  // 9,000 rows, the first 8,500 indexed (two stretches of 4,096 and one of 308), the rest the tail.
  insertPrincipalRows(old, 9000);
  old.exec('INSERT INTO decision_keys SELECT seq, decision_id, ts_ns, path, outcome, principal, revision, trace_id FROM decisions WHERE seq <= 8500');
  // What version 4 answers, from its principal index.
  const before = answersAndClose(old, [
    `SELECT decision_id FROM decisions WHERE principal = 'alice' ORDER BY seq DESC LIMIT 40`,
    `SELECT decision_id FROM decisions WHERE principal = 'bob' AND outcome = 'deny' AND seq < 8400 ORDER BY seq`,
    `SELECT decision_id FROM decisions WHERE principal >= 'svc-' AND principal < 'svc.' ORDER BY seq DESC LIMIT 500`,
  ]);

  const store = new DecisionLogStore({ file });
  try {
    assert.equal(store.db.pragma('user_version', { simple: true }), schemaVersion);
    assert.deepEqual(store.db.prepare(`SELECT name FROM sqlite_master WHERE name = 'decision_keys_principal'`).all(), []);
    // A list per principal and stretch of 4,096 indexed seqs, each holding that principal's rows of the stretch (the
    // writer may index the tail meanwhile: the lists are checked as far as the indexed rows went).
    const lists = store.db.prepare('SELECT principal, first_seq, last_seq, seqs FROM decision_principals WHERE first_seq <= 8192 ORDER BY first_seq, principal').raw().all() as [string, number, number, string][];
    assert.deepEqual(lists.map(([p, first, last]) => [p, first, last]), [1, 4097, 8193].flatMap((first) =>
      ['alice', 'bob', 'carol', 'svc-1', 'svc-2'].map((p) => [p, first, first === 8193 ? 8500 : first + 4095]),
    ).filter(([, first]) => (first as number) <= 8192));
    for (const [principal, first, last, seqs] of lists) {
      const expected = store.db.prepare('SELECT seq FROM decisions WHERE principal = ? AND seq BETWEEN ? AND ? ORDER BY seq').pluck().all(principal, first, last);
      assert.deepEqual((JSON.parse(seqs) as number[]).sort((a, b) => a - b), expected, `${principal} ${first}`);
    }
    const ids = (filters: object) => queryDecisions(store.db, { limit: 1000, ...filters }).decisions.map((d) => d.event.decision_id);
    assert.deepEqual(
      [
        ids({ principal: 'alice', limit: 40 }),
        ids({ principal: 'bob', outcome: 'deny', order: 'asc', cursor: Buffer.from('asc:0').toString('base64url') }).slice(0, before[1].length),
        ids({ principal_prefix: 'svc-', limit: 500 }),
      ],
      before,
    );
  } finally {
    await store.close();
  }
  const upgraded = new Database(file, { readonly: true });
  assert.equal(upgraded.pragma('user_version', { simple: true }), schemaVersion);
  upgraded.close();
});

test('a log of version 5 (the principals\' lists keyed by principal first) is upgraded in place: the same lists keyed by step first, answers unchanged', async () => {
  const file = join(tempDir(), 'd.db');
  const old = oldLog(file, 5);
  // 9,000 rows, the first 8,500 indexed as version 5 indexed them (steps of 4,096, the last one 308 rows), the rest the tail.
  insertPrincipalRows(old, 9000);
  old.exec(`INSERT INTO decision_keys SELECT seq, decision_id, ts_ns, path, outcome, principal, revision, trace_id FROM decisions WHERE seq <= 8500;
    INSERT INTO decision_zones (first_seq, last_seq, min_ts, max_ts, min_id, max_id)
      SELECT min(seq), max(seq), min(ts_ns), max(ts_ns), min(decision_id), max(decision_id) FROM decision_keys GROUP BY (seq - 1) / 256;
    INSERT INTO decision_principals (principal, first_seq, last_seq, seqs)
      SELECT principal, step * 4096 + 1, min(step * 4096 + 4096, 8500), json_group_array(seq)
      FROM (SELECT (seq - 1) / 4096 AS step, seq, principal FROM decision_keys WHERE principal IS NOT NULL) GROUP BY step, principal;`);
  const listsOf = (db: Database.Database) => db.prepare('SELECT principal, first_seq, last_seq, seqs FROM decision_principals WHERE first_seq <= 8193 ORDER BY first_seq, principal').raw().all();
  const lists = listsOf(old);
  assert.equal(lists.length, 15);
  // What the rows say, read without any index.
  const since = (s: number) => new Date(1_700_000_000_000 + s * 1000).toISOString();
  const before = answersAndClose(old, [
    `SELECT decision_id FROM decisions WHERE principal = 'alice' ORDER BY seq DESC LIMIT 40`,
    `SELECT decision_id FROM decisions WHERE principal = 'bob' AND outcome = 'deny' ORDER BY seq`,
    `SELECT decision_id FROM decisions WHERE principal >= 'svc-' AND principal < 'svc.' ORDER BY seq DESC LIMIT 500`,
    `SELECT decision_id FROM decisions WHERE principal = 'carol' AND ts_ns >= ${t0 + 4000_000_000_000n} AND ts_ns < ${t0 + 4300_000_000_000n} ORDER BY seq DESC`,
    `SELECT decision_id FROM decisions WHERE principal = 'svc-2' ORDER BY seq DESC LIMIT 1000 OFFSET 10`,
  ]);

  const store = new DecisionLogStore({ file });
  try {
    assert.equal(store.db.pragma('user_version', { simple: true }), schemaVersion);
    const layout = store.db.prepare(`SELECT sql FROM sqlite_master WHERE tbl_name = 'decision_principals' ORDER BY name`).pluck().all() as string[];
    assert.equal(layout.length, 3, JSON.stringify(layout));
    assert.match(layout[0], /PRIMARY KEY \(first_seq, principal\)\s*\) WITHOUT ROWID/);
    assert.match(layout[1], /decision_principals_principal ON decision_principals\(principal, first_seq\)/);
    assert.match(layout[2], /decision_principals_step ON decision_principals\(last_seq, principal\)/);
    // The same lists, each as it was (the writer may index the tail meanwhile: a list of a later step is new).
    assert.deepEqual(listsOf(store.db), lists);
    const ids = (filters: object) => queryDecisions(store.db, { limit: 1000, ...filters }).decisions.map((d) => d.event.decision_id);
    const page = queryDecisions(store.db, { principal: 'svc-2', limit: 10 });
    assert.deepEqual(
      [
        ids({ principal: 'alice', limit: 40 }),
        ids({ principal: 'bob', outcome: 'deny', order: 'asc' }),
        ids({ principal_prefix: 'svc-', limit: 500 }),
        ids({ principal: 'carol', since: since(4000), until: since(4300) }),
        ids({ principal: 'svc-2', cursor: page.next_cursor }),
      ],
      before,
    );
  } finally {
    await store.close();
  }
});

test('a log of version 6 (the trace index keyed by trace id first) is upgraded in place: the index keyed by bucket of seqs, trace queries answer the same rows', async () => {
  const file = join(tempDir(), 'd.db');
  const old = oldLog(file, 6);
  // 40,000 rows over three buckets of the new index, the first 36,000 indexed as version 6 indexed them, the rest
  // the tail. Each row a trace of its own but one in 500 of a shared trace and one in 1,234 of another.
  const traces = ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7a3ce929d0e0e4736'];
  const insert = old.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event, trace_id) VALUES (?, ?, ?, ?, ?, 'r1', ?, ?)`);
  old.transaction(() => {
    for (let i = 0; i < 40_000; i++) {
      const trace = i % 500 === 7 ? traces[0] : i % 1234 === 0 ? traces[1] : i % 4 ? (i * 7919).toString(16).padStart(32, '0') : null;
      insert.run(`old-${i}`, t0 + BigInt(i) * 1_000_000_000n, i % 2 ? 'a/b' : 'c', i % 3 ? 'allow' : 'deny', 'alice', JSON.stringify({ decision_id: `old-${i}` }), trace);
    }
  })();
  old.exec(`INSERT INTO decision_keys SELECT seq, decision_id, ts_ns, path, outcome, principal, revision, trace_id FROM decisions WHERE seq <= 36000;
    INSERT INTO decision_zones (first_seq, last_seq, min_ts, max_ts, min_id, max_id)
      SELECT min(seq), max(seq), min(ts_ns), max(ts_ns), min(decision_id), max(decision_id) FROM decision_keys GROUP BY (seq - 1) / 256;`);
  const since = (s: number) => new Date(1_700_000_000_000 + s * 1000).toISOString();
  // What the rows say, read without any index.
  const before = answersAndClose(old, [
    `SELECT decision_id FROM decisions WHERE trace_id = '${traces[0]}' ORDER BY seq DESC`,
    `SELECT decision_id FROM decisions WHERE trace_id = '${traces[1]}' ORDER BY seq`,
    `SELECT decision_id FROM decisions WHERE trace_id = '${traces[0]}' AND outcome = 'deny' AND ts_ns >= ${t0 + 10_000_000_000_000n} ORDER BY seq DESC`,
    `SELECT decision_id FROM decisions WHERE trace_id = '${(30_001 * 7919).toString(16).padStart(32, '0')}'`,
  ]);
  assert.ok(before[0].length > 70 && before[1].length > 30, JSON.stringify(before.map((a) => a.length)));

  const store = new DecisionLogStore({ file });
  try {
    assert.equal(store.db.pragma('user_version', { simple: true }), schemaVersion);
    const index = store.db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'decision_keys_trace_id'`).pluck().get() as string;
    assert.match(index, /ON decision_keys\(\(seq >> 14\), unhex\(trace_id\), seq\) WHERE trace_id IS NOT NULL$/);
    // Every page of each, 25 a page, through the cursors handed out.
    const ids = (filters: DecisionFilters) => {
      const found: string[] = [];
      let cursor: string | undefined;
      do {
        const page = queryDecisions(store.db, { ...filters, limit: 25, ...(cursor ? { cursor } : {}) });
        found.push(...page.decisions.map((d) => d.event.decision_id));
        cursor = page.next_cursor;
      } while (cursor);
      return found;
    };
    assert.deepEqual(
      [
        ids({ trace_id: traces[0] }),
        ids({ trace_id: traces[1], order: 'asc' }),
        ids({ trace_id: traces[0], outcome: 'deny', since: since(10_000) }),
        ids({ trace_id: (30_001 * 7919).toString(16).padStart(32, '0') }),
      ],
      before,
    );
  } finally {
    await store.close();
  }
});

test('a SQLite file that is not a decision log is refused, not modified', () => {
  const file = join(tempDir(), 'd.db');
  const other = new Database(file);
  other.exec('CREATE TABLE customers (id)');
  other.close();
  assert.throws(() => new DecisionLogStore({ file }), { code: 'db_incompatible', message: /not a decision log/ });
  const again = new Database(file);
  again.pragma('user_version = 99');
  again.close();
  assert.throws(() => new DecisionLogStore({ file }), { code: 'db_incompatible', message: /schema version 99/ });
});

test('an unopenable path is a db_open_failed error', () => {
  const file = join(tempDir(), 'd.db');
  writeFileSync(join(file, '..', 'blocker'), '');
  assert.throws(() => new DecisionLogStore({ file: join(file, '..', 'blocker', 'x.db') }), { code: 'db_open_failed' });
});

test('a full disk is reported in status and metrics, events stay queued, and writing resumes when space returns', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), retryDelayMs: { initial: 10, max: 20 } });
  await store.record(sampleEvent());
  await store.flush();
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  await store.writerPragma(`max_page_count = ${pages}`);
  const big = { blob: 'x'.repeat(20_000) };
  const events = Array.from({ length: 20 }, () => sampleEvent({ input: big }));
  for (const e of events) await store.record(e);
  await eventually('two write failures', () => store.status().write_failures >= 2);
  const status = store.status();
  assert.equal(status.state, 'ERROR');
  assert.equal(status.queue_length, 20);
  assert.equal(status.last_error?.code, 'db_write_failed');
  assert.equal(status.last_error?.sqlite_code, 'SQLITE_FULL');
  assert.ok(status.write_failures >= 2, 'retried with back-off');
  await assert.rejects(store.flush(), { code: 'db_write_failed' });

  await store.writerPragma('max_page_count = 1000000');
  await eventually('the queue to drain', () => store.status().queue_length === 0);
  assert.equal(store.status().state, 'OK');
  assert.equal(store.status().queue_length, 0);
  assert.equal(rows(store).length, 21);
  await store.close();
});

test('a full disk in sync mode keeps callers waiting until their event is committed', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync', retryDelayMs: { initial: 10, max: 10 } });
  await store.record(sampleEvent());
  await store.writerPragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
  let done = false;
  const pending = store.record(sampleEvent({ input: { blob: 'y'.repeat(200_000) } })).then((r) => {
    done = true;
    return r;
  });
  await eventually('the write to fail', () => store.status().state === 'ERROR');
  assert.equal(done, false);
  await store.writerPragma('max_page_count = 1000000');
  assert.equal(await pending, 'committed');
  await store.close();
});

test('processes opening one new database at the same moment create its tables once and all open it', async () => {
  // Each child loads the module first, then waits for the same instant to open the file. The race is narrow,
  // so it is run a few times.
  const opener = `import('${new URL('../../src/decisionlog/open.js', import.meta.url).href}').then(({ openDecisionDatabase }) => { while (Date.now() < Number(process.argv[2])); openDecisionDatabase(process.argv[1]).close(); console.log('opened'); })`;
  for (let round = 0; round < 4; round++) {
    const file = join(tempDir(), 'decisions.db');
    const at = Date.now() + 1000;
    const runs = await Promise.all(
      Array.from({ length: 2 }, () =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', opener, file, String(at)], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.stderr.on('data', (c: Buffer) => (out += c.toString()));
          child.on('exit', (code) => resolve({ code, out }));
        }),
      ),
    );
    for (const run of runs) assert.deepEqual(run, { code: 0, out: 'opened\n' });
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), schemaVersion);
    db.close();
  }
});

test('worker processes share one database: concurrent writers in sync mode lose nothing and count no failure', async () => {
  // Each process is what one server worker runs: its own store and writer thread on the shared file. SQLite
  // serialises their commits on the WAL lock; a writer that finds it taken waits (busy timeout) and retries.
  const file = join(tempDir(), 'decisions.db');
  const store = new URL('../../src/decisionlog/store.js', import.meta.url).href;
  const helpers = new URL('./helpers.js', import.meta.url).href;
  // A script file, not `node -e`: a worker thread inherits the process's -e and would run that script instead.
  const writer = join(tempDir(), 'writer.mjs');
  writeFileSync(writer, `Promise.all([import('${store}'), import('${helpers}')]).then(async ([{ DecisionLogStore }, { sampleEvent }]) => {
    const store = new DecisionLogStore({ file: process.argv[2], durability: 'sync' });
    const ids = [];
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let i = 0; i < 40; i++) {
        const event = sampleEvent();
        if ((await store.record(event)) === 'committed') ids.push(event.decision_id);
      }
    }));
    const { write_failures, written } = store.status();
    await store.close();
    console.log(JSON.stringify({ ids, write_failures, written }));
  })`);
  const runs = await Promise.all(
    Array.from({ length: 3 }, () =>
      new Promise<{ ids: string[]; write_failures: number; written: number }>((resolve, reject) => {
        const child = spawn(process.execPath, [writer, file], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`writer exited ${code}: ${out}`))));
      }),
    ),
  );
  const db = new Database(file, { readonly: true });
  const stored = new Set((db.prepare('SELECT decision_id FROM decisions').all() as { decision_id: string }[]).map((r) => r.decision_id));
  db.close();
  for (const run of runs) {
    assert.equal(run.ids.length, 640);
    assert.equal(run.written, 640);
    assert.equal(run.write_failures, 0);
    for (const id of run.ids) assert.ok(stored.has(id), `committed ${id} is in the database`);
  }
  assert.equal(stored.size, 3 * 640);
});
