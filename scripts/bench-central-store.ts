// The decision-log collector on PostgreSQL: ingest rate and query latency; and the same queries over the
// embedded SQLite log.
// 1. Ingest: a `verdict run` collector (decision_logs.store.postgres) on loopback takes OPA-protocol uploads
//    (gzipped JSON arrays of the rego/gateway input, ≈1.4 KB per event, --batch events per request) from
//    --concurrency uploaders; prints events/s into PostgreSQL against the 20,000 target.
// 2. Query: the table is filled to --events rows inside PostgreSQL (INSERT ... SELECT FROM generate_series, in
//    1M-row steps), analysed, then each common filter is asked --queries times through GET /v1/decisions;
//    prints p50/p95 per filter against the 100 ms p95 target.
// PostgreSQL is a private instance (the tests' fixture) with fsync turned back on, so commits are durable.
// With --store sqlite there is no collector: the server's own SQLite log (decision_logs.store.file) is filled
// with the same rows (--ingest-events gateway events first, as the uploads leave them, then --events rows made
// inside SQLite) and asked the same filters through the same API.
//   npm run bench:collector [-- --events 10000000 --ingest-events 200000 --batch 200 --concurrency 8 --queries 50]
//   npm run bench:collector -- --store sqlite --events 2000000 --ingest-events 100000
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { startPostgres, type RunningPostgres } from '../test/pip/fixtures/services.js';
import { openDecisionDatabase } from '../src/decisionlog/open.js';
import { TestAdminIdp } from '../test/server/admin-idp.js';
import { send } from '../test/server/harness.js';
import { freePort } from '../test/free-port.js';
import { formatTimestamp, newDecisionId, nowNs } from '../src/decisionlog/event.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    'ingest-events': { type: 'string', default: '200000' },
    batch: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
    queries: { type: 'string', default: '50' },
    store: { type: 'string', default: 'postgres' },
  },
});
if (values.store !== 'postgres' && values.store !== 'sqlite') throw new Error(`--store must be postgres or sqlite, got ${values.store}`);
const stored = Number(values.events);
const ingestEvents = Number(values['ingest-events']);
const batchSize = Number(values.batch);
const concurrency = Number(values.concurrency);
const queriesPerFilter = Number(values.queries);
for (const [name, n] of Object.entries({ events: stored, 'ingest-events': ingestEvents, batch: batchSize, concurrency, queries: queriesPerFilter })) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
}

const work = mkdtempSync(join(tmpdir(), 'verdict-bench-collector-'));
const idp = new TestAdminIdp();
let server: ChildProcess | undefined;
let postgres: RunningPostgres | undefined;
try {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  if (values.store === 'postgres') {
    postgres = await startPostgres();
    server = await fillPostgres(postgres, port, base);
  } else {
    fillSqlite(join(work, 'own.db'));
    server = await startServer(port, base, '', {});
  }
  await measureQueries(base);
} finally {
  if (server && server.exitCode === null) {
    const exited = new Promise((done) => server!.once('exit', done));
    server.kill('SIGTERM');
    await exited;
  }
  await postgres?.stop();
  rmSync(work, { recursive: true, force: true });
}

