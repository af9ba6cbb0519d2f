// Decision replay throughput: BENCH_DECISIONS logged decisions on the gateway policy (rego/gateway, inputs varied
// by caller, method, path and tenant), replayed against the same policy with a changed role binding. Prints
// decisions replayed per second, how many changed, and memory while replaying (RSS and heap, sampled), which
// stays flat because decisions are read page by page.
//   npm run bench:replay                 (BENCH_DECISIONS=1000000)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBundle } from '../src/bundle/bundle.js';
import { DecisionLogStore } from '../src/decisionlog/store.js';
import { formatTimestamp, newDecisionId, nowNs, type DecisionEvent } from '../src/decisionlog/event.js';
import { defaultCompiler } from '../src/engine/opa-compiler.js';
import { ReplayCandidate } from '../src/replay/replay.js';
import { sqliteQueries } from '../src/decisionlog/queries.js';

const total = Number(process.env.BENCH_DECISIONS ?? 1_000_000);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const gateway = join(repoRoot, 'rego/gateway');

const policy = readFileSync(join(gateway, 'authz.rego'));
const data = JSON.parse(readFileSync(join(gateway, 'data.json'), 'utf8')) as Record<string, unknown>;
const sample = (JSON.parse(readFileSync(join(gateway, 'input.json'), 'utf8')) as { input: Record<string, any> }).input;

function templates(): DecisionEvent[] {
  const subjects = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.com'];
  const methods = ['GET', 'POST', 'PUT', 'DELETE'];
  const paths = ['/v1/projects/verdict/builds', '/v1/projects/verdict', '/v1/projects/other/builds/7', '/admin/users'];
  return Array.from({ length: 400 }, (_, i) => {
    const input = structuredClone(sample);
    input.token.claims.sub = subjects[i % subjects.length];
    input.request.method = methods[(i >> 2) % methods.length];
    input.request.path = paths[(i >> 4) % paths.length];
    input.request.headers['x-tenant-id'] = i % 17 === 0 ? 'other' : 'acme';
    return {
      labels: { id: 'bench', version: '0.1.0' },
      decision_id: '',
      path: 'gateway/authz/allow',
      input,
      result: i % 3 !== 0,
      bundles: { gateway: { revision: 'r1' } },
      timestamp: '',
    };
  });
}

function bundle(revision: string, bindings: Record<string, unknown>) {
  return parseBundle('gateway', [
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision, roots: ['gateway'] })) },
    { path: 'gateway/authz.rego', data: policy },
    { path: 'gateway/data.json', data: Buffer.from(JSON.stringify({ ...data, ...bindings })) },
  ]);
}

const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-replay-'));
try {
  const store = new DecisionLogStore({ file: join(dir, 'decisions.db') });
  const pool = templates();
  const writeStarted = performance.now();
  for (let i = 0; i < total; i++) {
    await store.record({ ...pool[i % pool.length]!, decision_id: newDecisionId(), timestamp: formatTimestamp(nowNs()) });
  }
  await store.flush();
  console.log(`logged ${total.toLocaleString('en-US')} decisions in ${((performance.now() - writeStarted) / 1000).toFixed(1)} s`);

  // The candidate: the gateway policy with the first per-user role binding removed.
  const bindings = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, k === 'role_bindings' && v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).slice(1)) : v]));
  const candidate = await ReplayCandidate.build(defaultCompiler(), [bundle('r2', bindings)]);
  let rssMax = 0;
  let heapMax = 0;
  const rssStart = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssMax = Math.max(rssMax, m.rss);
    heapMax = Math.max(heapMax, m.heapUsed);
  }, 50);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const report = await candidate.replay(sqliteQueries(store.db), {}, undefined);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  await store.close();
  const mb = (n: number) => (n / 1048576).toFixed(0);
  console.log(
    `replayed ${report.replayed.toLocaleString('en-US')} of ${report.considered.toLocaleString('en-US')} in ${seconds.toFixed(1)} s: ` +
      `${Math.round(report.replayed / seconds).toLocaleString('en-US')} decisions/s, ${((used.user + used.system) / report.considered).toFixed(1)} µs CPU each; ` +
      `${report.changed.toLocaleString('en-US')} changed (${Object.entries(report.by_transition).map(([t, n]) => `${t} ${n}`).join(', ')})`,
  );
  console.log(`memory while replaying: RSS ${mb(rssStart)} MB at start, ${mb(rssMax)} MB peak; heap peak ${mb(heapMax)} MB (node ${process.version})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
