// Query speed of the embedded decision log on a large file: one page (100 decisions, newest first) per indexed
// filter, the median of many runs, on a log filled and indexed as the writer does (steps of indexStepRows rows).
// npm run bench:decisionlog:queries -- [options]. With --baseline DIR the same log is built and queried with another build's dist/ as well, alternating, so both
// see the same machine load; each build reads a file of its own schema.
//   node dist/scripts/bench-decision-queries.js [--rows 1000000] [--runs 31] [--baseline DIR] [--trace-ids sparse]
// --trace-ids: random (every row a trace id of its own, as W3C traceparent headers carry), constant (one id for all
// rows), sparse (one row in 1,000 an id of its own; the default) or none.
// Events are small (about 300 bytes) so a million rows fit in a few hundred MB; the query plans do not depend on
// the event's size. Each build's line says how long writing the log took and the CPU its index steps used a row:
// 997 principals make about a thousand lists a step, which is where the principals' lists' layout shows. The index
// steps' CPU is given for the whole log and for its last tenth: a step whose cost grows with the log shows there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type Database from 'better-sqlite3';
import { randomTraceId, traceIdMode, traceIdModes } from './bench-trace-ids.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '31' }, baseline: { type: 'string' }, 'trace-ids': { type: 'string', default: 'sparse' } } });
const traceIds = traceIdMode(values['trace-ids'], traceIdModes);
const rows = Number(values.rows);
const runs = Number(values.runs);
if (!Number.isInteger(rows) || rows < 10_000) throw new Error('--rows takes a whole number of at least 10000');
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive whole number');

interface Build {
  name: string;
  db: Database.Database;
  query: (db: Database.Database, filters: object) => { decisions: unknown[] };
  /** µs of CPU the index steps took while the log was written (0 for builds that indexed inside each batch). */
  stepCpuUs: number;
  /** The same for the steps after the first nine tenths of the rows. */
  lastTenthCpuUs: number;
}

