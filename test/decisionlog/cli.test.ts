import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Ajv } from 'ajv';
import Database from 'better-sqlite3';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { runDecisionsCommand } from '../../src/decisionlog/cli.js';
import { schemaVersion } from '../../src/decisionlog/schema.js';
import type { DecisionEvent } from '../../src/decisionlog/event.js';
import { eventually } from '../eventually.js';
import { captureCommand, sampleEvent, tempDir } from './helpers.js';

const schema = JSON.parse(readFileSync(new URL('../../../schemas/decision-event.schema.json', import.meta.url), 'utf8'));
let dir: string;
let db: string;
const events: DecisionEvent[] = [];

before(async () => {
  dir = tempDir();
  db = join(dir, 'decisions.db');
  const store = new DecisionLogStore({ file: db });
  for (let i = 0; i < 25; i++) {
    const event = sampleEvent({ decision_id: `cli-${i}`, input: { subject: { id: i % 2 ? 'bob' : 'alice' }, n: i }, result: i % 4 !== 0 });
    events.push(event);
    await store.record(event);
  }
  await store.close();
});

function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return captureCommand((io) => runDecisionsCommand(argv, io));
}

test('export writes every decision as NDJSON in OPA event format, oldest first, equal to what was logged', async () => {
  const { code, out } = await run('export', '--db', db);
  assert.equal(code, 0);
  const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l) as DecisionEvent);
  assert.deepEqual(lines, events);
  const ajv = new Ajv();
  for (const line of lines) assert.ok(ajv.validate(schema, line), JSON.stringify(ajv.errors));
});

test('export takes filters and --out', async () => {
  const file = join(dir, 'bob-denied.ndjson');
  const { code } = await run('export', '--db', db, '--principal', 'bob', '--outcome=allow', '--field', 'input.n=3', '--out', file);
  assert.equal(code, 0);
  assert.deepEqual(readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l).decision_id), ['cli-3']);
});

test('search prints newest first, one line each, and the cursor for more', async () => {
  const first = await run('search', '--db', db, '--principal', 'alice', '--limit', '2');
  assert.equal(first.code, 0);
  const lines = first.out.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /deny\s+alice\s+http\/example\/authz\/allow\s+cli-24$/);
  const cursor = /--cursor (\S+)/.exec(first.err)![1];
  const second = await run('search', '--db', db, '--principal', 'alice', '--limit', '2', '--cursor', cursor, '--json');
  assert.deepEqual(second.out.trimEnd().split('\n').map((l) => JSON.parse(l).decision_id), ['cli-20', 'cli-18']);
});

test('show prints one decision; an unknown id exits 1', async () => {
  const shown = await run('show', 'cli-7', '--db', db);
  assert.equal(shown.code, 0);
  assert.deepEqual(JSON.parse(shown.out), events[7]);
  const missing = await run('show', 'nope', '--db', db);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /decision nope is not in the decision log/);
});

test('tail prints the last N oldest first, and --follow prints decisions as they arrive', async () => {
  const { out } = await run('tail', '-n', '3', '--db', db);
  assert.deepEqual(out.trimEnd().split('\n').map((l) => l.split(/\s+/).pop()), ['cli-22', 'cli-23', 'cli-24']);

  const live = join(dir, 'live.db');
  const store = new DecisionLogStore({ file: live, durability: 'sync' });
  await store.record(sampleEvent({ decision_id: 'before' }));
  const stdout = new PassThrough();
  let followed = '';
  stdout.on('data', (c) => (followed += c));
  const abort = new AbortController();
  const running = runDecisionsCommand(['tail', '--follow', '--interval-ms', '20', '--db', live], { stdout, stderr: new PassThrough(), signal: abort.signal });
  await eventually('the decision already there to be printed', () => followed.includes('before'));
  await store.record(sampleEvent({ decision_id: 'after-1' }));
  await store.record(sampleEvent({ decision_id: 'after-2' }));
  await eventually('the new decisions to be printed', () => followed.includes('after-2'));
  abort.abort();
  assert.equal(await running, 0);
  assert.deepEqual(followed.trimEnd().split('\n').map((l) => l.split(/\s+/).pop()), ['before', 'after-1', 'after-2']);
  await store.close();
});

test('usage errors exit 2 and say what was wrong', async () => {
  for (const [argv, message] of [
    [['frobnicate', '--db', db], /unknown command "frobnicate"/],
    [['search', '--db', db, '--colour', 'red'], /unknown option --colour/],
    [['search', '--db', db, '--since', 'later'], /since must be an RFC3339/],
    [['search', '--db', db, '--limit', '-1'], /option --limit needs a value|must be a positive integer/],
    [['search', '--db'], /option --db needs a value/],
    [['show', '--db', db], /show needs exactly one DECISION_ID/],
    [['export', '--db', db, '--field', 'nonsense'], /--field must look like input\.a\.b=VALUE/],
  ] as const) {
    const { code, err } = await run(...argv);
    assert.equal(code, 2, argv.join(' '));
    assert.match(err, message);
  }
  assert.equal((await run()).code, 2);
});

test('a missing or corrupt database file gives its own exit code and a clear message', async () => {
  const missing = await run('tail', '--db', join(dir, 'nothing-here.db'));
  assert.equal(missing.code, 6);
  assert.match(missing.err, /nothing-here\.db cannot be opened/);
  const corrupt = join(dir, 'corrupt.db');
  writeFileSync(corrupt, Buffer.alloc(8192, 7));
  const bad = await run('tail', '--db', corrupt);
  assert.equal(bad.code, 3);
  assert.match(bad.err, /corrupt or not a SQLite database/);
  const future = join(dir, 'future.db');
  const other = new Database(future);
  other.exec('CREATE TABLE decisions (seq INTEGER PRIMARY KEY)');
  other.pragma(`user_version = ${schemaVersion + 1}`);
  other.close();
  const newer = await run('search', '--db', future);
  assert.equal(newer.code, 5);
  assert.match(newer.err, new RegExp(`schema version ${schemaVersion + 1}, this build reads version ${schemaVersion}`));
});
