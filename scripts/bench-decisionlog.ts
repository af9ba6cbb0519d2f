// Sustained insert rate of the decision-log store with realistic 1–2 KB events (an Envoy-style input with headers
// and a bearer token, an object result, bundle revision), in the layouts a server has:
//   default, sync     one store and its own writer thread, default or sync durability
//   sync2             two processes with a writer each on one file (two worker processes), sync
//   threads, threads-sync  two worker threads of one process feeding the one shared writer (shared-writer.ts);
//                     threads-sync runs twice, without and with the writer's wait for a group (groupWaitMs)
// Each line gives events/s, CPU µs per event (in all, and by thread), the writer's commits per second and, in
// sync modes, how long record() waited for its commit (p50, p99).
//   npm run bench:decisionlog            (BENCH_SECONDS=5 per mode, BENCH_CONCURRENCY=256 in flight in sync modes,
//                                         BENCH_MODES=default,sync,sync2,threads,threads-sync to choose)
//   npm run bench:decisionlog -- --baseline DIR   default and sync against another build's dist/ directory, in
//                                         interleaved rounds (BENCH_ROUNDS=2) so both see the same machine load
import { spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type * as StoreModule from '../src/decisionlog/store.js';
import type { Durability } from '../src/decisionlog/store.js';
import { SharedDecisionWriter, writerHandleTransfer, type DecisionWriterHandle } from '../src/decisionlog/shared-writer.js';
import { formatTimestamp, newDecisionId, nowNs, type DecisionEvent } from '../src/decisionlog/event.js';
import { threadsCpuNs } from './process-tree.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 256);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const allModes = ['default', 'sync', 'sync2', 'threads', 'threads-sync'];
const modes = new Set((process.env.BENCH_MODES ?? allModes.join(',')).split(','));
for (const mode of modes) if (!allModes.includes(mode)) throw new Error(`BENCH_MODES: unknown mode ${JSON.stringify(mode)} (${allModes.join(', ')})`);
const { values } = isMainThread && !process.env.BENCH_CHILD_FILE ? parseArgs({ options: { baseline: { type: 'string' } } }) : { values: {} as { baseline?: string } };

function token(sub: string): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k1' })}.${part({ sub, iss: 'https://idp.example.com', aud: 'api', exp: 1900000000, scope: 'orders:read orders:write' })}.${'s'.repeat(342)}`;
}

function templates(): DecisionEvent[] {
  const methods = ['GET', 'POST', 'PUT', 'DELETE'];
  return Array.from({ length: 500 }, (_, i) => ({
    labels: { id: 'bench-instance-0001', version: '0.1.0' },
    decision_id: '',
    path: 'envoy/authz/allow',
    input: {
      attributes: {
        source: { address: { socketAddress: { address: `10.1.${i % 250}.${i % 200}`, portValue: 40000 + i } } },
        destination: { address: { socketAddress: { address: '10.0.0.5', portValue: 8080 } } },
        request: {
          http: {
            id: String(1e12 + i),
            method: methods[i % 4],
            path: `/api/v1/orders/${i}/items?page=${i % 7}`,
            host: 'orders.internal.example.com',
            scheme: 'https',
            protocol: 'HTTP/1.1',
            headers: {
              ':authority': 'orders.internal.example.com',
              ':method': methods[i % 4],
              ':path': `/api/v1/orders/${i}/items`,
              accept: 'application/json',
              'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
              authorization: `Bearer ${token(`user-${i % 97}`)}`,
              'x-request-id': `6f1c2e0a-${String(i).padStart(4, '0')}-4a51-9a8e-2b7d3c9e1f00`,
              'x-forwarded-for': `203.0.113.${i % 250}`,
            },
          },
        },
      },
      parsed_path: ['api', 'v1', 'orders', String(i), 'items'],
    },
    result: { allowed: i % 10 !== 0, headers: { 'x-ext-authz-check': 'ok' }, response_headers_to_add: {}, http_status: i % 10 ? 200 : 403 },
    requested_by: `10.1.${i % 250}.${i % 200}:${40000 + i}`,
    timestamp: '',
    bundles: { authz: { revision: 'rev-2024-05-01' } },
    metrics: { timer_rego_query_eval_ns: 41000 + i, timer_server_handler_ns: 90000 + i },
  }));
}

/** CPU ns used by each thread of this process, by thread id, from Linux's /proc; empty elsewhere. */
function threadCpu(): Map<string, number> {
  return threadsCpuNs('self');
}

/** This thread's id, as /proc names it (Linux); '' elsewhere. */
function threadId(): string {
  try {
    return readlinkSync('/proc/thread-self').split('/').pop()!;
  } catch {
    return '';
  }
}