const t0 = 1_714_557_600_000_000_000n; // 2024-05-01T10:00:00Z
/** Events 3 ms apart, ids made as the server makes them (their millisecond first). */
const tsOf = (i: number) => t0 + BigInt(i) * 3_000_000n;
const idOf = (i: number) => {
  const hex = (Number(tsOf(i) / 1_000_000n)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7${(i % 4096).toString(16).padStart(3, '0')}-8000-${i.toString(16).padStart(12, '0')}`;
};
const iso = (i: number) => new Date(Number(tsOf(i) / 1_000_000n)).toISOString();
const outcomes = ['allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'deny', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'error'];
const paths = ['envoy/authz/allow', 'gateway/authz/allow', 'httpapi/authz/allow'];
const constantTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
/** Row i's trace id, as --trace-ids asks. */
function traceOf(i: number): string | null {
  switch (traceIds) {
    case 'random':
      return randomTraceId(i);
    case 'constant':
      return constantTraceId;
    case 'sparse':
      return i % 1000 === 0 ? i.toString(16).padStart(32, '0') : null;
    case 'none':
      return null;
  }
}

async function open(dist: string, name: string, dir: string): Promise<Build> {
  const load = (module: string) => import(pathToFileURL(join(dist, 'src/decisionlog', module)).href);
  const { openDecisionDatabase } = await load('open.js');
  const { TailIndexer } = await load('indexing.js');
  const { queryDecisions } = await load('query.js');
  const db = openDecisionDatabase(join(dir, `${name}.db`)) as Database.Database;
  const insert = db.prepare(`INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event, trace_id) VALUES (?, ?, ?, ?, ?, 'rev-1', ?, ?)`);
  const indexer = new TailIndexer(db, (work: () => void) => db.transaction(work).immediate());
  const filler = 'x'.repeat(200);
  const batch = 2048;
  /** CPU of the index steps run after the batches' commits (their own commits and checkpoints included). */
  let stepCpuUs = 0;
  let lastTenthCpuUs = 0;
  for (let start = 0; start < rows; start += batch) {
    const last = db.transaction(() => {
      let last = 0;
      for (let i = start; i < Math.min(start + batch, rows); i++) {
        last = Number(insert.run(idOf(i), tsOf(i), paths[i % 3], outcomes[i % 20], `user-${i % 997}`, `{"decision_id":"${idOf(i)}","pad":"${filler}"}`, traceOf(i)).lastInsertRowid);
      }
      // Builds before the index step ran after the commit indexed inside the batch's transaction.
      indexer.afterInsert?.(last);
      return last;
    })();
    const before = process.cpuUsage();
    indexer.afterCommit?.(last);
    const spent = process.cpuUsage(before);
    stepCpuUs += spent.user + spent.system;
    if (start >= at(0.9)) lastTenthCpuUs += spent.user + spent.system;
  }
  indexer.indexTail();
  // No idle step while the queries run: the log is indexed whole.
  indexer.stop();
  return { name, db, query: queryDecisions, stepCpuUs, lastTenthCpuUs };
}

const at = (fraction: number) => Math.floor(rows * fraction);
const cases: [string, object][] = [
  ['newest page', {}],
  ['time range, recent hour', { since: iso(at(0.99)), until: iso(at(0.995)) }],
  ['time range, oldest 1%', { since: iso(0), until: iso(at(0.01)) }],
  ['time range, middle, asc', { since: iso(at(0.5)), until: iso(at(0.6)), order: 'asc' }],
  ['decision_id, newest', { decision_id: idOf(rows - 5), limit: 1 }],
  ['decision_id, middle', { decision_id: idOf(at(0.5) + 7), limit: 1 }],
  ['decision_id, oldest', { decision_id: idOf(3), limit: 1 }],
  ['decision_id, absent', { decision_id: 'ffffffff-ffff-7fff-8fff-ffffffffffff', limit: 1 }],
  ['path', { path: 'gateway' }],
  ['outcome deny', { outcome: 'deny' }],
  ['outcome error + time range', { outcome: 'error', since: iso(at(0.2)), until: iso(at(0.3)) }],
  ['principal', { principal: 'user-42' }],
  ['principal + time range', { principal: 'user-42', since: iso(at(0.4)), until: iso(at(0.45)) }],
  ['principal, page at 30% (cursor)', { principal: 'user-42', cursor: Buffer.from(`desc:${at(0.3)}`).toString('base64url') }],
  ['principal, oldest first', { principal: 'user-42', order: 'asc' }],
  ['principal + path + outcome', { principal: 'user-42', path: 'gateway', outcome: 'deny' }],
  ['principal prefix (8 principals)', { principal_prefix: 'user-99' }],
  ['revision', { revision: 'rev-1' }],
  // A trace of the middle of the log (with constant ids, the newest page of every row; with none, no row).
  ['trace_id', { trace_id: traceOf(at(0.5) - (at(0.5) % 1000)) ?? constantTraceId }],
  ['trace_id, oldest first', { trace_id: traceOf(at(0.5) - (at(0.5) % 1000)) ?? constantTraceId, order: 'asc' }],
];

const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-queries-'));
try {
  const here = resolve(fileURLToPath(import.meta.url), '../..');
  const builds: Build[] = [];
  for (const [name, dist] of [['this build', here], ...(values.baseline ? [['baseline', resolve(values.baseline)]] : [])] as [string, string][]) {
    const started = performance.now();
    const build = await open(dist, name.replace(' ', '-'), dir);
    builds.push(build);
    console.log(
      `${name} (${traceIds} trace ids): ${rows.toLocaleString('en-US')} rows written and indexed in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `index steps ${(build.stepCpuUs / rows).toFixed(2)} µs of CPU a row (last tenth ${(build.lastTenthCpuUs / (rows - at(0.9))).toFixed(2)})`,
    );
  }
  console.log(`median µs per page of ${runs} runs (the builds alternating):`);
  console.log(`${'query'.padEnd(30)}${builds.map((b) => b.name.padStart(14)).join('')}   rows`);
  for (const [label, filters] of cases) {
    const times = builds.map(() => [] as number[]);
    const found = builds.map(() => 0);
    for (let r = 0; r < runs; r++) {
      builds.forEach((b, k) => {
        const started = performance.now();
        found[k] = b.query(b.db, filters).decisions.length;
        times[k].push((performance.now() - started) * 1000);
      });
    }
    if (found.some((n) => n !== found[0])) throw new Error(`${label}: the builds found ${found.join(' and ')} decisions`);
    const median = (t: number[]) => t.sort((a, b) => a - b)[t.length >> 1];
    console.log(`${label.padEnd(30)}${times.map((t) => median(t).toFixed(0).padStart(14)).join('')}   ${found[0]}`);
  }
  for (const b of builds) b.db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
