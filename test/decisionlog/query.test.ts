import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { allDecisions, findDecision, queryDecisions, type DecisionFilters } from '../../src/decisionlog/query.js';
import { formatTimestamp } from '../../src/decisionlog/event.js';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { indexTailSql, traceBucketBits } from '../../src/decisionlog/schema.js';
import { TailIndexer } from '../../src/decisionlog/indexing.js';
import { eventually } from '../eventually.js';
import { sampleEvent, tempDir } from './helpers.js';

const t0 = 1_714_557_600_000_000_000n; // 2024-05-01T10:00:00Z
let store: DecisionLogStore;

before(async () => {
  store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  const users = ['alice', 'bob', 'carol'];
  for (let i = 0; i < 30; i++) {
    await store.record(sampleEvent({
      decision_id: `d-${i}`,
      timestamp: formatTimestamp(t0 + BigInt(i) * 60_000_000_000n), // one a minute
      path: i % 3 === 0 ? 'envoy/authz/allow' : i % 3 === 1 ? 'envoy/authzx/allow' : 'http/api',
      input: { subject: { id: users[i % 3] }, request: { http: { method: i % 2 ? 'POST' : 'GET', port: 8000 + (i % 2) } }, tags: ['t', String(i)], admin: i === 7 },
      result: i % 5 !== 0,
      bundles: i < 10 ? { main: { revision: 'v1' } } : { main: { revision: 'v2' }, extra: { revision: i === 20 ? 'x9' : 'v2' } },
    }));
  }
  // The writer indexes the tail once it has nothing to do: the plans below are those of indexed rows.
  await tailIndexed();
});
after(() => store.close());

const ids = (page: { decisions: { event: { decision_id: string } }[] }) => page.decisions.map((d) => d.event.decision_id);

/** The rows past the highest indexed seq: those queries read by their seq range. */
const tailLength = () => store.db.prepare('SELECT count(*) FROM decisions WHERE seq > (SELECT coalesce(max(seq), 0) FROM decision_keys)').pluck().get() as number;

async function tailIndexed(): Promise<void> {
  await eventually('the writer to index the tail', () => tailLength() === 0);
}

test('newest first by default, with a limit', () => {
  assert.deepEqual(ids(queryDecisions(store.db, { limit: 3 })), ['d-29', 'd-28', 'd-27']);
});

test('the cursor pages through everything exactly once, even while new decisions arrive', async () => {
  const seen: string[] = [];
  let page = queryDecisions(store.db, { limit: 7 });
  seen.push(...ids(page));
  await store.record(sampleEvent({ decision_id: 'late' }));
  while (page.next_cursor) {
    page = queryDecisions(store.db, { limit: 7, cursor: page.next_cursor });
    seen.push(...ids(page));
  }
  assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => `d-${29 - i}`));
  store.db.prepare(`DELETE FROM decisions WHERE decision_id = 'late'`).run();
});

test('since and until bound the timestamp (since inclusive, until exclusive), any offset', () => {
  const page = queryDecisions(store.db, { since: '2024-05-01T10:05:00Z', until: '2024-05-01T12:08:00+02:00', order: 'asc' });
  assert.deepEqual(ids(page), ['d-5', 'd-6', 'd-7']);
});

test('path filters by whole-segment prefix', () => {
  assert.equal(queryDecisions(store.db, { path: 'envoy/authz', limit: 100 }).decisions.length, 10);
  assert.equal(queryDecisions(store.db, { path: '/envoy/', limit: 100 }).decisions.length, 20);
  assert.equal(queryDecisions(store.db, { path: 'envoy/authz/allow', limit: 100 }).decisions.length, 10);
  assert.equal(queryDecisions(store.db, { path: 'envoy/auth' }).decisions.length, 0);
});