/**
 * µs of CPU per event between two readings: on the threads that recorded the events (event loops), on the busiest
 * other thread (the writer thread) and on all the rest (the garbage collector's helpers, libuv's pool).
 */
function threadSplit(before: Map<string, number>, after: Map<string, number>, events: number, loops: string[]): string {
  if (after.size === 0) return '';
  const us = (tid: string) => ((after.get(tid) ?? 0) - (before.get(tid) ?? 0)) / 1000 / events;
  const others = [...after.keys()].filter((tid) => !loops.includes(tid)).map(us).sort((a, b) => b - a);
  const loopUs = loops.reduce((n, tid) => n + us(tid), 0);
  return `: ${loopUs.toFixed(1)} event loop${loops.length > 1 ? 's' : ''}, ${(others[0] ?? 0).toFixed(1)} writer, ${others.slice(1).reduce((a, b) => a + b, 0).toFixed(1)} others`;
}

interface Measured {
  written: number;
  elapsed: number;
  /** sync: each record()'s wait, ms. */
  latencies: number[];
  /** The writer's transactions during the run. */
  commits: number;
  /** The thread that recorded the events. */
  tid: string;
}

/**
 * Records events for `seconds` with a store made by `open`; sync durability with `inFlight` records waiting at a
 * time, default as fast as back-pressure lets events in.
 */
async function run(open: () => StoreModule.DecisionLogStore, inFlight: number): Promise<Measured & { close: () => Promise<void> }> {
  const store = open();
  const pool = templates();
  // A server hands the store each input's text as the request carried it, and the event time it formatted.
  const inputs = pool.map((e) => new TextEncoder().encode(JSON.stringify(e.input)));
  let made = 0;
  const record = () => {
    const i = made++ % pool.length;
    const tsNs = nowNs();
    return store.record({ ...pool[i], decision_id: newDecisionId(), timestamp: formatTimestamp(tsNs) }, { tsNs, inputText: inputs[i] });
  };
  // A first commit, so the writer thread is running before the clock starts.
  await record();
  await store.flush();
  const commitsBefore = store.writerCommits ?? NaN;
  const writtenBefore = store.status().written;
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  if (store.durability === 'sync') {
    // Like a server with `inFlight` requests in flight, each answered only after its commit.
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await record();
        latencies.push(performance.now() - t);
      }
    }));
  } else {
    while (performance.now() < deadline) {
      for (let i = 0; i < 100; i++) await record();
    }
    await store.flush();
  }
  const elapsed = (performance.now() - started) / 1000;
  const written = store.status().written - writtenBefore;
  const commits = (store.writerCommits ?? NaN) - commitsBefore;
  return { written, elapsed, latencies, commits, tid: threadId(), close: () => store.close() };
}

function percentiles(latencies: number[]): string {
  if (latencies.length === 0) return '';
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(2);
  return `  commit wait p50 ${p(0.5)} ms p99 ${p(0.99)} ms`;
}

function tempFile(): { file: string; done: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-decisionlog-'));
  const file = join(dir, 'decisions.db');
  return {
    file,
    done: () => {
      const bytes = statSync(file).size;
      rmSync(dir, { recursive: true, force: true });
      return bytes;
    },
  };
}

/** One line of results: `results` ran at the same time (threads or processes), CPU read around all of them. */
function report(label: string, results: Measured[], cpuNs: number, split: string, bytes: number): void {
  const written = results.reduce((n, r) => n + r.written, 0);
  const elapsed = Math.max(...results.map((r) => r.elapsed));
  // A baseline build that does not report its commits shows none.
  const commits = Math.max(...results.map((r) => r.commits));
  const perCommit = Number.isFinite(commits) ? `, ${Math.round(commits / elapsed)} commits/s, ${(written / Math.max(commits, 1)).toFixed(0)} events/commit` : '';
  const latencies = results.flatMap((r) => r.latencies);
  console.log(
    `${label.padEnd(22)} ${Math.round(written / elapsed).toLocaleString('en-US').padStart(8)} events/s  (${written} in ${elapsed.toFixed(1)} s, ` +
      `${Math.round(bytes / written)} B/event on disk${perCommit})` +
      `  CPU µs/event ${(cpuNs / 1000 / written).toFixed(1)}${split}${percentiles(latencies)}`,
  );
}

