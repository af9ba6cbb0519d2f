// The central decision store on a real PostgreSQL (a private instance on loopback): the same queries answer
// the same as the embedded SQLite log over the same events, a batch is stored whole or not at all and never
// twice, retention deletes in the database, and through the real server POST /logs takes OPA's upload protocol
// behind the admin token, refusing bad input with a 400 that names the problem.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { pino } from 'pino';
import { startPostgres, type RunningPostgres } from '../pip/fixtures/services.js';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { PostgresDecisionStore } from '../../src/decisionlog/postgres/store.js';
import { postgresStoreOptions } from '../../src/decisionlog/postgres/config.js';
import { postgresSchemaVersion } from '../../src/decisionlog/postgres/schema.js';
import { queryPostgres } from '../../src/decisionlog/postgres/query.js';
import { traceIdOf } from '../../src/decisionlog/trace-id.js';
import { sqliteQueries, type DecisionQueries } from '../../src/decisionlog/queries.js';
import type { DecisionFilters } from '../../src/decisionlog/query.js';
import { runDecisionsCommand } from '../../src/decisionlog/cli.js';
import { runReplayCommand } from '../../src/replay/cli.js';
import type { ReplayReport } from '../../src/replay/replay.js';
import { formatTimestamp, nowNs, type DecisionEvent } from '../../src/decisionlog/event.js';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { captureCommand, eventsOfOldSchema, sampleEvent, tempDir, unsignedJwt } from './helpers.js';
import { send } from '../server/harness.js';
import { TestAdminIdp } from '../server/admin-idp.js';
import { freePort } from '../free-port.js';

let server: RunningPostgres;
const password = 'admin-pw';
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  server = await startPostgres();
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await server?.stop();
});

/** A fresh database for each test, so counts start at zero. */
async function freshDatabase(): Promise<{ connectionString: string }> {
  const name = `d${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return { connectionString: `postgresql://verdict@127.0.0.1:${server.port}/${name}` };
}

async function openCentral(): Promise<{ store: PostgresDecisionStore; connectionString: string }> {
  const { connectionString } = await freshDatabase();
  const store = new PostgresDecisionStore(postgresStoreOptions({ connection_string: connectionString, password_env: 'TEST_PG_PASSWORD' }, { TEST_PG_PASSWORD: password }));
  await store.open();
  cleanups.push(() => store.close());
  return { store, connectionString };
}

async function count(store: PostgresDecisionStore): Promise<number> {
  return Number((await store.pool.query<{ n: string }>('SELECT count(*) AS n FROM verdict_decisions')).rows[0].n);
}

function variedEvents(): DecisionEvent[] {
  const events: DecisionEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const traceparent = `00-${(i % 7).toString(16).padStart(32, 'a')}-00f067aa0ba902b7-01`;
    events.push(
      sampleEvent({
        path: ['http/example/authz/allow', 'http/example/authz', 'envoy/authz/allow', 'http/examples/x'][i % 4],
        result: i % 5 === 0 ? undefined : i % 3 === 0 ? { allowed: false } : i % 2 === 0,
        ...(i % 11 === 0 ? { error: { code: 'eval_error', message: 'boom' } } : {}),
        // Some events name their trace themselves (tracing on), in capitals for a few; the rest by the input's header.
        ...(i % 10 === 3 ? { trace_id: (i % 20 === 3 ? '3'.padStart(32, 'B') : '3'.padStart(32, 'b')) } : {}),
        input: {
          subject: { id: ['alice', 'bob', 'Carol-Admin', 'carla'][i % 4] },
          request: { http: { method: i % 2 ? 'POST' : 'GET', path: `/orders/${i}`, headers: { authorization: 'Bearer secret-token' } }, headers: { traceparent } },
          n: i % 3,
        },
        bundles: i % 6 === 0 ? { a: { revision: 'rev-a' }, b: { revision: 'rev-b' } } : { authz: { revision: i % 2 ? 'rev-1' : 'rev-2' } },
        timestamp: formatTimestamp(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_000n),
      }),
    );
  }
  return events;
}