test('outcome, principal, revision and decision_id filters combine', () => {
  assert.deepEqual(ids(queryDecisions(store.db, { outcome: 'deny', order: 'asc' })), ['d-0', 'd-5', 'd-10', 'd-15', 'd-20', 'd-25']);
  assert.deepEqual(ids(queryDecisions(store.db, { outcome: 'deny', principal: 'bob', order: 'asc' })), ['d-10', 'd-25']);
  assert.equal(queryDecisions(store.db, { revision: 'v1', limit: 100 }).decisions.length, 10);
  assert.equal(queryDecisions(store.db, { revision: 'v2', limit: 100 }).decisions.length, 20);
  assert.deepEqual(ids(queryDecisions(store.db, { revision: 'x9' })), ['d-20']);
  assert.deepEqual(ids(queryDecisions(store.db, { decision_id: 'd-13' })), ['d-13']);
  assert.equal(findDecision(store.db, 'd-13')?.principal, 'bob');
  assert.equal(findDecision(store.db, 'nope'), undefined);
});

test('input field matches compare strings, numbers, booleans and array elements', () => {
  assert.equal(queryDecisions(store.db, { fields: { 'input.request.http.method': 'POST' }, limit: 100 }).decisions.length, 15);
  assert.equal(queryDecisions(store.db, { fields: { 'input.request.http.port': '8001' }, limit: 100 }).decisions.length, 15);
  assert.deepEqual(ids(queryDecisions(store.db, { fields: { 'input.admin': 'true' } })), ['d-7']);
  assert.deepEqual(ids(queryDecisions(store.db, { fields: { 'input.tags.1': '12' } })), ['d-12']);
  assert.deepEqual(ids(queryDecisions(store.db, { fields: { 'input.request.http.method': 'POST', 'input.subject.id': 'alice' }, order: 'asc', limit: 2 })), ['d-3', 'd-9']);
});

test('export order: allDecisions walks every page oldest first', () => {
  assert.deepEqual([...allDecisions(store.db, { principal: 'carol' })].map((d) => d.event.decision_id), ['d-2', 'd-5', 'd-8', 'd-11', 'd-14', 'd-17', 'd-20', 'd-23', 'd-26', 'd-29']);
  assert.deepEqual([...allDecisions(store.db, {}, 28 + 0)].length, 30 - 28);
});

test('bad filters are refused with a message naming the filter', () => {
  const bad: [object, RegExp][] = [
    [{ since: 'yesterday' }, /since must be an RFC3339 timestamp/],
    [{ outcome: 'maybe' }, /outcome must be one of allow, deny/],
    [{ limit: 0 }, /limit must be an integer from 1 to 1000/],
    [{ limit: 5000 }, /limit must be an integer/],
    [{ cursor: 'garbage' }, /cursor "garbage" is not one this server handed out/],
    [{ fields: { 'request.method': 'GET' } }, /must look like input\.key/],
    [{ fields: { input: 'x' } }, /must name a field inside input/],
    [{ path: '/' }, /path must name at least one segment/],
    [{ order: 'sideways' }, /order must be "desc" or "asc"/],
  ];
  for (const [filters, message] of bad) assert.throws(() => queryDecisions(store.db, filters), { code: 'invalid_query', message }, JSON.stringify(filters));
  const cursor = queryDecisions(store.db, { limit: 1 }).next_cursor!;
  assert.throws(() => queryDecisions(store.db, { cursor, order: 'asc' }), /cursor was made for order=desc/);
});

test('principal prefix (indexed) and contains (any case) find partial names', () => {
  assert.equal(queryDecisions(store.db, { principal_prefix: 'ali', limit: 100 }).decisions.length, 10);
  assert.equal(queryDecisions(store.db, { principal_prefix: 'alice', limit: 100 }).decisions.length, 10);
  assert.equal(queryDecisions(store.db, { principal_prefix: 'lice', limit: 100 }).decisions.length, 0);
  assert.equal(queryDecisions(store.db, { principal_contains: 'LIC', limit: 100 }).decisions.length, 10);
  assert.equal(queryDecisions(store.db, { principal_contains: 'o', limit: 100 }).decisions.length, 20, 'bob and carol');
  // Every step's lists in step order, those of the principals in the range opened; the tail by its seq range.
  const plans = plansOf(() => queryDecisions(store.db, { principal_prefix: 'ali' }));
  assert.ok(plans[0].includes('SCAN p USING INDEX decision_principals_step'), JSON.stringify(plans));
  assert.ok(plans[0].some((p) => tailByRange.test(p)), JSON.stringify(plans));
});

