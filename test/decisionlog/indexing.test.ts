import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { TailIndexer } from '../../src/decisionlog/indexing.js';
import { eventually } from '../eventually.js';
import { tempDir } from './helpers.js';

function logWithRows(n: number): Database.Database {
  const db = openDecisionDatabase(join(tempDir(), 'd.db'));
  appendRows(db, n);
  return db;
}

function appendRows(db: Database.Database, n: number): number {
  const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, ?, 'a/b', 'allow', ?, NULL, '{}')`);
  let last = 0;
  for (let i = 0; i < n; i++) last = Number(insert.run(`id-${Math.random()}`, 1_700_000_000_000_000_000n + BigInt(i), i % 2 ? 'alice' : null).lastInsertRowid);
  return last;
}

const keyed = (db: Database.Database) => db.prepare('SELECT seq FROM decision_keys ORDER BY seq').pluck().all() as number[];
const inTransaction = (db: Database.Database) => (work: () => void) => db.transaction(work).immediate();

test('the tail is indexed, in a transaction of its own, after the commit that makes it a step long, whole, and not before', () => {
  const db = logWithRows(0);
  const indexer = new TailIndexer(db, inTransaction(db), { stepRows: 10 });
  indexer.afterCommit(appendRows(db, 9));
  assert.deepEqual(keyed(db), []);
  indexer.afterCommit(appendRows(db, 3));
  assert.deepEqual(keyed(db), Array.from({ length: 12 }, (_, i) => i + 1));
  // The keys are the row's own.
  assert.deepEqual(db.prepare('SELECT decision_id, ts_ns, principal FROM decision_keys WHERE seq = 2').get(), db.prepare('SELECT decision_id, ts_ns, principal FROM decisions WHERE seq = 2').get());
  indexer.afterCommit(appendRows(db, 9));
  assert.equal(keyed(db).length, 12, 'the next 9 rows wait for the next step');
  indexer.stop();
  db.close();
});

test('an index step that fails leaves the tail as it was, and a later commit indexes it', () => {
  const db = logWithRows(0);
  const indexer = new TailIndexer(db, inTransaction(db), { stepRows: 10 });
  db.exec(`CREATE TRIGGER refuse_keys BEFORE INSERT ON decision_keys BEGIN SELECT RAISE(FAIL, 'no room'); END`);
  assert.doesNotThrow(() => indexer.afterCommit(appendRows(db, 12)));
  assert.deepEqual(keyed(db), []);
  assert.equal(db.prepare('SELECT count(*) FROM decisions').pluck().get(), 12);
  db.exec('DROP TRIGGER refuse_keys');
  indexer.afterCommit(appendRows(db, 1));
  assert.equal(keyed(db).length, 13);
  indexer.stop();
  db.close();
});

test('a tail shorter than a step is indexed once the writer has been idle, and when it closes', async () => {
  const db = logWithRows(0);
  const indexer = new TailIndexer(db, inTransaction(db), { stepRows: 1000, idleMs: 30 });
  for (let i = 0; i < 3; i++) indexer.afterCommit(appendRows(db, 2));
  assert.deepEqual(keyed(db), []);
  await eventually('the idle step', () => keyed(db).length > 0);
  assert.deepEqual(keyed(db), [1, 2, 3, 4, 5, 6]);
  assert.equal(indexer.idleTimerArmed, false, 'no timer is left once the idle tail is indexed');
  appendRows(db, 2);
  indexer.indexTail();
  assert.deepEqual(keyed(db), [1, 2, 3, 4, 5, 6, 7, 8]);
  indexer.stop();
  db.close();
});

test('deleting a decision (retention) deletes its keys with it', () => {
  const db = logWithRows(6);
  new TailIndexer(db, inTransaction(db)).indexTail();
  db.prepare('DELETE FROM decisions WHERE seq <= 2 OR seq = 6').run();
  assert.deepEqual(keyed(db), [3, 4, 5]);
  db.close();
});

const zones = (db: Database.Database) => db.prepare('SELECT first_seq, last_seq, min_ts, max_ts, min_id, max_id FROM decision_zones ORDER BY first_seq').safeIntegers().raw().all() as [bigint, bigint, ...unknown[]][];
/** What each zone should hold: the bounds of the indexed rows in its seq range. */
const zonesOfKeys = (db: Database.Database) =>
  zones(db).map(([first, last]) => [first, last, ...(db.prepare('SELECT min(ts_ns), max(ts_ns), min(decision_id), max(decision_id) FROM decision_keys WHERE seq BETWEEN ? AND ?').safeIntegers().raw().get(first, last) as unknown[])]);

test('each step makes the zones of the rows it indexes, at most 256 rows each, the last one made again until it is full', () => {
  const db = logWithRows(0);
  const indexer = new TailIndexer(db, inTransaction(db), { stepRows: 100 });
  indexer.afterCommit(appendRows(db, 300));
  assert.deepEqual(zones(db).map(([first, last]) => [Number(first), Number(last)]), [[1, 256], [257, 300]]);
  indexer.indexTail();
  assert.equal(zones(db).length, 2, 'no tail, nothing made');
  indexer.afterCommit(appendRows(db, 100));
  assert.deepEqual(zones(db).map(([first, last]) => [Number(first), Number(last)]), [[1, 256], [257, 400]]);
  indexer.afterCommit(appendRows(db, 250));
  assert.deepEqual(zones(db).map(([first, last]) => [Number(first), Number(last)]), [[1, 256], [257, 512], [513, 650]]);
  assert.deepEqual(zones(db), zonesOfKeys(db));
  indexer.stop();
  db.close();
});

test('seqs freed by deleting the newest rows and taken again get zones of the new rows', () => {
  const db = logWithRows(0);
  const indexer = new TailIndexer(db, inTransaction(db), { stepRows: 10 });
  indexer.afterCommit(appendRows(db, 300));
  db.prepare('DELETE FROM decisions WHERE seq > 200').run();
  // New rows, at other times and ids, on seqs 201.. (the old zone 1-256 reached over them).
  const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, ?, 'a/b', 'allow', NULL, NULL, '{}')`);
  for (let i = 0; i < 20; i++) insert.run(`new-${i}`, 1_800_000_000_000_000_000n + BigInt(i));
  indexer.afterCommit(220);
  assert.deepEqual(zones(db).map(([first, last]) => [Number(first), Number(last)]), [[1, 220]]);
  assert.deepEqual(zones(db), zonesOfKeys(db));
  indexer.stop();
  db.close();
});

