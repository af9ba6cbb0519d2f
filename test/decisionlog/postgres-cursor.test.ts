// A cursor walk over the central PostgreSQL store (`seq > last`, as `verdict decisions tail --follow` and the
// export read it) never skips a decision, whatever commits while it walks, on a real PostgreSQL on loopback. The
// interleavings are forced, not waited for: one collector's batch is held between its INSERT and its COMMIT while
// another collector stores a batch; a page's query is held between listing the stored paths under its path
// filter and reading the rows while decisions under a new path commit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type RunningPostgres } from '../pip/fixtures/services.js';
import { PostgresDecisionStore } from '../../src/decisionlog/postgres/store.js';
import { postgresStoreOptions } from '../../src/decisionlog/postgres/config.js';
import { everyDecision } from '../../src/decisionlog/queries.js';
import type { ExportFilters } from '../../src/decisionlog/queries.js';
import type { DecisionEvent } from '../../src/decisionlog/event.js';
import { sampleEvent } from './helpers.js';

let server: RunningPostgres;
const password = 'admin-pw';
const stores: PostgresDecisionStore[] = [];

before(async () => {
  server = await startPostgres();
});
after(async () => {
  for (const store of stores) await store.close().catch(() => undefined);
  await server?.stop();
});

async function freshDatabase(): Promise<string> {
  const name = `d${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return `postgresql://verdict@127.0.0.1:${server.port}/${name}`;
}

/** A collector's store on the database: two of them are two collectors, each with its own connections. */
async function collector(connectionString: string): Promise<PostgresDecisionStore> {
  const store = new PostgresDecisionStore(postgresStoreOptions({ connection_string: connectionString, password_env: 'TEST_PG_PASSWORD' }, { TEST_PG_PASSWORD: password }));
  await store.open();
  stores.push(store);
  return store;
}

const events = (n: number, path = 'app/one'): DecisionEvent[] => Array.from({ length: n }, () => sampleEvent({ path }));

/** Walks on from `after` (the last seq seen) to the end, as `tail --follow` does at each poll; the seqs seen. */
async function walk(store: PostgresDecisionStore, seen: Map<string, number>, after: number | undefined, filters: ExportFilters = {}): Promise<number | undefined> {
  let last = after;
  for await (const decision of everyDecision(store, filters, after)) {
    assert.ok(last === undefined || decision.seq > last, `seq ${decision.seq} after ${last}`);
    seen.set(decision.event.decision_id, decision.seq);
    last = decision.seq;
  }
  return last;
}

/** Settles once `store`'s next ingest statement has answered, holding its batch there (before its COMMIT) until release(). */
function holdAfterInsert(store: PostgresDecisionStore): { held: Promise<void>; release: () => void } {
  let reached!: () => void;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  const connect = store.pool.connect.bind(store.pool) as () => Promise<pg.PoolClient>;
  let armed = true;
  (store.pool as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
    const client = await connect();
    const query = client.query.bind(client) as (config: unknown) => Promise<unknown>;
    (client as unknown as { query: (config: unknown) => Promise<unknown> }).query = async (config) => {
      const result = await query(config);
      if (armed && (config as { name?: string }).name === 'verdict_ingest') {
        armed = false;
        reached();
        await gate;
      }
      return result;
    };
    return client;
  };
  return { held, release };
}

test('a batch held open between its INSERT and COMMIT while another collector commits one: a walk from its last seq still finds every decision, in seq order', async () => {
  const url = await freshDatabase();
  const [held, other] = [await collector(url), await collector(url)];
  const before = events(3);
  await other.ingest(before);
  // More than one INSERT statement's worth, so the batch has a transaction to hold open with every build.
  const big = events(5001);
  const small = events(3);
  const hold = holdAfterInsert(held);
  const bigDone = held.ingest(big);
  await hold.held;
  // The other collector's batch, drawn after the held one's seqs, commits first.
  await other.ingest(small);

  // A walk from the start, and `tail --follow` from the newest seq, while the held batch is in flight.
  const seen = new Map<string, number>();
  const last = await walk(other, seen, undefined);
  const followed = new Map<string, number>();
  const newest = await other.newestSeq();
  // A decision id names one decision: its lookup is not held back by a batch in flight.
  assert.equal((await other.find(small[0].decision_id))?.event.decision_id, small[0].decision_id);
  hold.release();
  await bigDone;
  await walk(other, seen, last);
  await walk(other, followed, newest);

  const all = [...before, ...big, ...small].map((e) => e.decision_id);
  const missing = all.filter((id) => !seen.has(id));
  assert.equal(missing.length, 0, `${missing.length} of ${all.length} decisions never handed out by the walk`);
  assert.equal(seen.size, all.length);
  const later = [...big, ...small].map((e) => e.decision_id);
  const unfollowed = later.filter((id) => !followed.has(id));
  assert.equal(unfollowed.length, 0, `${unfollowed.length} of ${later.length} decisions never handed out by tail --follow from newestSeq`);
});

test('decisions under a new path committed while a path-filtered page is being read: the walk finds them all', async () => {
  const url = await freshDatabase();
  const [reader, writer] = [await collector(url), await collector(url)];
  const before = events(3, 'app/one');
  await writer.ingest(before);
  // A decision under a path the page's listing of paths did not have, then a later one under a path it had.
  const newPath = events(1, 'app/two');
  const oldPath = events(1, 'app/one');

  const original = pg.Client.prototype.query;
  let armed = true;
  // Once the page's listing of the stored paths under `app` has answered, the writer commits both before the
  // page reads on.
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text?: string };
    const text = typeof config === 'string' ? config : config?.text;
    if (!armed || !text?.includes('WITH RECURSIVE stored(path)')) return (original as (...a: unknown[]) => unknown).apply(this, args);
    armed = false;
    const callback = args.find((a) => typeof a === 'function') as ((err: Error | null, res?: unknown) => void) | undefined;
    const values = Array.isArray(args[1]) ? args[1] : undefined;
    const answered = ((original as (...a: unknown[]) => Promise<unknown>).call(this, config, values)).then(async (res) => {
      await writer.ingest(newPath);
      await writer.ingest(oldPath);
      return res;
    });
    if (!callback) return answered;
    answered.then((res) => callback(null, res), (err: Error) => callback(err));
    return undefined;
  } as typeof pg.Client.prototype.query;

  const seen = new Map<string, number>();
  let last: number | undefined;
  try {
    last = await walk(reader, seen, undefined, { path: 'app' });
  } finally {
    pg.Client.prototype.query = original;
  }
  assert.equal(armed, false, 'the page listed the stored paths');
  await walk(reader, seen, last, { path: 'app' });

  const all = [...before, ...newPath, ...oldPath].map((e) => e.decision_id);
  assert.deepEqual(all.filter((id) => !seen.has(id)), [], 'decisions never handed out by the walk');
});
