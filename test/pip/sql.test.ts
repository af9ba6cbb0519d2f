import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createEnricher, PipConfigError, type Enricher } from '../../src/pip/index.js';
import { startPostgres, type RunningPostgres } from './fixtures/services.js';
import { freePort } from '../free-port.js';

/** Values an attacker might put in a header or claim, hoping they become SQL. */
const INJECTIONS = ["' OR '1'='1", "alice' --", "alice'; DROP TABLE accounts; --", '1 OR 1=1', "alice' UNION SELECT id, plan FROM accounts --"];

const pipOf = (r: { input: unknown }) => (r.input as { pip: Record<string, unknown> }).pip;

function sqlEnricher(settings: Record<string, unknown>, extra: Record<string, unknown> = {}): Enricher {
  return createEnricher({
    adapters: { account: { type: 'sql', settings, cache: { ttl: 0, negative_ttl: 0 }, timeout: '5s', ...extra } },
    enrich: [{ paths: [''], adapter: 'account', inputs: { user: 'input.user' } }],
  });
}

describe('sql adapter: SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-pip-sqlite-'));
  const file = join(dir, 'accounts.db');
  const enrichers: Enricher[] = [];
  const make = (settings: Record<string, unknown>, extra?: Record<string, unknown>) => {
    const e = sqlEnricher({ driver: 'sqlite', database: file, ...settings }, extra);
    enrichers.push(e);
    return e;
  };

  before(() => {
    const db = new Database(file);
    db.exec(`CREATE TABLE accounts (id TEXT PRIMARY KEY, plan TEXT NOT NULL, seats INTEGER);
             CREATE TABLE memberships (user TEXT, team TEXT);`);
    const add = db.prepare('INSERT INTO accounts VALUES (?, ?, ?)');
    add.run('alice', 'gold', 10);
    add.run('bob', 'free', 1);
    add.run("' OR '1'='1", 'literal', 0);
    const member = db.prepare('INSERT INTO memberships VALUES (?, ?)');
    for (const [u, t] of [['alice', 'payments'], ['alice', 'platform'], ['bob', 'support']]) member.run(u, t);
    db.close();
  });

  after(async () => {
    await Promise.all(enrichers.map((e) => e.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('looks up one row or many with the input value bound as a parameter', async () => {
    const row = make({ query: 'SELECT plan, seats FROM accounts WHERE id = ?', params: ['user'], result: 'row' });
    assert.deepEqual(pipOf(await row.enrichInput('a', { user: 'alice' })), { account: { plan: 'gold', seats: 10 } });
    assert.deepEqual(pipOf(await row.enrichInput('a', { user: 'nobody' })), { account: null });
    const rows = make({ query: 'SELECT team FROM memberships WHERE user = ? ORDER BY team', params: ['user'] });
    assert.deepEqual(pipOf(await rows.enrichInput('a', { user: 'alice' })), { account: [{ team: 'payments' }, { team: 'platform' }] });
  });

  it('keeps SQL-injection attempts as data', async () => {
    const row = make({ query: 'SELECT id, plan FROM accounts WHERE id = ?', params: ['user'], result: 'row' });
    for (const attempt of INJECTIONS) {
      const expected = attempt === "' OR '1'='1" ? { id: attempt, plan: 'literal' } : null;
      assert.deepEqual(pipOf(await row.enrichInput('a', { user: attempt })), { account: expected }, attempt);
    }
    const db = new Database(file, { readonly: true });
    assert.equal((db.prepare('SELECT count(*) AS n FROM accounts').get() as { n: number }).n, 3);
    db.close();
  });

  it('opens the database read-only: statements that write fail at start-up or at lookup', async () => {
    assert.throws(() => make({ query: 'DELETE FROM accounts WHERE id = ?', params: ['user'] }), (err: unknown) => err instanceof PipConfigError && /must be a query that returns rows/.test(err.message));
    const sneaky = make({ query: 'DELETE FROM accounts WHERE id = ? RETURNING id', params: ['user'] }, { on_error: 'skip' });
    const { report } = await sneaky.enrichInput('a', { user: 'bob' });
    assert.match(report.adapters[0].reason ?? '', /^failed: query failed: .*readonly/);
    const check = make({ query: 'SELECT plan FROM accounts WHERE id = ?', params: ['user'], result: 'row' });
    assert.deepEqual(pipOf(await check.enrichInput('a', { user: 'bob' })), { account: { plan: 'free' } });
  });

  it('refuses a missing database file and objects as parameters', async () => {
    assert.throws(() => sqlEnricher({ driver: 'sqlite', database: join(dir, 'missing.db'), query: 'SELECT 1' }), /pip\.adapters\.account\.settings\.database: cannot open .*missing\.db: ENOENT/);
    const e = make({ query: 'SELECT plan FROM accounts WHERE id = ?', params: ['user'] }, { on_error: 'skip' });
    const { report } = await e.enrichInput('a', { user: { $ne: null } });
    assert.equal(report.adapters[0].reason, 'failed: lookup parameter "user" must be a string, number, boolean or null');
  });
});

describe('sql adapter: PostgreSQL', () => {
  let server: RunningPostgres;
  const enrichers: Enricher[] = [];
  const reader = () => ({ host: '127.0.0.1', port: server.port, user: 'pip_reader', password: 'reader-pw', database: 'accounts' });
  const make = (settings: Record<string, unknown>, extra?: Record<string, unknown>) => {
    const e = sqlEnricher({ driver: 'postgres', connection: reader(), ...settings }, extra);
    enrichers.push(e);
    return e;
  };

  before(async () => {
    server = await startPostgres();
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE accounts');
    await admin.query("CREATE ROLE pip_reader LOGIN PASSWORD 'reader-pw'");
    await admin.end();
    const db = new pg.Client({ connectionString: server.adminUrl.replace(/\/postgres$/, '/accounts') });
    await db.connect();
    await db.query(`CREATE TABLE accounts (id text PRIMARY KEY, plan text NOT NULL, seats int, created timestamptz);
                    INSERT INTO accounts VALUES ('alice', 'gold', 10, '2026-01-02T03:04:05Z'), ('bob', 'free', 1, NULL),
                                                ($$' OR '1'='1$$, 'literal', 0, NULL);
                    GRANT SELECT, UPDATE ON accounts TO pip_reader;`);
    await db.end();
  });

  after(async () => {
    await Promise.all(enrichers.map((e) => e.close()));
    await server?.stop();
  });

  it('looks up rows through a pool with $n parameters; timestamps come back as ISO text', async () => {
    const row = make({ query: 'SELECT plan, seats, created FROM accounts WHERE id = $1', params: ['user'], result: 'row' });
    const results = await Promise.all(['alice', 'bob', 'nobody'].map((user) => row.enrichInput('a', { user })));
    assert.deepEqual(results.map((r) => pipOf(r).account), [
      { plan: 'gold', seats: 10, created: '2026-01-02T03:04:05.000Z' },
      { plan: 'free', seats: 1, created: null },
      null,
    ]);
  });

  it('keeps at most pool_size connections open and reuses them for later lookups', async () => {
    const pooled = make({ query: 'SELECT pg_backend_pid() AS pid, pg_sleep(0.05)::text, $1::text AS u', params: ['user'], result: 'row', pool_size: 2 });
    const pidOf = (r: { input: unknown }) => (pipOf(r).account as { pid: number }).pid;
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => pooled.enrichInput('a', { user: `u${i}` })));
    const pids = new Set(burst.map(pidOf));
    assert.equal(pids.size, 2, '8 concurrent lookups shared the 2 pooled connections');
    assert.ok(pids.has(pidOf(await pooled.enrichInput('a', { user: 'later' }))), 'a later lookup reuses a pooled connection');
  });

  it('keeps SQL-injection attempts as data', async () => {
    const row = make({ query: 'SELECT id, plan FROM accounts WHERE id = $1', params: ['user'], result: 'row' });
    for (const attempt of INJECTIONS) {
      const expected = attempt === "' OR '1'='1" ? { id: attempt, plan: 'literal' } : null;
      assert.deepEqual(pipOf(await row.enrichInput('a', { user: attempt })), { account: expected }, attempt);
    }
    const all = make({ query: 'SELECT count(*)::int AS n FROM accounts WHERE $1::text IS NOT NULL', params: ['user'], result: 'row' });
    assert.deepEqual(pipOf(await all.enrichInput('a', { user: 'x' })), { account: { n: 3 } });
  });

  it('runs sessions read-only even when the role may write', async () => {
    const writer = make({ query: "UPDATE accounts SET plan = 'gold' WHERE id = $1 RETURNING id", params: ['user'] }, { on_error: 'skip' });
    const { report } = await writer.enrichInput('a', { user: 'bob' });
    assert.match(report.adapters[0].reason ?? '', /read-only transaction/);
    const check = make({ query: 'SELECT plan FROM accounts WHERE id = $1', params: ['user'], result: 'row' });
    assert.deepEqual(pipOf(await check.enrichInput('a', { user: 'bob' })), { account: { plan: 'free' } });
  });

  it('a query slower than the timeout is cut off, and a database that is down is reported', async () => {
    const slow = make({ query: 'SELECT pg_sleep(3), $1::text AS u', params: ['user'] }, { timeout: '300ms', on_error: 'skip' });
    const slowRun = (await slow.enrichInput('a', { user: 'x' })).report.adapters[0];
    assert.equal(slowRun.reason, 'timeout: timed out after 300 ms');
    const down = sqlEnricher({ driver: 'postgres', connection: { ...reader(), port: await freePort() }, query: 'SELECT 1 WHERE $1::text IS NOT NULL', params: ['user'] });
    enrichers.push(down);
    await assert.rejects(down.enrichInput('a', { user: 'x' }), /policy information point "account" failed: unavailable: query failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });
});