/** `verdict run` on loopback with the decision log in work/own.db, the admin API, and `store` settings added. */
async function startServer(port: number, base: string, store: string, env: Record<string, string>): Promise<ChildProcess> {
  const config = join(work, 'server.yaml');
  writeFileSync(config, `decision_logs:\n  store:\n    file: ${work}/own.db\n${store}${idp.config()}`);
  const child = spawn(process.execPath, [resolve('dist/src/main.js'), 'run', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '-c', config], { stdio: ['ignore', 'ignore', 'inherit'], cwd: work, env: { ...process.env, ...env } });
  for (let i = 0; ; i++) {
    if (i > 400) throw new Error('the server did not start');
    if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

/** The collector on PostgreSQL: uploads measured, then the table filled to --events rows. */
async function fillPostgres(postgres: RunningPostgres, port: number, base: string): Promise<ChildProcess> {
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  await admin.query('ALTER SYSTEM SET fsync = on');
  await admin.query('SELECT pg_reload_conf()');
  await admin.query('CREATE DATABASE audit');
  await admin.end();
  const db = new pg.Client({ connectionString: postgres.adminUrl.replace(/\/postgres$/, '/audit') });
  await db.connect();
  const collector = await startServer(
    port,
    base,
    `    postgres:\n      connection_string: postgresql://verdict@127.0.0.1:${postgres.port}/audit\n      password_env: BENCH_PG_PASSWORD\n      pool_size: ${concurrency}\n`,
    { BENCH_PG_PASSWORD: 'admin-pw' },
  );

  // ---- ingest ----
  const input = JSON.parse(readFileSync('rego/gateway/input.json', 'utf8')) as Record<string, unknown>;
  const start = nowNs();
  const bodies: Buffer[] = [];
  for (let i = 0; i < ingestEvents; i += batchSize) {
    const events = [];
    for (let j = i; j < Math.min(i + batchSize, ingestEvents); j++) {
      events.push({ labels: { id: `replica-${j % 7}`, version: '0.1.0' }, decision_id: newDecisionId(), path: 'gateway/authz/allow', input: { ...input, request_number: j }, result: j % 5 !== 0, timestamp: formatTimestamp(start + BigInt(j) * 1000n), metrics: { timer_server_handler_ns: 100_000 + (j % 977) } });
    }
    bodies.push(gzipSync(JSON.stringify(events), { level: 1 }));
  }
  const headers = { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', Authorization: `Bearer ${await idp.token('decisions:write')}` };
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const response = await send(base, 'POST', '/logs', body, headers);
        if (response.status !== 200) throw new Error(`upload answered ${response.status}: ${response.body.toString()}`);
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  const rate = ingestEvents / seconds;
  const averageGzip = bodies.reduce((n, b) => n + b.length, 0) / bodies.length;
  console.log(`ingest: ${ingestEvents} events in ${seconds.toFixed(2)} s = ${rate.toFixed(0)} events/s (${bodies.length} uploads of ${batchSize} events, ${(averageGzip / 1024).toFixed(1)} KiB gzip each, ${concurrency} at a time) — target 20000: ${rate >= 20_000 ? 'met' : 'NOT met'}`);

  // ---- fill to --events rows inside the database ----
  const have = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM verdict_decisions')).rows[0].n);
  const weekNs = 7n * 86_400n * 1_000_000_000n;
  const first = nowNs() - weekNs;
  const fillBegan = performance.now();
  for (let from = have; from < stored; from += 1_000_000) {
    const to = Math.min(from + 1_000_000, stored) - 1;
    await db.query(
      `INSERT INTO verdict_decisions (decision_id, ts_ns, path, outcome, principal, revision, event)
       SELECT id, ts, path, outcome, principal, revision,
              json_build_object('labels', json_build_object('id', 'replica-' || g % 7), 'decision_id', id, 'path', path,
                'input', json_build_object('subject', json_build_object('id', principal), 'request', json_build_object('http', json_build_object('method', CASE WHEN g % 3 = 0 THEN 'POST' ELSE 'GET' END, 'path', '/orders/' || g))),
                'result', outcome = 'allow', 'bundles', json_build_object('authz', json_build_object('revision', revision)),
                'timestamp', to_char(to_timestamp(ts / 1e9) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
       FROM (SELECT g, 'bench-' || g AS id, $3::bigint + g * $4::bigint AS ts,
                    (ARRAY['gateway/authz/allow', 'envoy/authz/allow', 'http/orders/allow', 'http/admin/allow'])[1 + g % 4] AS path,
                    CASE WHEN g % 100 < 80 THEN 'allow' WHEN g % 100 < 95 THEN 'deny' WHEN g % 100 < 99 THEN 'undefined' ELSE 'error' END AS outcome,
                    'user-' || (g % 50000) AS principal, 'rev-' || (g / 1000000) AS revision
             FROM generate_series($1::bigint, $2::bigint) g) s`,
      [from, to, first.toString(), (weekNs / BigInt(stored)).toString()],
    );
    process.stdout.write(`\rfilled ${to + 1} of ${stored} rows`);
  }
  await db.query('ANALYZE verdict_decisions');
  console.log(`\nfill: ${stored} rows stored in ${((performance.now() - fillBegan) / 1000).toFixed(0)} s; table and indexes ${(await db.query<{ size: string }>(`SELECT pg_size_pretty(pg_total_relation_size('verdict_decisions')) AS size`)).rows[0].size}`);
  await db.end();
  return collector;
}


/** The embedded log made as a server makes it, filled with the same rows as the central store. */
function fillSqlite(file: string): void {
  const db = openDecisionDatabase(file);
  const fillBegan = performance.now();
  const weekNs = 7n * 86_400n * 1_000_000_000n;
  const now = nowNs();
  const input = readFileSync('rego/gateway/input.json', 'utf8');
  // What the uploads leave in the central store: gateway decisions, every fifth one denied.
  db.prepare(
    `WITH RECURSIVE j(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM j WHERE j < CAST(? AS INTEGER) - 1)
     INSERT INTO decisions (decision_id, ts_ns, path, outcome, event)
     SELECT 'upload-' || j, ? + j * 1000, 'gateway/authz/allow', CASE WHEN j % 5 = 0 THEN 'deny' ELSE 'allow' END,
            json_object('labels', json_object('id', 'replica-' || (j % 7)), 'decision_id', 'upload-' || j, 'path', 'gateway/authz/allow', 'input', json(?), 'result', json(CASE WHEN j % 5 = 0 THEN 'false' ELSE 'true' END))
     FROM j`,
  ).run(ingestEvents, now, input);
  const first = now - weekNs;
  for (let from = 0; from < stored; from += 1_000_000) {
    const to = Math.min(from + 1_000_000, stored) - 1;
    db.prepare(
      `WITH RECURSIVE gs(g) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT g + 1 FROM gs WHERE g < CAST(? AS INTEGER))
       INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event)
       SELECT id, ts, path, outcome, principal, revision,
              json_object('labels', json_object('id', 'replica-' || (g % 7)), 'decision_id', id, 'path', path,
                'input', json_object('subject', json_object('id', principal), 'request', json_object('http', json_object('method', CASE WHEN g % 3 = 0 THEN 'POST' ELSE 'GET' END, 'path', '/orders/' || g))),
                'result', json(CASE WHEN outcome = 'allow' THEN 'true' ELSE 'false' END), 'bundles', json_object('authz', json_object('revision', revision)),
                'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1000000000, 'unixepoch'))
       FROM (SELECT g, 'bench-' || g AS id, CAST(? AS INTEGER) + g * CAST(? AS INTEGER) AS ts,
                    CASE g % 4 WHEN 0 THEN 'gateway/authz/allow' WHEN 1 THEN 'envoy/authz/allow' WHEN 2 THEN 'http/orders/allow' ELSE 'http/admin/allow' END AS path,
                    CASE WHEN g % 100 < 80 THEN 'allow' WHEN g % 100 < 95 THEN 'deny' WHEN g % 100 < 99 THEN 'undefined' ELSE 'error' END AS outcome,
                    'user-' || (g % 50000) AS principal, 'rev-' || (g / 1000000) AS revision
             FROM gs)`,
    ).run(from, to, first, weekNs / BigInt(stored));
    process.stdout.write(`\rfilled ${to + 1} of ${stored} rows`);
  }
  db.close();
  console.log(`\nfill: ${ingestEvents} upload-like + ${stored} rows stored in SQLite in ${((performance.now() - fillBegan) / 1000).toFixed(0)} s; file ${(statSync(file).size / 2 ** 30).toFixed(1)} GiB`);
}

/** Each common filter asked --queries times through GET /v1/decisions: p50 and p95. */
async function measureQueries(base: string): Promise<void> {
  const read = { Authorization: `Bearer ${await idp.token('decisions:read')}` };
  const hourAgo = formatTimestamp(nowNs() - 3_600_000_000_000n);
  const dayAgo = formatTimestamp(nowNs() - 86_400_000_000_000n);
  const filters: Record<string, string> = {
    'latest page': 'limit=100',
    'outcome=deny': 'outcome=deny&limit=100',
    'outcome=error': 'outcome=error&limit=100',
    'path prefix': 'path=http/admin&limit=100',
    principal: 'principal=user-4242&limit=100',
    'principal prefix': 'principal_prefix=user-424&limit=100',
    revision: `revision=rev-${Math.floor(stored / 2 / 1_000_000)}&limit=100`,
    // An older revision (its decisions one stretch of seq far from the newest) with a second filter.
    'older revision + deny': `revision=rev-${Math.floor(stored / 5 / 1_000_000)}&outcome=deny&limit=100`,
    'last hour': `since=${hourAgo}&limit=100`,
    'day window + deny': `since=${dayAgo}&until=${hourAgo}&outcome=deny&limit=100`,
    decision_id: `decision_id=bench-${Math.floor(stored / 2)}`,
    'deny + path + oldest first': 'outcome=deny&path=envoy&order=asc&limit=100',
  };
  let worst = 0;
  for (const [name, query] of Object.entries(filters)) {
    const times: number[] = [];
    for (let i = 0; i < queriesPerFilter; i++) {
      const t0 = performance.now();
      const response = await fetch(`${base}/v1/decisions?${query}`, { headers: read });
      const body = (await response.json()) as { result?: unknown[] };
      times.push(performance.now() - t0);
      if (response.status !== 200 || !body.result?.length) throw new Error(`${name}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
    }
    times.sort((a, b) => a - b);
    const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    worst = Math.max(worst, p(0.95));
    console.log(`query ${name.padEnd(28)} p50 ${p(0.5).toFixed(1).padStart(7)} ms   p95 ${p(0.95).toFixed(1).padStart(7)} ms`);
  }
  console.log(`query p95 over ${stored} stored events (${values.store}): worst ${worst.toFixed(1)} ms — target 100 ms: ${worst <= 100 ? 'met' : 'NOT met'}`);
}