test('the PostgreSQL store answers every filter as the SQLite log does, page by page', async () => {
  const { store: central } = await openCentral();
  const local = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  cleanups.push(() => local.close());
  const events = variedEvents();
  for (const e of events) await local.record(e);
  assert.deepEqual(await central.ingest(events), { received: events.length, stored: events.length });
  const sqlite = sqliteQueries(local.db);
  const cases: DecisionFilters[] = [
    {},
    { order: 'asc', limit: 7 },
    { path: 'http/example/authz' },
    { path: '/envoy/' },
    { outcome: 'deny' },
    { outcome: 'undefined' },
    { outcome: 'error' },
    { principal: 'bob' },
    { principal_prefix: 'car' },
    { principal_contains: 'ADMIN' },
    { revision: 'rev-a' },
    { revision: 'rev-1', limit: 5 },
    { decision_id: events[17].decision_id },
    { trace_id: '3'.padStart(32, 'a') },
    { trace_id: '3'.padStart(32, 'B'), order: 'asc', limit: 2 },
    { trace_id: '5'.padStart(32, 'A'), outcome: 'allow' },
    { fields: { 'input.request.http.method': 'POST' } },
    { fields: { 'input.n': '2' } },
    { since: events[10].timestamp, until: events[20].timestamp },
    { outcome: 'allow', path: 'http', limit: 3 },
    // A prefix over several stored paths (one arm each), not taking the sibling http/examples/x.
    { outcome: 'deny', path: 'http/example', order: 'asc', limit: 3 },
    { path: 'http', order: 'asc', limit: 4 },
    { path: 'http', outcome: 'deny', revision: 'rev-1', limit: 2 },
    { path: 'http/example', fields: { 'input.request.http.method': 'POST' }, order: 'asc' },
  ];
  for (const filters of cases) {
    const [a, b] = [await pages(sqlite, filters), await pages(central, filters)];
    assert.deepEqual(b, a, JSON.stringify(filters));
    assert.ok(a.flat().length > 0, `filters ${JSON.stringify(filters)} select something`);
  }
  // Bad filters are refused with the query error, as by the SQLite log.
  for (const bad of [{ outcome: 'maybe' }, { since: 'yesterday' }, { trace_id: 'xyz' }, { fields: { 'request.method': 'GET' } }, { limit: 0 }] as DecisionFilters[]) {
    await assert.rejects(central.query(bad), (error: Error) => error.name === 'DecisionLogError');
  }
  // The bearer token in the input was erased before storing, as in the local log.
  const stored = await central.find(events[3].decision_id);
  assert.equal((stored!.event.input as { request: { http: { headers: Record<string, string> } } }).request.http.headers.authorization, undefined);
  assert.deepEqual(stored!.event.erased, (await sqlite.find(events[3].decision_id))!.event.erased);
});