test('an exact principal is read from its own lists, each sorted (not every match sorted), from the step the cursor is in', () => {
  const first = queryDecisions(store.db, { principal: 'bob', limit: 3 });
  const plans = plansOf(() => queryDecisions(store.db, { principal: 'bob', limit: 3, cursor: first.next_cursor }));
  assert.ok(plans[0].includes('SEARCH p USING INDEX decision_principals_principal (principal=? AND first_seq<?)'), JSON.stringify(plans));
  assert.ok(plans[0].includes('USE TEMP B-TREE FOR LAST TERM OF ORDER BY'), JSON.stringify(plans));
  assert.ok(plans[0].includes('SEARCH d USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)'), JSON.stringify(plans));
});

test('trace_id finds the decisions of one trace, by the event field or the traceparent header of Envoy and callout inputs', async () => {
  await store.record(sampleEvent({ decision_id: 'traced-1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }));
  await store.record(sampleEvent({ decision_id: 'traced-2', trace_id: '00f067aa0ba902b7a3ce929d0e0e4736' }));
  const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
  await store.record(sampleEvent({ decision_id: 'traced-3', input: { attributes: { request: { http: { headers } } } } }));
  await store.record(sampleEvent({ decision_id: 'traced-4', input: { request: { headers } } }));
  try {
    assert.deepEqual(ids(queryDecisions(store.db, { trace_id: '4BF92F3577B34DA6A3CE929D0E0E4736', order: 'asc' })), ['traced-1', 'traced-3', 'traced-4']);
    // Indexed: however small the scan window, the page is complete and never scan_limited.
    const page = queryDecisions(store.db, { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', limit: 2 }, { scanLimit: 1 });
    assert.deepEqual(ids(page), ['traced-4', 'traced-3']);
    assert.equal(page.scan_limited, undefined);
    assert.deepEqual(ids(queryDecisions(store.db, { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', cursor: page.next_cursor })), ['traced-1']);
    assert.deepEqual(ids(queryDecisions(store.db, { trace_id: '00f067aa0ba902b7a3ce929d0e0e4736' })), ['traced-2']);
    assert.throws(() => queryDecisions(store.db, { trace_id: '4bf9%' }), /trace_id must be 32 hexadecimal digits/);
  } finally {
    store.db.prepare(`DELETE FROM decisions WHERE decision_id LIKE 'traced-%'`).run();
  }
});

test('the trace_id filter is answered from the trace_id index, a seek per bucket of seqs in seq order, as the query is built', () => {
  const cursor = Buffer.from('asc:3').toString('base64url');
  for (const filters of [
    { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', outcome: 'allow', limit: 5 },
    { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', order: 'asc', cursor, since: '2024-05-01T10:05:00Z' },
    { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', path: 'envoy', revision: 'v2' },
  ] as DecisionFilters[]) {
    const plans = plansOf(() => queryDecisions(store.db, filters));
    const plan = plans[plans.length - 1];
    const where = `${JSON.stringify(filters)}: ${JSON.stringify(plans)}`;
    // Bucket and id, both sought (and a bound on seq): a bucket list (the IN subquery) walked in the part's order, no sort of the index's matches.
    assert.ok(plan.some((p) => /^SEARCH k USING (COVERING )?INDEX decision_keys_trace_id \(<expr>=\? AND <expr>=\?( AND seq[<>]=?\?)*\)$/.test(p)), where);
    assert.ok(plan.some((p) => /^LIST SUBQUERY/.test(p)), where);
    const keysRead = plan.slice(plan.findIndex((p) => p.startsWith('CO-ROUTINE s')), plan.indexOf('SCAN s'));
    assert.ok(keysRead.length > 0 && !keysRead.some((p) => /TEMP B-TREE/.test(p)), where);
    assert.ok(plan.some((p) => tailByRange.test(p)), where);
    assert.ok(!plan.some((p) => fullScan.test(p) || /decision_keys_(outcome|path|revision)/.test(p)), where);
  }
});

test('a path prefix is read per stored path and a revision per source, each from its index in seq order, merged', () => {
  // envoy holds two stored paths (envoy/authz/allow, envoy/authzx/allow): an arm each on the path index; the
  // outcome beside them is checked on those rows rather than walked through its own index.
  let page: ReturnType<typeof queryDecisions> | undefined;
  const pathPlans = plansOf(() => (page = queryDecisions(store.db, { path: 'envoy', outcome: 'deny', order: 'asc', limit: 3 })));
  assert.deepEqual(ids(page!), ['d-0', 'd-10', 'd-15']);
  const pathPlan = pathPlans[pathPlans.length - 1];
  assert.equal(pathPlan.filter((p) => /USING INDEX decision_keys_path \(path=\?\)/.test(p)).length, 2, JSON.stringify(pathPlans));
  assert.ok(pathPlan.some((p) => tailByRange.test(p)), JSON.stringify(pathPlans));
  assert.ok(!pathPlan.some((p) => /MULTI-INDEX OR|decision_keys_outcome/.test(p) || fullScan.test(p)), JSON.stringify(pathPlans));

  // d-20 was made under two revisions (v2 and x9): its row is in decision_revisions, the others' in decisions.
  const revisionPlans = plansOf(() => (page = queryDecisions(store.db, { revision: 'v2', outcome: 'deny', limit: 10 })));
  assert.deepEqual(ids(page!), ['d-25', 'd-20', 'd-15', 'd-10']);
  assert.equal(revisionPlans.length, 1);
  assert.ok(revisionPlans[0].some((p) => /USING INDEX decision_keys_revision \(revision=\?\)/.test(p)), JSON.stringify(revisionPlans));
  assert.ok(revisionPlans[0].some((p) => /USING COVERING INDEX decision_revisions_revision \(revision=\?\)/.test(p)), JSON.stringify(revisionPlans));
  assert.ok(revisionPlans[0].some((p) => tailByRange.test(p)), JSON.stringify(revisionPlans));
  assert.ok(!revisionPlans[0].some((p) => /MULTI-INDEX OR|decision_keys_outcome/.test(p) || fullScan.test(p)), JSON.stringify(revisionPlans));
});

/** The tail not indexed yet, read by its seq range (the rows past the highest seq in decision_keys). */
const tailByRange = /^SEARCH d USING INTEGER PRIMARY KEY \(rowid>\?\)$/;
/** A table read whole. */
const fullScan = /^SCAN (d|k|decisions|decision_keys)$/;

/** The query plan (EXPLAIN QUERY PLAN, with the same parameters) of each statement `run` makes on store.db. */
function plansOf(run: () => unknown): string[][] {
  const db = store.db;
  const prepare = db.prepare;
  const plans: string[][] = [];
  db.prepare = ((sql: string) => {
    const statement = prepare.call(db, sql);
    const explain = (...params: unknown[]) => {
      const plan = prepare.call(db, `EXPLAIN QUERY PLAN ${sql}`) as Database.Statement<unknown[]>;
      plans.push((plan.all(...params) as { detail: string }[]).map((p) => p.detail));
    };
    const proxy: Database.Statement = new Proxy(statement, {
      get: (target, key) =>
        key === 'all' || key === 'get'
          ? (...params: unknown[]) => {
              explain(...params);
              return (target[key] as (...p: unknown[]) => unknown).apply(target, params);
            }
          : typeof target[key as keyof typeof target] === 'function'
            ? (...params: unknown[]) => {
                // pluck(), raw()...: the statement itself, whose runs are then explained too.
                const value = (target[key as keyof typeof target] as (...p: unknown[]) => unknown).apply(target, params);
                return value === target ? proxy : value;
              }
            : Reflect.get(target, key),
    });
    return proxy;
  }) as typeof db.prepare;
  try {
    run();
  } finally {
    db.prepare = prepare;
  }
  return plans;
}

test('a time range and a decision id are read from the seq range of the zones that can hold them; an outcome from its own index', () => {
  // d-i was logged at minute i; the 30 rows are one zone, so the range read is that zone's.
  const zones = store.db.prepare('SELECT first_seq, last_seq FROM decision_zones').all();
  assert.equal(zones.length, 1, JSON.stringify(zones));
  const cases: [DecisionFilters, string[], RegExp][] = [
    [{ since: '2024-05-01T10:05:00Z', until: '2024-05-01T10:08:00Z' }, ['d-7', 'd-6', 'd-5'], /^SEARCH k USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)$/],
    [{ decision_id: 'd-13' }, ['d-13'], /^SEARCH k USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)$/],
    [{ outcome: 'deny', since: '2024-05-01T10:05:00Z' }, ['d-25', 'd-20', 'd-15', 'd-10', 'd-5'], /^SEARCH k USING INDEX decision_keys_outcome_deny \(seq>\?\)$/],
    [{ outcome: 'deny' }, ['d-25', 'd-20', 'd-15', 'd-10', 'd-5', 'd-0'], /^SCAN k USING (COVERING )?INDEX decision_keys_outcome_deny$/],
  ];
  for (const [filters, expected, plan] of cases) {
    let page: ReturnType<typeof queryDecisions> | undefined;
    const plans = plansOf(() => (page = queryDecisions(store.db, filters)));
    assert.deepEqual(ids(page!), expected, JSON.stringify(filters));
    const last = plans[plans.length - 1];
    assert.ok(last.some((p) => plan.test(p)), `${JSON.stringify(filters)}: ${JSON.stringify(plans)}`);
    assert.ok(last.some((p) => tailByRange.test(p)), JSON.stringify(plans));
    assert.ok(!last.some((p) => fullScan.test(p)), JSON.stringify(plans));
  }
  // Outside every zone: nothing indexed is read.
  assert.deepEqual(ids(queryDecisions(store.db, { since: '2024-05-02T00:00:00Z' })), []);
  assert.deepEqual(ids(queryDecisions(store.db, { until: '2024-05-01T09:00:00Z' })), []);
  assert.deepEqual(ids(queryDecisions(store.db, { decision_id: 'zz' })), []);
});

test('filters no index answers examine a bounded window per page and say where they stopped', () => {
  // carol is d-2, d-5, ...: a window of 4 rows (newest first: d-29..d-26) holds d-29 and d-26.
  const first = queryDecisions(store.db, { principal_contains: 'carol', limit: 5 }, { scanLimit: 4 });
  assert.deepEqual(ids(first), ['d-29', 'd-26']);
  assert.equal(first.scan_limited, true);
  const seen = [...ids(first)];
  let cursor = first.next_cursor;
  while (cursor) {
    const page = queryDecisions(store.db, { principal_contains: 'carol', limit: 5, cursor }, { scanLimit: 4 });
    seen.push(...ids(page));
    cursor = page.next_cursor;
  }
  assert.deepEqual(seen, ['d-29', 'd-26', 'd-23', 'd-20', 'd-17', 'd-14', 'd-11', 'd-8', 'd-5', 'd-2']);
  // A page that fills inside its window is not scan-limited.
  assert.equal(queryDecisions(store.db, { principal_contains: 'carol', limit: 1 }, { scanLimit: 4 }).scan_limited, undefined);
});

test('empty partial-principal filters are refused by name', () => {
  assert.throws(() => queryDecisions(store.db, { principal_prefix: '' }), /principal_prefix must not be empty/);
  assert.throws(() => queryDecisions(store.db, { principal_contains: '' }), /principal_contains must not be empty/);
});

test('rows not indexed yet (the tail) answer every filter as indexed rows do, page by page and cursor by cursor', async () => {
  await tailIndexed();
  const filters: DecisionFilters[] = [
    {}, { order: 'asc' }, { path: 'envoy' }, { path: 'envoy/authz/allow', outcome: 'deny' }, { path: 'http', order: 'asc' },
    { outcome: 'allow' }, { principal: 'bob' }, { principal_prefix: 'ca', order: 'asc' }, { revision: 'v2' }, { revision: 'x9' },
    { revision: 'v2', path: 'envoy', outcome: 'allow', order: 'asc' }, { decision_id: 'd-13' }, { since: '2024-05-01T10:05:00Z', until: '2024-05-01T10:20:00Z' },
    { principal_contains: 'O' }, { fields: { 'input.request.http.method': 'POST' }, outcome: 'allow' },
  ];
  // Every page of every filter, 4 rows a page and a scan window of 5 rows, with the cursors handed out.
  const walk = () =>
    filters.map((f) => {
      const pages: unknown[] = [];
      let cursor: string | undefined;
      do {
        const page = queryDecisions(store.db, { ...f, limit: 4, ...(cursor ? { cursor } : {}) }, { scanLimit: 5 });
        pages.push({ ids: ids(page), next: page.next_cursor, limited: page.scan_limited });
        cursor = page.next_cursor;
      } while (cursor);
      return pages;
    });
  const indexed = walk();
  assert.equal((indexed[0] as { ids: string[] }[]).flatMap((p) => p.ids).length, 30);
  // The keys of the newest rows taken out (and put back by the rollback), all rows' last: the writer waits meanwhile.
  for (const keep of [17, 0]) {
    store.db.exec('BEGIN IMMEDIATE');
    try {
      store.db.prepare('DELETE FROM decision_keys WHERE seq > ?').run(keep);
      assert.equal(tailLength(), 30 - keep);
      assert.deepEqual(walk(), indexed, `with ${30 - keep} rows in the tail`);
    } finally {
      store.db.exec('ROLLBACK');
    }
  }
});

/** A member of a better-sqlite3 object, its methods bound to it (they refuse to run on a proxy). */
function bound(target: object, name: string | symbol): unknown {
  const value = Reflect.get(target, name, target) as unknown;
  return typeof value === 'function' ? value.bind(target) : value;
}

test('a query reads one snapshot: rows indexed while it runs are found once, under a path that was not indexed when it began', () => {
  const file = join(tempDir(), 'd.db');
  const writer = openDecisionDatabase(file);
  const insert = writer.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, ?, ?, 'allow', NULL, NULL, ?)`);
  for (const [i, path] of ['a/x', 'a/x', 'a/y', 'a/y'].entries()) insert.run(`r-${i}`, t0 + BigInt(i), path, JSON.stringify({ decision_id: `r-${i}` }));
  // Rows 1 and 2 (path a/x) are indexed, rows 3 and 4 (path a/y) are the tail.
  writer.prepare(indexTailSql.replace('WHERE seq > ?', 'WHERE seq > ? AND seq <= 2')).run(0);
  const reader = new Database(file, { readonly: true });
  // The writer indexes the tail right after the query has listed the indexed paths under its prefix, before
  // it reads the rows: as the writer thread's idle step can, between two statements of the reader's.
  let interleaved = false;
  const racing = new Proxy(reader, {
    get(target, name) {
      if (name !== 'prepare') return bound(target, name);
      return (sql: string) => {
        const statement = target.prepare(sql);
        if (!sql.includes('WITH RECURSIVE stored')) return statement;
        return new Proxy(statement, {
          get(s, method) {
            if (method !== 'all') return bound(s, method);
            return (...args: unknown[]) => {
              const rows = s.all(...args);
              writer.prepare(indexTailSql).run(2);
              interleaved = true;
              return rows;
            };
          },
        });
      };
    },
  });
  try {
    assert.deepEqual(ids(queryDecisions(racing, { path: 'a', order: 'asc' })), ['r-0', 'r-1', 'r-2', 'r-3']);
    assert.ok(interleaved, 'the writer indexed the tail in the middle of the query');
    assert.deepEqual(ids(queryDecisions(reader, { path: 'a', order: 'asc' })), ['r-0', 'r-1', 'r-2', 'r-3']);
  } finally {
    reader.close();
    writer.close();
  }
});

test('by principal and principal prefix, the lists of many steps and the tail page as a scan of every row would, alone and with other filters', () => {
  const db = openDecisionDatabase(join(tempDir(), 'd.db'));
  const indexer = new TailIndexer(db, (work) => db.transaction(work).immediate(), { stepRows: 50 });
  const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event) VALUES (?, ?, ?, ?, ?, 'r1', ?)`);
  const principals = ['alice', 'alina', 'bob', null, 'svc-a', 'svc-b', 'alice'];
  const rows: { seq: number; ts: bigint; path: string; outcome: string; principal: string | null }[] = [];
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let i = 0; i < 700; i++) {
    const row = { ts: t0 + BigInt(i) * 1_000_000_000n, path: ['a/b', 'a/c', 'd'][random(3)], outcome: ['allow', 'deny'][random(2)], principal: principals[random(principals.length)] };
    const seq = Number(insert.run(`id-${i}`, row.ts, row.path, row.outcome, row.principal, JSON.stringify({ decision_id: `id-${i}` })).lastInsertRowid);
    rows.push({ seq, ...row });
    // Commits of 37 rows: steps of 50 to 74 rows, and a tail of 34 rows left at the end.
    if (i % 37 === 36) indexer.afterCommit(seq);
  }
  indexer.stop();
  assert.ok(db.prepare('SELECT count(DISTINCT first_seq) FROM decision_principals').pluck().get() as number > 8);
  const at = (s: number) => formatTimestamp(t0 + BigInt(s) * 1_000_000_000n);
  const cases: [DecisionFilters, (r: (typeof rows)[number]) => boolean][] = [
    [{ principal: 'alice' }, (r) => r.principal === 'alice'],
    [{ principal: 'bob', order: 'asc' }, (r) => r.principal === 'bob'],
    [{ principal: 'nobody' }, () => false],
    [{ principal_prefix: 'ali' }, (r) => r.principal?.startsWith('ali') === true],
    [{ principal_prefix: 'svc-', order: 'asc' }, (r) => r.principal?.startsWith('svc-') === true],
    [{ principal: 'alice', path: 'a', outcome: 'deny' }, (r) => r.principal === 'alice' && r.path.startsWith('a/') && r.outcome === 'deny'],
    [{ principal: 'svc-b', revision: 'r1', path: 'd', order: 'asc' }, (r) => r.principal === 'svc-b' && r.path === 'd'],
    [{ principal_prefix: 'al', since: at(100), until: at(400) }, (r) => r.principal?.startsWith('al') === true && r.ts >= t0 + 100_000_000_000n && r.ts < t0 + 400_000_000_000n],
    [{ principal: 'alina', since: at(650), order: 'asc' }, (r) => r.principal === 'alina' && r.ts >= t0 + 650_000_000_000n],
    [{ principal: 'bob', decision_id: 'id-3' }, (r) => r.principal === 'bob' && r.seq === 4],
    [{ principal_prefix: 'al', principal_contains: 'IN', order: 'asc' }, (r) => r.principal === 'alina'],
  ];
  const check = (label: string) => pagesAsScan(db, cases, rows, label);
  check('indexed in steps');
  // The oldest rows deleted (retention): their seqs stay in the lists of their steps, and are not found.
  db.prepare('DELETE FROM decisions WHERE seq <= 120').run();
  rows.splice(0, 120);
  check('after deleting the oldest rows');
  db.close();
});

test('by trace id, a log of several trace index buckets pages as a scan of every row would, alone and with other filters', () => {
  const db = openDecisionDatabase(join(tempDir(), 'd.db'));
  const bucketRows = 2 ** traceBucketBits;
  const indexer = new TailIndexer(db, (work) => db.transaction(work).immediate());
  const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event, trace_id) VALUES (?, ?, ?, ?, ?, 'r1', ?, ?)`);
  const traces = ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7a3ce929d0e0e4736', 'ffffffffffffffffffffffffffffff01'];
  const rows: { seq: number; ts: bigint; path: string; outcome: string; principal: string; trace: string | null }[] = [];
  const count = 2 * bucketRows + 5000;
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      // The three traces here and there in every bucket, the other rows traced (ids of their own) or not.
      const trace = i % 401 === 0 ? traces[0] : i % 1999 === 3 ? traces[1] : i === count - 2 ? traces[2] : i % 3 === 0 ? i.toString(16).padStart(32, 'a') : null;
      const row = { ts: t0 + BigInt(i) * 1_000_000_000n, path: ['a/b', 'a/c', 'd'][i % 3], outcome: i % 7 ? 'allow' : 'deny', principal: `p-${i % 5}`, trace };
      const seq = Number(insert.run(`id-${i}`, row.ts, row.path, row.outcome, row.principal, JSON.stringify({ decision_id: `id-${i}` }), trace).lastInsertRowid);
      rows.push({ seq, ...row });
    }
  })();
  // Indexed as the writer does, in steps of 4,096 rows; the last rows are left in the tail.
  indexer.afterCommit(count - 1000);
  indexer.stop();
  assert.ok((db.prepare('SELECT max(seq) FROM decision_keys').pluck().get() as number) > 2 * bucketRows);
  const at = (s: number) => formatTimestamp(t0 + BigInt(s) * 1_000_000_000n);
  const cases: [DecisionFilters, (r: (typeof rows)[number]) => boolean][] = [
    [{ trace_id: traces[0] }, (r) => r.trace === traces[0]],
    [{ trace_id: traces[0].toUpperCase(), order: 'asc' }, (r) => r.trace === traces[0]],
    [{ trace_id: traces[1], outcome: 'allow' }, (r) => r.trace === traces[1] && r.outcome === 'allow'],
    [{ trace_id: traces[2] }, (r) => r.trace === traces[2]],
    [{ trace_id: 'abababababababababababababababab' }, () => false],
    [{ trace_id: traces[0], since: at(bucketRows - 3000), until: at(2 * bucketRows + 10) }, (r) => r.trace === traces[0] && r.ts >= t0 + BigInt(bucketRows - 3000) * 1_000_000_000n && r.ts < t0 + BigInt(2 * bucketRows + 10) * 1_000_000_000n],
    [{ trace_id: traces[0], path: 'a', order: 'asc' }, (r) => r.trace === traces[0] && r.path.startsWith('a/')],
    [{ trace_id: traces[0], principal: 'p-2' }, (r) => r.trace === traces[0] && r.principal === 'p-2'],
    [{ trace_id: traces[0], revision: 'r1', order: 'asc' }, (r) => r.trace === traces[0]],
    [{ trace_id: traces[1], decision_id: 'id-20993' }, (r) => r.trace === traces[1] && r.seq === 20994],
  ];
  pagesAsScan(db, cases, rows, 'three buckets');
  db.close();
});

/**
 * Each case's every page, 7 rows a page through the cursors handed out, gives the seqs of the rows its predicate
 * keeps, in the case's order: what a scan of every row would answer.
 */
function pagesAsScan<R extends { seq: number }>(db: Database.Database, cases: [DecisionFilters, (row: R) => boolean][], rows: R[], label: string): void {
  for (const [filters, keep] of cases) {
    const seqs: number[] = [];
    let cursor: string | undefined;
    do {
      const page = queryDecisions(db, { ...filters, limit: 7, ...(cursor ? { cursor } : {}) });
      seqs.push(...page.decisions.map((d) => d.seq));
      cursor = page.next_cursor;
    } while (cursor);
    const expected = rows.filter(keep).map((r) => r.seq);
    assert.deepEqual(seqs, filters.order === 'asc' ? expected : expected.reverse(), `${label}: ${JSON.stringify(filters)}`);
  }
}
