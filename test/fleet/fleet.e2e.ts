// One audit trail for a fleet, on loopback with real processes: three `verdict run` replicas and one `opa run`
// replica upload their decision logs to one `verdict run` collector backed by a real PostgreSQL. Under load, one
// Verdict replica is killed (SIGKILL) and started again on its decision-log file, and the collector is killed
// and started again; then every decision any replica answered 200 is in the central store exactly once, and
// `verdict decisions search --config` against the collector's store finds decisions of all four.
//
// What is asserted, precisely:
// - every decision_id a replica answered with 200 (the killed one included) is stored exactly once;
// - the only stored decisions no replica answered are the killed replica's in-flight ones (decided and committed
//   to its log, the answer lost with the process), at most as many as it had requests in flight;
// - the Verdict replicas log with durability "sync", so an answered decision is on disk before the answer and
//   survives SIGKILL; with the default durability the last few milliseconds of decisions may be lost on SIGKILL.
// An OPA replica keeps unsent events in memory, so a killed OPA loses them (OPA's own behaviour): the test kills a
// Verdict replica and keeps the OPA replica running, and it asserts exactly-once for the OPA replica's decisions
// across the collector's restart (OPA re-sends a batch the collector did not acknowledge).
//
// Run with `npm run test:fleet` (called from .ci/run); it takes about a minute of five server processes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { startPostgres, type RunningPostgres } from '../pip/fixtures/services.js';
import { spawnServer, waitUntil, type RunningProcess } from '../server/processes.js';
import { TestAdminIdp } from '../server/admin-idp.js';
import { freePort } from '../free-port.js';
import { tempDir } from '../decisionlog/helpers.js';

const idp = new TestAdminIdp();
/** Concurrent requests per replica. */
const loadWorkers = 2;
const passwordEnv = 'VERDICT_FLEET_PG_PASSWORD';
const running: RunningProcess[] = [];
let postgres: RunningPostgres | undefined;

after(async () => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await postgres?.stop();
});

interface Replica {
  name: string;
  kind: 'verdict' | 'opa';
  port: number;
  args: string[];
  process?: RunningProcess;
  /** decision ids answered 200. */
  answered: Set<string>;
}

async function start(replica: { kind: 'verdict' | 'opa'; port: number; args: string[]; process?: RunningProcess }): Promise<void> {
  const child = spawnServer(replica.kind, replica.args);
  running.push(child);
  replica.process = child;
  await waitUntil(child, async () => (await fetch(`http://127.0.0.1:${replica.port}/health`)).ok);
}

function kill(p: RunningProcess | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    p.child.once('exit', () => done());
    p.child.kill('SIGKILL');
  });
}