test('tables made before the trace_id column are upgraded at open, and their old decisions are found by trace_id', async () => {
  const { connectionString } = await freshDatabase();
  const { traceId, events, traced } = eventsOfOldSchema();
  // Written as an earlier version wrote them (node-postgres takes the password from the string here).
  const old = new pg.Client({ connectionString: connectionString.replace('verdict@', `verdict:${password}@`) });
  await old.connect();
  await old.query(readFileSync(new URL('../../../test/decisionlog/fixtures/central-v1.sql', import.meta.url), 'utf8'));
  for (const [i, e] of events.entries()) {
    await old.query(`INSERT INTO verdict_decisions (decision_id, ts_ns, path, outcome, event) VALUES ($1, $2, $3, 'allow', $4)`, [e.decision_id, String(1_700_000_000_000_000_000n + BigInt(i)), e.path, JSON.stringify(e)]);
  }
  await old.end();

  const store = new PostgresDecisionStore(postgresStoreOptions({ connection_string: connectionString, password_env: 'TEST_PG_PASSWORD' }, { TEST_PG_PASSWORD: password }));
  await store.open();
  cleanups.push(() => store.close());
  assert.equal((await store.pool.query(`SELECT value FROM verdict_meta WHERE key = 'schema_version'`)).rows[0].value, String(postgresSchemaVersion));
  await store.ingest([sampleEvent({ decision_id: 'new-field', trace_id: traceId })]);
  const page = await store.query({ trace_id: traceId, order: 'asc' });
  assert.deepEqual(page.decisions.map((d) => d.event.decision_id), [...traced, 'new-field']);
  assert.equal(page.scan_limited, undefined);
  // The upgrade's SQL reads the stored JSON as ingest reads the event object, row by row.
  for (const row of (await store.pool.query<{ trace_id: string | null; event: string }>('SELECT trace_id, event::text AS event FROM verdict_decisions')).rows) {
    assert.equal(row.trace_id, traceIdOf(JSON.parse(row.event) as DecisionEvent), row.event);
  }
  // With sequential scans priced out, the planner can answer the filter from the index (it exists and applies).
  const client = await store.pool.connect();
  try {
    await client.query('SET enable_seqscan = off');
    const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT seq FROM verdict_decisions WHERE trace_id = $1 ORDER BY seq DESC LIMIT 10`, [traceId])).rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(plan, /verdict_decisions_trace_id/, plan);
  } finally {
    client.release();
  }
  // A second collector opening the upgraded tables finds them current.
  const second = new PostgresDecisionStore(postgresStoreOptions({ connection_string: connectionString, password_env: 'TEST_PG_PASSWORD' }, { TEST_PG_PASSWORD: password }));
  await second.open();
  cleanups.push(() => second.close());
  assert.equal((await second.query({ trace_id: traceId })).decisions.length, traced.length + 1);
});

test('tables that kept multi-revision decisions in an array column are upgraded at open, and the revision filter reads indexes in order', async () => {
  const { connectionString } = await freshDatabase();
  const old = new pg.Client({ connectionString: connectionString.replace('verdict@', `verdict:${password}@`) });
  await old.connect();
  await old.query(readFileSync(new URL('../../../test/decisionlog/fixtures/central-v2.sql', import.meta.url), 'utf8'));
  const insert = `INSERT INTO verdict_decisions (decision_id, ts_ns, path, outcome, revision, revisions, event) VALUES ($1, $2, 'a/b', 'allow', $3, $4, $5)`;
  const oldEvents = [
    sampleEvent({ decision_id: 'old-single', bundles: { authz: { revision: 'rev-b' } } }),
    sampleEvent({ decision_id: 'old-multi', bundles: { a: { revision: 'rev-a' }, b: { revision: 'rev-b' } } }),
    sampleEvent({ decision_id: 'old-other', bundles: { a: { revision: 'rev-a' }, c: { revision: 'rev-c' } } }),
  ];
  const columns = [['rev-b', null], [null, ['rev-a', 'rev-b']], [null, ['rev-a', 'rev-c']]];
  for (const [i, e] of oldEvents.entries()) await old.query(insert, [e.decision_id, String(1_700_000_000_000_000_000n + BigInt(i)), ...columns[i], JSON.stringify(e)]);
  await old.end();

  const store = new PostgresDecisionStore(postgresStoreOptions({ connection_string: connectionString, password_env: 'TEST_PG_PASSWORD' }, { TEST_PG_PASSWORD: password }));
  await store.open();
  cleanups.push(() => store.close());
  assert.equal((await store.pool.query(`SELECT value FROM verdict_meta WHERE key = 'schema_version'`)).rows[0].value, String(postgresSchemaVersion));
  assert.equal((await store.pool.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'verdict_decisions' AND column_name = 'revisions'`)).rows[0].n, 0);
  const fresh = [sampleEvent({ decision_id: 'new-multi', bundles: { a: { revision: 'rev-b' }, z: { revision: 'rev-z' } } }), sampleEvent({ decision_id: 'new-single', bundles: { x: { revision: 'rev-b' } } })];
  await store.ingest([...fresh, fresh[0]]);
  const ids = async (filters: DecisionFilters) => (await store.query(filters)).decisions.map((d) => d.event.decision_id);
  assert.deepEqual(await ids({ revision: 'rev-b' }), ['new-single', 'new-multi', 'old-multi', 'old-single']);
  assert.deepEqual(await ids({ revision: 'rev-b', order: 'asc', limit: 2 }), ['old-single', 'old-multi']);
  assert.deepEqual(await ids({ revision: 'rev-a' }), ['old-other', 'old-multi']);
  assert.deepEqual(await ids({ revision: 'rev-z', principal_contains: 'ali' }), ['new-multi']);
  assert.deepEqual((await store.pool.query(`SELECT revision FROM verdict_decision_revisions ORDER BY seq, revision`)).rows.map((r) => r.revision), ['rev-a', 'rev-b', 'rev-a', 'rev-c', 'rev-b', 'rev-z']);

  // Retention takes a decision's revision rows with it.
  await store.ingest([sampleEvent({ decision_id: 'expired', timestamp: formatTimestamp(nowNs() - 40n * 86_400n * 1_000_000_000n), bundles: { a: { revision: 'rev-a' }, b: { revision: 'rev-old' } } })]);
  assert.equal(await store.prune(), 4, 'the three 2023 decisions and the 40-day-old one');
  assert.deepEqual((await store.pool.query(`SELECT revision FROM verdict_decision_revisions ORDER BY revision`)).rows.map((r) => r.revision), ['rev-b', 'rev-z']);

  // Over enough rows that a sort of every match would be the planner's choice if it had to, the filter's query
  // (captured as the store sends it) walks both (revision, seq) indexes in order under the LIMIT, sorting nothing.
  await store.pool.query(`INSERT INTO verdict_decisions (decision_id, ts_ns, path, outcome, revision, event)
    SELECT 'fill-' || g, g, 'a/b', 'allow', 'rev-' || (g % 4), '{}' FROM generate_series(1, 100000) g`);
  await store.pool.query(`INSERT INTO verdict_decision_revisions (seq, revision) SELECT seq, 'rev-1' FROM verdict_decisions WHERE decision_id LIKE 'fill-%' AND seq % 1000 = 0`);
  await store.pool.query('ANALYZE');
  const sent: Array<[string, unknown[]]> = [];
  const recording = recordingPool(store, sent);
  for (const order of ['desc', 'asc'] as const) {
    sent.length = 0;
    assert.equal((await queryPostgres(recording, { revision: 'rev-1', order, limit: 100 })).decisions.length, 100);
    const [text, values] = sent[0];
    const plan = (await store.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values)).rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(plan, /^Limit[\s\S]*Merge Append[\s\S]*Limit[\s\S]*Index Scan[\s\S]*Limit[\s\S]*Index Only Scan.* using verdict_decision_revisions_revision/, plan);
    assert.doesNotMatch(plan, /Sort  |Bitmap|Seq Scan/, plan);
  }
});