/** The principals' lists: [principal, first_seq, last_seq, the seqs sorted], by step and principal. */
const lists = (db: Database.Database) =>
  (db.prepare('SELECT principal, first_seq, last_seq, seqs FROM decision_principals ORDER BY first_seq, principal').raw().all() as [string, number, number, string][]).map(
    ([principal, first, last, seqs]) => [principal, first, last, (JSON.parse(seqs) as number[]).sort((a, b) => a - b)] as const,
  );
const seqsBetween = (from: number, to: number, keep: (seq: number) => boolean) => Array.from({ length: to - from + 1 }, (_, i) => from + i).filter(keep);

test('each step makes one list per principal of the seqs of its rows with that principal, and none for rows without one', () => {
  const db = logWithRows(0);
  const indexer = new TailIndexer(db, inTransaction(db), { stepRows: 10 });
  // Principal alice on even seqs (appendRows puts it on every other row), bob on rows 12 and 15.
  appendRows(db, 10);
  indexer.afterCommit(10);
  const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES ('x', 1, 'a/b', 'allow', ?, NULL, '{}')`);
  for (let seq = 11; seq <= 16; seq++) insert.run(seq === 12 || seq === 15 ? 'bob' : seq % 2 ? null : 'alice');
  indexer.afterCommit(16);
  assert.deepEqual(lists(db), [
    ['alice', 1, 10, [2, 4, 6, 8, 10]],
  ], 'a tail shorter than a step has no lists yet');
  indexer.indexTail();
  assert.deepEqual(lists(db), [
    ['alice', 1, 10, [2, 4, 6, 8, 10]],
    ['alice', 11, 16, [14, 16]],
    ['bob', 11, 16, [12, 15]],
  ]);
  indexer.stop();
  db.close();
});

test('seqs freed by deleting the newest rows and taken again: the steps that reached over them are listed again, with the new rows', () => {
  const db = logWithRows(0);
  const indexer = new TailIndexer(db, inTransaction(db), { stepRows: 100 });
  indexer.afterCommit(appendRows(db, 100));
  indexer.afterCommit(appendRows(db, 100));
  assert.deepEqual(lists(db).map(([p, first, last]) => [p, first, last]), [['alice', 1, 100], ['alice', 101, 200]]);
  db.prepare('DELETE FROM decisions WHERE seq > 150').run();
  // Seqs 151..170 taken again by rows of carol: alice's list of 101-200 held 152, 154... which are carol's now.
  const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES ('new', 1, 'a/b', 'allow', 'carol', NULL, '{}')`);
  for (let i = 0; i < 20; i++) insert.run();
  indexer.indexTail();
  assert.deepEqual(lists(db), [
    ['alice', 1, 100, seqsBetween(1, 100, (s) => s % 2 === 0)],
    ['alice', 101, 170, seqsBetween(101, 150, (s) => s % 2 === 0)],
    ['carol', 101, 170, seqsBetween(151, 170, () => true)],
  ]);
  indexer.stop();
  db.close();
});