/** Sends decisions to the replica from `workers` loops until `stop` says so; records the ids answered 200. */
async function load(replica: Replica, stop: () => boolean, workers = loadWorkers): Promise<void> {
  let n = 0;
  const loop = async () => {
    while (!stop()) {
      const i = n++;
      try {
        const response = await fetch(`http://127.0.0.1:${replica.port}/v1/data/fleet/allow`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ input: { replica: replica.name, user: i % 3 ? 'alice' : 'mallory', i } }),
          signal: AbortSignal.timeout(5_000),
        });
        const body = (await response.json()) as { decision_id?: string };
        if (response.status === 200 && body.decision_id) replica.answered.add(body.decision_id);
      } catch {
        // The replica is down (killed, restarting): nothing answered, nothing to find later.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}

test('three Verdict replicas and one OPA replica upload to a Verdict collector on PostgreSQL: every answered decision stored once', { timeout: 240_000 }, async (t) => {
  postgres = await startPostgres();
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE audit');
  await admin.end();
  process.env[passwordEnv] = 'admin-pw';
  const connectionString = `postgresql://verdict@127.0.0.1:${postgres.port}/audit`;

  const dir = tempDir();
  const policy = join(dir, 'policy');
  mkdirSync(policy);
  writeFileSync(join(policy, 'fleet.rego'), 'package fleet\n\ndefault allow := false\n\nallow if input.user == "alice"\n');

  const collectorPort = await freePort();
  const collectorConfig = join(dir, 'collector.yaml');
  writeFileSync(
    collectorConfig,
    `decision_logs:
  store:
    file: ${dir}/collector-own.db
    postgres:
      connection_string: ${connectionString}
      password_env: ${passwordEnv}
${idp.config()}`,
  );
  const collector = { kind: 'verdict' as const, port: collectorPort, args: ['--addr', `127.0.0.1:${collectorPort}`, '--workers', '2', '-c', collectorConfig] as string[], process: undefined as RunningProcess | undefined };
  await start(collector);

  const token = await idp.token('decisions:write');
  const replicaConfig = (name: string, kind: 'verdict' | 'opa') => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      `labels: {replica: ${name}}
services:
  collector:
    url: http://127.0.0.1:${collectorPort}
    response_header_timeout_seconds: 5
    credentials: {bearer: {token: "${token}"}}
decision_logs:
  service: collector
  reporting: {min_delay_seconds: 1, max_delay_seconds: 1}
${kind === 'verdict' ? `  store: {file: ${dir}/${name}.db, durability: sync}\n` : ''}`,
    );
    return file;
  };
  const replicas: Replica[] = [];
  for (const [name, kind] of [['verdict-1', 'verdict'], ['verdict-2', 'verdict'], ['verdict-3', 'verdict'], ['opa-1', 'opa']] as const) {
    const port = await freePort();
    const args = ['--addr', `127.0.0.1:${port}`, ...(kind === 'verdict' ? ['--workers', '1'] : ['--log-level', 'error']), '-c', replicaConfig(name, kind), policy];
    replicas.push({ name, kind, port, args, answered: new Set() });
  }
  await Promise.all(replicas.map((r) => start(r)));

  let stopped = false;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const loads = Promise.all(replicas.map((r) => load(r, () => stopped)));
  const victim = replicas[1];
  await sleep(2_000);
  await kill(victim.process);
  await sleep(1_000);
  await kill(collector.process);
  await sleep(1_500);
  await start(collector);
  await start(victim);
  await sleep(3_000);
  stopped = true;
  await loads;

  for (const r of replicas) assert.ok(r.answered.size > 20, `${r.name} answered ${r.answered.size} decisions`);
  const answered = new Map<string, string>();
  for (const r of replicas) for (const id of r.answered) answered.set(id, r.name);

  const central = new pg.Client({ connectionString: postgres.adminUrl.replace(/\/postgres$/, '/audit') });
  await central.connect();
  try {
    const rows = async () =>
      (await central.query<{ decision_id: string; replica: string }>(`SELECT decision_id, event->'labels'->>'replica' AS replica FROM verdict_decisions`)).rows;
    const deadline = Date.now() + 60_000;
    let stored = await rows();
    while ([...answered.keys()].some((id) => !stored.some((row) => row.decision_id === id)) && Date.now() < deadline) {
      await sleep(1_000);
      stored = await rows();
    }
    t.diagnostic(`answered 200: ${replicas.map((r) => `${r.name} ${r.answered.size}`).join(', ')}; all stored ${Math.round((Date.now() - deadline + 60_000) / 1000)} s after the load stopped`);
    const byId = new Map<string, number>();
    for (const row of stored) byId.set(row.decision_id, (byId.get(row.decision_id) ?? 0) + 1);
    const missing = [...answered].filter(([id]) => !byId.has(id));
    assert.deepEqual(missing, [], 'every decision answered 200 is in the central store');
    assert.deepEqual([...byId].filter(([, n]) => n !== 1), [], 'no decision is stored twice');
    const unanswered = stored.filter((row) => !answered.has(row.decision_id));
    assert.ok(unanswered.every((row) => row.replica === victim.name), `only the killed replica has stored decisions nobody saw answered: ${JSON.stringify(unanswered.slice(0, 5))}`);
    assert.ok(unanswered.length <= loadWorkers, `${unanswered.length} unanswered decisions stored, at most ${loadWorkers} were in flight at the kill`);
    for (const r of replicas) assert.ok(stored.some((row) => row.replica === r.name), `${r.name}'s decisions are stored with its labels`);
  } finally {
    await central.end();
  }

  // The CLI over the collector's configuration finds each replica's decisions.
  for (const r of replicas) {
    const search = spawnSync(process.execPath, [resolve('dist/src/main.js'), 'decisions', 'search', '--config', collectorConfig, '--field', `input.replica=${r.name}`, '--outcome', 'allow', '--limit', '3', '--json'], { encoding: 'utf8' });
    assert.equal(search.status, 0, search.stderr);
    const found = search.stdout.trim().split('\n').map((l) => JSON.parse(l) as { decision_id: string; labels: Record<string, string> });
    assert.equal(found.length, 3, search.stdout);
    for (const event of found) {
      assert.equal(event.labels.replica, r.name);
      assert.equal(answered.get(event.decision_id) ?? victim.name, r.name);
    }
  }
});