test('tables of schema version 3 are upgraded at open with the (outcome, path, seq) index, and an outcome with a path reads it in order', async () => {
  const { connectionString } = await freshDatabase();
  const old = new pg.Client({ connectionString: connectionString.replace('verdict@', `verdict:${password}@`) });
  await old.connect();
  await old.query(readFileSync(new URL('../../../test/decisionlog/fixtures/central-v3.sql', import.meta.url), 'utf8'));
  // A burst of one path first (say one replica's backlog), then four paths in turn: 'deny' every fifth row.
  await old.query(`INSERT INTO verdict_decisions (decision_id, ts_ns, path, outcome, event)
    SELECT 'old-' || g, g, CASE WHEN g <= 50000 THEN 'gateway/authz/allow' ELSE (ARRAY['envoy/authz/allow', 'envoy/ext/allow', 'http/a', 'http/b'])[1 + g % 4] END,
           CASE WHEN g % 5 = 0 THEN 'deny' ELSE 'allow' END, '{}' FROM generate_series(1, 100000) g`);
  await old.end();

  const store = new PostgresDecisionStore(postgresStoreOptions({ connection_string: connectionString, password_env: 'TEST_PG_PASSWORD' }, { TEST_PG_PASSWORD: password }));
  await store.open();
  cleanups.push(() => store.close());
  assert.equal((await store.pool.query(`SELECT value FROM verdict_meta WHERE key = 'schema_version'`)).rows[0].value, String(postgresSchemaVersion));
  const index = await store.pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'verdict_decisions_outcome_path'`);
  assert.match(index.rows[0]?.indexdef ?? '', /\(outcome, path, seq\)/);
  await store.pool.query('ANALYZE');

  // The same answers as a filter over every row would give: the oldest denies under envoy (two stored paths), in seq order.
  const expected = (await store.pool.query<{ seq: string }>(`SELECT seq FROM verdict_decisions WHERE outcome = 'deny' AND path LIKE 'envoy/%' ORDER BY seq LIMIT 100`)).rows.map((r) => Number(r.seq));
  assert.equal(expected[0], 50005);
  const sent: Array<[string, unknown[]]> = [];
  const recording = recordingPool(store, sent);
  const page = await queryPostgres(recording, { outcome: 'deny', path: 'envoy', order: 'asc', limit: 100 });
  assert.deepEqual(page.decisions.map((d) => d.seq), expected);
  const next = await store.query({ outcome: 'deny', path: 'envoy', order: 'asc', limit: 100, cursor: page.next_cursor });
  const after = await store.pool.query<{ seq: string }>(`SELECT seq FROM verdict_decisions WHERE outcome = 'deny' AND path LIKE 'envoy/%' ORDER BY seq OFFSET 100 LIMIT 1`);
  assert.equal(next.decisions[0].seq, Number(after.rows[0].seq));

  // Its query walks the new index once per stored path and merges: it does not walk seq through the burst.
  const [text, values] = sent[sent.length - 1];
  const plan = (await store.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values)).rows.map((r) => r['QUERY PLAN']).join('\n');
  assert.match(plan, /^Limit[\s\S]*Merge Append[\s\S]*Index Scan using verdict_decisions_outcome_path[\s\S]*Index Scan using verdict_decisions_outcome_path/, plan);
  assert.doesNotMatch(plan, /Sort  |Bitmap|Seq Scan|verdict_decisions_pkey/, plan);

  // More stored paths under a prefix than one query merges: one range condition, the same answers.
  await store.ingest(Array.from({ length: 40 }, (_, i) => sampleEvent({ path: `many/p${String(i).padStart(2, '0')}`, result: false })));
  const many = await store.query({ path: 'many', outcome: 'deny', order: 'asc', limit: 50 });
  assert.deepEqual(many.decisions.map((d) => d.event.path), Array.from({ length: 40 }, (_, i) => `many/p${String(i).padStart(2, '0')}`));
});

/** The store's pool, keeping the statements of a page (those with parameters: not the settled bound it reads first) as the store sends them. */
function recordingPool(store: PostgresDecisionStore, sent: Array<[string, unknown[]]>): pg.Pool {
  return { query: (text: string, values?: unknown[]) => (values && sent.push([text, values]), store.pool.query(text, values)) } as unknown as pg.Pool;
}

/** Every page of a query (ids and outcomes), following next_cursor. */
async function pages(queries: DecisionQueries, filters: DecisionFilters): Promise<string[][]> {
  const out: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await queries.query({ limit: 10, ...filters, ...(cursor ? { cursor } : {}) });
    out.push(page.decisions.map((d) => `${d.event.decision_id} ${d.outcome} ${d.principal ?? '-'} ${d.seq}`));
    cursor = page.next_cursor;
  } while (cursor !== undefined && out.length < 20);
  return out;
}

test('a batch is stored once (at-least-once uploads), whole or not at all, and retention deletes in the database', async () => {
  const { store } = await openCentral();
  const batch = [sampleEvent(), sampleEvent(), sampleEvent()];
  assert.deepEqual(await store.ingest(batch), { received: 3, stored: 3 });
  // The same batch again, and a batch overlapping it: only new ids are added.
  assert.deepEqual(await store.ingest(batch), { received: 3, stored: 0 });
  const fresh = sampleEvent();
  assert.deepEqual(await store.ingest([batch[1], fresh, fresh]), { received: 3, stored: 1 });
  assert.equal(await count(store), 4);
  // One bad event refuses the whole batch, naming it; the good events before it are not stored.
  const good = sampleEvent();
  for (const [bad, message] of [
    [{ ...sampleEvent(), decision_id: '' }, /event 1 of 2: .*non-empty string decision_id/],
    [{ ...sampleEvent(), timestamp: 'noon' }, /event 1 of 2: .*timestamp "noon" is not RFC3339/],
    [42, /event 1 of 2: decision event must be an object/],
  ] as const) {
    await assert.rejects(store.ingest([good, bad]), (error: Error & { code?: string }) => error.code === 'invalid_event' && message.test(error.message));
  }
  assert.equal(await count(store), 4);
  assert.equal(await store.find(good.decision_id), undefined);

  const old = sampleEvent({ timestamp: formatTimestamp(nowNs() - 40n * 86_400n * 1_000_000_000n) });
  await store.ingest([old]);
  assert.equal(await store.prune(), 1, 'the 40-day-old decision is past the 30-day default');
  assert.equal(await count(store), 4);
  assert.equal(store.status().stored, 5);
  assert.equal(store.status().duplicates, 5);
});

test('connection settings: the password comes from an environment variable or a file, never the connection string', () => {
  assert.throws(() => postgresStoreOptions({ connection_string: 'postgresql://u:secret@db/x' }), /holds a password; put it in an environment variable/);
  assert.throws(() => postgresStoreOptions({ connection_string: 'host=db password=secret' }), /holds a password/);
  assert.throws(() => postgresStoreOptions({ connection_string: 'postgresql://u@db/x', password_env: 'NOPE_NOT_SET' }, {}), /environment variable NOPE_NOT_SET is not set/);
  assert.throws(() => postgresStoreOptions({ connection_string: 'postgresql://u@db/x', password_file: '/nonexistent/pw' }), /password_file \/nonexistent\/pw cannot be read: ENOENT/);
  assert.throws(() => postgresStoreOptions({ connection_string: 'postgresql://u@db/x', pasword_env: 'X' }), /decision_logs\.store\.postgres\.pasword_env is not a setting/);
  assert.throws(() => postgresStoreOptions({ connection_string: 'postgresql://u@db/x', retention: { max_rows: 5 } }), /retention\.max_rows is not a setting/);
  const file = join(tempDir(), 'pw');
  writeFileSync(file, 'from-file\n');
  assert.equal(postgresStoreOptions({ connection_string: 'postgresql://u@db/x', password_file: file }).password!(), 'from-file');
  assert.equal(postgresStoreOptions({ connection_string: 'postgresql://u@db/x', retention: { max_age_seconds: 0 } }).maxAgeSeconds, undefined);
});

const idp = new TestAdminIdp();

async function startCollector(connectionString: string, dir: string): Promise<RunningServer> {
  process.env.TEST_COLLECTOR_PG_PASSWORD = password;
  const config = `
server:
  decoding:
    gzip:
      max_length: 65536
decision_logs:
  store:
    file: ${dir}/own.db
    postgres:
      connection_string: ${connectionString}
      password_env: TEST_COLLECTOR_PG_PASSWORD
${idp.config()}`;
  const running = await startServer({ addr: '127.0.0.1:0', bundlePaths: [], config: parseConfig(config, 'collector config'), logger: pino({ level: 'silent' }) });
  cleanups.push(() => running.close());
  return running;
}

test('POST /logs through the server: OPA\'s upload protocol in, /v1/decisions and the CLI out; bad batches refused whole', async () => {
  const { store, connectionString } = await openCentral();
  const dir = tempDir();
  const collector = await startCollector(connectionString, dir);
  const write = { 'Content-Encoding': 'gzip', 'Content-Type': 'application/json', ...(await idp.bearer('decisions:write')) };
  const upload = (body: unknown, headers: Record<string, string> = write) => send(collector.url, 'POST', '/logs', gzipSync(typeof body === 'string' ? body : JSON.stringify(body)), headers);
  const events = [sampleEvent({ input: { subject: { id: 'dora' } } }), sampleEvent({ result: false })];

  // Closed by default: no token, a token without decisions:write, a reader's token.
  assert.equal((await upload(events, { 'Content-Encoding': 'gzip' })).status, 401);
  assert.equal((await upload(events, { 'Content-Encoding': 'gzip', ...(await idp.bearer('decisions:read')) })).status, 403);
  assert.equal((await upload(events, { 'Content-Encoding': 'gzip', Authorization: `Bearer ${unsignedJwt({ scope: 'decisions:write' })}` })).status, 401);
  assert.equal(await count(store), 0);

  const ok = await upload(events);
  assert.equal(ok.status, 200, ok.body.toString());
  assert.deepEqual(JSON.parse(ok.body.toString()), { received: 2, stored: 2 });
  assert.deepEqual(JSON.parse((await upload(events)).body.toString()), { received: 2, stored: 0 });

  const refusals: Array<[Promise<{ status: number; body: Buffer }>, RegExp]> = [
    [send(collector.url, 'POST', '/logs', JSON.stringify([sampleEvent()]), { ...write, 'Content-Encoding': 'identity' }), /Content-Encoding: gzip, got Content-Encoding "identity"/],
    [send(collector.url, 'POST', '/logs', JSON.stringify([sampleEvent()]), write), /could not decompress the body: gzip: invalid header/],
    [upload('[{"decision_id": "x"'), /the body is not JSON/],
    [upload({ decision_id: 'x' }), /must be a JSON array of decision events, got object/],
    [upload([sampleEvent(), { ...sampleEvent(), decision_id: undefined }]), /event 1 of 2: decision event needs a non-empty string decision_id/],
    [upload(Array.from({ length: 40 }, () => sampleEvent({ input: { blob: 'x'.repeat(2000) } }))), /decompressed size exceeds limit of 65536 bytes \(server\.decoding\.gzip\.max_length\)/],
  ];
  for (const [response, message] of refusals) {
    const { status, body } = await response;
    assert.equal(status, 400, body.toString());
    const answer = JSON.parse(body.toString()) as { code: string; message: string };
    assert.equal(answer.code, 'invalid_parameter');
    assert.match(answer.message, message);
  }
  assert.equal(await count(store), 2, 'nothing of a refused batch is stored');
  assert.equal((await send(collector.url, 'GET', '/logs', undefined, write)).status, 405);

  const read = await idp.bearer('decisions:read');
  const page = JSON.parse((await send(collector.url, 'GET', '/v1/decisions?principal=dora', undefined, read)).body.toString()) as { result: { event: DecisionEvent }[] };
  assert.deepEqual(page.result.map((d) => d.event.decision_id), [events[0].decision_id]);
  const one = await send(collector.url, 'GET', `/v1/decisions/${events[1].decision_id}`, undefined, read);
  assert.equal((JSON.parse(one.body.toString()) as { result: { outcome: string } }).result.outcome, 'deny');
  const exported = await send(collector.url, 'GET', '/v1/decisions/export', undefined, read);
  assert.deepEqual(exported.body.toString().trim().split('\n').map((l) => (JSON.parse(l) as DecisionEvent).decision_id), events.map((e) => e.decision_id));

  // The CLI reads the same store from the collector's configuration file.
  const configFile = join(dir, 'collector.yaml');
  writeFileSync(configFile, `decision_logs:\n  store:\n    postgres:\n      connection_string: ${connectionString}\n      password_env: TEST_COLLECTOR_PG_PASSWORD\n`);
  const search = await captureCommand((io) => runDecisionsCommand(['search', '--config', configFile, '--outcome', 'deny', '--json'], io));
  assert.equal(search.code, 0, search.err);
  assert.deepEqual(search.out.trim().split('\n').map((l) => (JSON.parse(l) as DecisionEvent).decision_id), [events[1].decision_id]);
  // verdict replay reads the central store through the same --config: a candidate that denies everything flips
  // the one allowed decision of the two stored.
  const candidate = join(dir, 'candidate');
  mkdirSync(join(candidate, 'http'), { recursive: true });
  writeFileSync(join(candidate, 'http', 'policy.rego'), 'package http.example.authz\n\nallow := false\n');
  const replayed = await captureCommand((io) => runReplayCommand(['--config', configFile, '--format', 'json', candidate], io));
  assert.equal(replayed.code, 0, replayed.err);
  const report = JSON.parse(replayed.out) as ReplayReport;
  assert.deepEqual([report.considered, report.replayed, report.changed, report.by_transition], [2, 2, 1, { 'allow→deny': 1 }]);
  const status = JSON.parse((await send(collector.url, 'GET', '/health?plugins')).body.toString() || '{}');
  assert.deepEqual(status, {});
});

test('a collector needs admin_api (its routes would otherwise be open) and a reachable database to start', async () => {
  const { connectionString } = await freshDatabase();
  const start = (postgres: string, admin: string) =>
    startServer({ addr: '127.0.0.1:0', bundlePaths: [], config: parseConfig(`decision_logs:\n  store:\n    file: ${tempDir()}/own.db\n    postgres:\n${postgres}${admin}`, 'collector config'), logger: pino({ level: 'silent' }) });
  await assert.rejects(start(`      connection_string: ${connectionString}\n`, ''), /decision_logs\.store\.postgres makes this server a decision-log collector .* needs admin_api/);
  const nobody = `postgresql://verdict@127.0.0.1:${await freePort()}/audit`;
  await assert.rejects(start(`      connection_string: ${nobody}\n`, idp.config()), /central decision store cannot be reached: .*ECONNREFUSED/);
});