/** One store with its own writer thread, in this thread. */
async function measureOne(store: typeof StoreModule, durability: Durability, label: string): Promise<void> {
  const { file, done } = tempFile();
  const cpu = process.cpuUsage();
  const threads = threadCpu();
  const { close, ...measured } = await run(() => new store.DecisionLogStore({ file, durability }), concurrency);
  const used = process.cpuUsage(cpu);
  // Read before the store closes: its writer thread ends with it.
  const split = threadSplit(threads, threadCpu(), measured.written, [measured.tid]);
  await close();
  report(label, [measured], (used.user + used.system) * 1000, split, done());
}

/** Two worker threads of this process, each with a store on one shared writer: a threaded server's layout. */
async function measureThreads(durability: Durability, groupWaitMs?: number): Promise<void> {
  const { file, done } = tempFile();
  const writer = new SharedDecisionWriter({ file, durability, ...(groupWaitMs !== undefined ? { groupWaitMs } : {}) });
  const cpu = process.cpuUsage();
  const threads = threadCpu();
  const results = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<Measured>((resolve, reject) => {
          const handle = writer.handle();
          const worker = new Worker(new URL(import.meta.url), { workerData: { handle, inFlight: concurrency / 2 }, transferList: writerHandleTransfer(handle) });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  const used = process.cpuUsage(cpu);
  const written = results.reduce((n, r) => n + r.written, 0);
  const split = threadSplit(threads, threadCpu(), written, results.map((r) => r.tid));
  await writer.close();
  report(`${durability} ×2 threads${groupWaitMs === 0 ? ', no wait' : ''}`, results, (used.user + used.system) * 1000, split, done());
}

/** Two processes logging in sync mode to one file, `concurrency` / 2 in flight each: two worker processes. */
async function measureTwoProcesses(store: typeof StoreModule): Promise<void> {
  const { file, done } = tempFile();
  // Created before the children start, as a server's primary would have it.
  await new store.DecisionLogStore({ file }).close();
  const child = () =>
    new Promise<Measured & { cpuNs: number }>((resolve, reject) => {
      const proc = spawn(process.execPath, [process.argv[1]], { env: { ...process.env, BENCH_CHILD_FILE: file }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
      proc.on('error', reject);
      // 'close', not 'exit': the child's stdout may still hold unread output when it exits.
      proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Measured & { cpuNs: number }) : reject(new Error(`bench child exited with ${code}`))));
    });
  const results = await Promise.all([child(), child()]);
  report('sync ×2 processes', results, results.reduce((n, r) => n + r.cpuNs, 0), '', done());
}

const here = fileURLToPath(new URL('../..', import.meta.url));
const loadStore = async (dist: string) => (await import(pathToFileURL(join(dist, 'src/decisionlog/store.js')).href)) as typeof StoreModule;

if (!isMainThread) {
  // A server thread of measureThreads.
  const { handle, inFlight } = workerData as { handle: DecisionWriterHandle; inFlight: number };
  const store = await loadStore(join(here, 'dist'));
  const { close, ...measured } = await run(() => new store.DecisionLogStore({ writer: handle }), inFlight);
  await close();
  parentPort!.postMessage(measured);
} else if (process.env.BENCH_CHILD_FILE) {
  // A process of measureTwoProcesses. Exit once the pipe has taken all of it: writes to a pipe are asynchronous.
  const file = process.env.BENCH_CHILD_FILE;
  const store = await loadStore(join(here, 'dist'));
  const cpu = process.cpuUsage();
  const { close, ...measured } = await run(() => new store.DecisionLogStore({ file, durability: 'sync' }), concurrency / 2);
  const used = process.cpuUsage(cpu);
  await close();
  process.stdout.write(JSON.stringify({ ...measured, cpuNs: (used.user + used.system) * 1000 }), () => process.exit(0));
} else {
  console.log(`decision-log store sustained insert rate (${seconds} s per mode, ${concurrency} in flight in sync modes, node ${process.version})`);
  const current = await loadStore(join(here, 'dist'));
  const builds: [string, typeof StoreModule][] = [['', current]];
  if (values.baseline) builds.unshift([' (baseline)', await loadStore(values.baseline)]);
  for (let round = 0; round < (values.baseline ? rounds : 1); round++) {
    for (const durability of ['default', 'sync'] as const) {
      if (!modes.has(durability)) continue;
      for (const [suffix, store] of builds) await measureOne(store, durability, durability + suffix);
    }
  }
  if (modes.has('sync2')) await measureTwoProcesses(current);
  if (modes.has('threads')) await measureThreads('default');
  if (modes.has('threads-sync')) {
    // A/B: the writer waiting for the other thread's batch (the default) against committing each as it comes.
    for (let round = 0; round < rounds; round++) {
      await measureThreads('sync', 0);
      await measureThreads('sync');
    }
  }
}
