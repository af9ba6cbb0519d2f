// Sustained insert rate of the decision-log store, fed as a server feeds it: each decision goes through the server's
// record step (recordDecision in src/server/decisions.ts, the DecisionLogger, the store) with the server's defaults,
// an activation's frozen labels and bundles field, and the gateway benchmark's input (rego/gateway/input.json, the
// request's text kept as sent, credentials masked as the server masks them), in the layouts a server has:
//   default, sync     one thread recording into one store with its own writer thread, default or sync durability
//   threads           two threads recording, each into its store, on one shared writer (shared-writer.ts): the
//                     layout of `verdict run` with two workers, default durability
//   sync2             two processes with a writer each on one file (two worker processes), sync
//   threads-sync      as threads, sync durability; runs twice, without and with the writer's wait for a group
// Each line gives events/s, CPU µs per event (in all, and by thread), the writer's commits per second and, in
// sync modes, how long record() waited for its commit (p50, p99). After each run the file is read back: a run whose
// file does not hold one row per decision recorded fails, so a rate is one the store committed.
//   npm run bench:decisionlog            (BENCH_SECONDS=5 per mode, BENCH_CONCURRENCY=256 in flight in sync modes,
//                                         BENCH_MODES=default,sync,sync2,threads,threads-sync to choose)
//   npm run bench:decisionlog -- --baseline DIR   default, sync and threads against another build's dist/
//                                         directory, in interleaved rounds (BENCH_ROUNDS=2) so both see the same
//                                         machine load
//   --trace-ids random|constant|none      the decisions' traceparent header: a trace id of its own per decision
//                                         (4,096 request variants, each with its own), the gateway input's one id for
//                                         all (the default), or no header
//   --prefill N                           N rows in the file before each run (default 0), indexed as the writer
//                                         indexes them, with the key columns of the decisions recorded and the trace
//                                         ids of --trace-ids, but a short event text: the indexes' cost grows with
//                                         the rows, the event's text does not change it
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type * as StoreModule from '../src/decisionlog/store.js';
import type { Durability } from '../src/decisionlog/store.js';
import type * as SharedWriterModule from '../src/decisionlog/shared-writer.js';
import type * as DecisionsModule from '../src/server/decisions.js';
import type * as LoggerModule from '../src/decisionlog/logger.js';
import type * as BodyModule from '../src/server/body.js';
import type { DecisionEvent, DecisionHints } from '../src/decisionlog/event.js';
import type { ServerContext } from '../src/server/context.js';
import type * as IndexingModule from '../src/decisionlog/indexing.js';
import { callingThreadCpuNs, threadsCpuNs } from './process-tree.js';
import { randomTraceId, traceIdMode, type TraceIdMode } from './bench-trace-ids.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 256);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const allModes = ['default', 'sync', 'sync2', 'threads', 'threads-sync'];
const modes = new Set((process.env.BENCH_MODES ?? allModes.join(',')).split(','));
for (const mode of modes) if (!allModes.includes(mode)) throw new Error(`BENCH_MODES: unknown mode ${JSON.stringify(mode)} (${allModes.join(', ')})`);
const { values } = isMainThread && !process.env.BENCH_CHILD_FILE
  ? parseArgs({ options: { baseline: { type: 'string' }, 'trace-ids': { type: 'string', default: 'constant' }, prefill: { type: 'string', default: '0' } } })
  : { values: {} as { baseline?: string; 'trace-ids'?: string; prefill?: string } };
/** The trace ids of the decisions: an option of the main thread, handed to the threads and processes it starts. */
const traceIds: TraceIdMode = traceIdMode(
  isMainThread ? (process.env.BENCH_CHILD_TRACE_IDS ?? values['trace-ids']!) : (workerData as { traceIds: string }).traceIds,
  ['random', 'constant', 'none'],
);
const prefillRows = Number(values.prefill ?? 0);
if (!Number.isInteger(prefillRows) || prefillRows < 0) throw new Error(`--prefill ${values.prefill}: a whole number of rows`);

/**
 * The request bodies the producer's decisions carry: the gateway benchmark's input (rego/gateway/input.json, as
 * `bench:http` sends it), in 500 variants of the same size (request path, request id, client port), each read as a
 * server reads a request's body (its text kept, the reader's note whether any key names a credential header).
 * With random trace ids, 4,096 variants, each with a traceparent of its own: a step of the index (4,096 rows) puts
 * its rows all over an index keyed by trace id, as distinct ids would. Without, no traceparent header.
 */
function bodies(): string[] {
  const body = readFileSync(join(here, 'rego/gateway/input.json'), 'utf8');
  const traceparent = /,\s*"traceparent": "00-(4bf92f3577b34da6a3ce929d0e0e4736)-[^"]*"/;
  if (!traceparent.test(body)) throw new Error('rego/gateway/input.json: no traceparent header to vary');
  return Array.from({ length: traceIds === 'random' ? 4096 : 500 }, (_, i) => {
    const n = String(i).padStart(4, '0');
    const varied = body
      .replace('/v1/projects/verdict/builds', `/v1/projects/verd${n}/builds`)
      .replace('9f1c3a52-6a0b-4b8e', `9f1c3a52-${n}-4b8e`)
      .replace('"port": 51234', `"port": ${50000 + i}`);
    if (traceIds === 'none') return varied.replace(traceparent, '');
    return traceIds === 'random' ? varied.replace(traceparent, (header, id: string) => header.replace(id, randomTraceId(i))) : varied;
  });
}

/** What --trace-ids and --prefill set, as each line shows it. */
function settings(): string {
  return `${traceIds} trace ids${prefillRows > 0 ? `, ${prefillRows.toLocaleString('en-US')} rows before` : ''}`;
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
 * µs of CPU per event: on the threads that recorded the events (event loops, as they read it themselves: a worker
 * thread may have ended before `after` is read), on the busiest other thread between two readings (the writer
 * thread) and on all the rest (the garbage collector's helpers, libuv's pool).
 */
function threadSplit(before: Map<string, number>, after: Map<string, number>, events: number, loops: Measured[]): string {
  if (after.size === 0) return '';
  const us = (tid: string) => ((after.get(tid) ?? 0) - (before.get(tid) ?? 0)) / 1000 / events;
  const tids = loops.map((l) => l.tid);
  const others = [...after.keys()].filter((tid) => !tids.includes(tid)).map(us).sort((a, b) => b - a);
  const loopUs = loops.reduce((n, l) => n + l.loopCpuNs, 0) / 1000 / events;
  return `: ${loopUs.toFixed(1)} event loop${loops.length > 1 ? 's' : ''}, ${(others[0] ?? 0).toFixed(1)} writer, ${others.slice(1).reduce((a, b) => a + b, 0).toFixed(1)} others`;
}

interface Measured {
  written: number;
  elapsed: number;
  /** sync: each record()'s wait, ms. */
  latencies: number[];
  /** The writer's transactions during the run. */
  commits: number;
  /** The thread that recorded the events, and the CPU it used during the run (ns). */
  tid: string;
  loopCpuNs: number;
  /** Decisions recorded, the first (before the clock started) included: the rows the file must hold. */
  recorded: number;
}

/** The modules of one build (a dist/ directory) the producer and the layouts use. */
interface Build {
  dist: string;
  store: typeof StoreModule;
  sharedWriter: typeof SharedWriterModule;
  decisions: typeof DecisionsModule;
  logger: typeof LoggerModule;
  body: typeof BodyModule;
  indexing: typeof IndexingModule;
  /** The young generation a server thread gets (memory-release.ts), given to the recording threads too. */
  youngGenerationMb?: number;
}

async function loadBuild(dist: string): Promise<Build> {
  const at = async <T>(path: string) => (await import(pathToFileURL(join(dist, path)).href)) as T;
  return {
    dist,
    store: await at<typeof StoreModule>('src/decisionlog/store.js'),
    sharedWriter: await at<typeof SharedWriterModule>('src/decisionlog/shared-writer.js'),
    decisions: await at<typeof DecisionsModule>('src/server/decisions.js'),
    logger: await at<typeof LoggerModule>('src/decisionlog/logger.js'),
    body: await at<typeof BodyModule>('src/server/body.js'),
    indexing: await at<typeof IndexingModule>('src/decisionlog/indexing.js'),
    youngGenerationMb: (await at<{ SERVER_THREAD_YOUNG_GENERATION_MB?: number }>('src/engine/memory-release.js')).SERVER_THREAD_YOUNG_GENERATION_MB,
  };
}

/**
 * Records decisions for `seconds` with a store made by `open`, as a server thread does: each through the decision
 * pipeline's record step (recordDecision, the DecisionLogger with the server's defaults, the store), with the
 * frozen labels and bundles field of an activation and a request body's input text. Sync durability keeps
 * `inFlight` decisions waiting at a time; default records as fast as back-pressure lets events in. `ready` is
 * awaited once everything is set up, before the clock starts (where CPU is read from).
 */
async function run(build: Build, open: () => StoreModule.DecisionLogStore, inFlight: number, ready: () => Promise<void>): Promise<Measured & { close: () => Promise<void> }> {
  const store = open();
  const { record, made } = recorder(build, store);
  // A first commit, so the writer thread is running before the clock starts.
  await record();
  await store.flush();
  // Set up: the CPU readings start now.
  await ready();
  const cpuBefore = callingThreadCpuNs();
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
      for (let i = 0; i < 100; i++) {
        const id = record();
        if (typeof id !== 'string') await id;
      }
      // Let the writer thread's replies in, as a server's event loop does between requests.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await store.flush();
  }
  const elapsed = (performance.now() - started) / 1000;
  const written = store.status().written - writtenBefore;
  const commits = (store.writerCommits ?? NaN) - commitsBefore;
  return { written, recorded: made(), elapsed, latencies, commits, tid: threadId(), loopCpuNs: callingThreadCpuNs() - cpuBefore, close: () => store.close() };
}

/** The server's record step into `store`, a decision per call; `made` counts them. */
function recorder(build: Build, store: StoreModule.DecisionLogStore): { record: () => ReturnType<typeof DecisionsModule.recordDecision>; made: () => number } {
  const logger = new build.logger.DecisionLogger(store, { evaluate: () => Promise.resolve({}), defined: () => false });
  const requests = bodies().map((text) => {
    const { value, memberText, credentialFree } = build.body.parseEnvelope(Buffer.from(text), false, 'input');
    return { input: (value as { input: unknown }).input, inputText: memberText!, inputCredentialFree: credentialFree };
  });
  const waitAlways = store.durability === 'sync';
  const ctx = {
    // As the server's (src/server/decision-log.ts): a promise only when the answer has to wait for the log.
    onDecision: (event: DecisionEvent, hints?: DecisionHints) => {
      const wait = waitAlways || store.saturated;
      const logged = logger.log(event, hints);
      return wait ? logged : undefined;
    },
    labels: Object.freeze({ id: 'bench-instance-0001', version: '0.1.0' }),
    engine: { bundles: [{ name: 'gateway', manifest: { revision: 'rev-2024-05-01' } }] },
  } as unknown as ServerContext;
  let made = 0;
  const record = () => {
    const request = requests[made % requests.length];
    made++;
    return build.decisions.recordDecision(ctx, {
      path: decisionPath,
      ...request,
      evaluated: { defined: true, result: made % 10 !== 0, metrics: { counter_server_query_cache_hit: 1, timer_rego_input_parse_ns: 21000 + (made % 89), timer_rego_query_eval_ns: 41000 + (made % 977), timer_server_handler_ns: 90000 + (made % 991) } },
      requestedBy: `10.0.0.4:${50000 + (made % 500)}`,
      reqId: made,
    });
  };
  return { record, made: () => made };
}

function percentiles(latencies: number[]): string {
  if (latencies.length === 0) return '';
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(2);
  return `  commit wait p50 ${p(0.5)} ms p99 ${p(0.99)} ms`;
}

/** A new file for a run, holding prefillRows rows (--prefill) made by `build`. */
async function tempFile(build: Build): Promise<{ file: string; done: (recorded: number) => number }> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-decisionlog-'));
  const file = join(dir, 'decisions.db');
  if (prefillRows > 0) await prefill(build, file);
  const prefilledBytes = prefillRows > 0 ? statSync(file).size : 0;
  return {
    file,
    /** After the stores closed: checks that the file holds a row per decision recorded; returns what the run added to its size. */
    done: (recorded) => {
      const bytes = statSync(file).size - prefilledBytes;
      const db = new Database(file, { readonly: true });
      const rows = db.prepare('SELECT count(*) FROM decisions').pluck().get() as number;
      db.close();
      rmSync(dir, { recursive: true, force: true });
      if (rows !== recorded + prefillRows) throw new Error(`${recorded} decisions recorded after ${prefillRows} rows, ${rows} rows in the file`);
      return bytes;
    },
  };
}

/**
 * prefillRows rows into a new file, indexed as the writer indexes them (build's TailIndexer after each commit of
 * 2,048 rows): the first recorded by the record step, the others copies of its key columns, their own decision id,
 * time (10 µs apart, before the run's) and trace id (--trace-ids), and a short event text.
 */
async function prefill(build: Build, file: string): Promise<void> {
  const store = new build.store.DecisionLogStore({ file });
  await recorder(build, store).record();
  await store.flush();
  await store.close();
  const db = new Database(file);
  db.pragma('synchronous = OFF');
  const first = db.prepare('SELECT ts_ns, path, outcome, principal, revision, trace_id FROM decisions WHERE seq = 1').safeIntegers().get() as { ts_ns: bigint; path: string; outcome: string; principal: string | null; revision: string | null; trace_id: string | null };
  const insert = db.prepare('INSERT INTO decisions (decision_id, ts_ns, path, outcome, principal, revision, event, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const indexer = new build.indexing.TailIndexer(db, (work) => db.transaction(work).immediate());
  const t0 = first.ts_ns - BigInt(prefillRows) * 10_000n;
  for (let start = 1; start < prefillRows; start += 2048) {
    const last = db.transaction(() => {
      let last = 0;
      for (let i = start; i < Math.min(start + 2048, prefillRows); i++) {
        const ts = t0 + BigInt(i) * 10_000n;
        const id = `prefill-${String(i).padStart(10, '0')}`;
        const trace = traceIds === 'random' ? randomTraceId(1_000_000_000 + i) : first.trace_id;
        last = Number(insert.run(id, ts, first.path, i % 10 === 0 ? 'deny' : first.outcome, first.principal, first.revision, `{"decision_id":"${id}"}`, trace).lastInsertRowid);
      }
      return last;
    })();
    indexer.afterCommit(last);
  }
  indexer.indexTail();
  indexer.stop();
  db.close();
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
    `${`${label} [${settings()}]`.padEnd(52)} ${Math.round(written / elapsed).toLocaleString('en-US').padStart(8)} events/s  (${written} in ${elapsed.toFixed(1)} s, ` +
      `${Math.round(bytes / written)} B/event on disk${perCommit}, all rows in the file)` +
      `  CPU µs/event ${(cpuNs / 1000 / written).toFixed(1)}${split}${percentiles(latencies)}`,
  );
}

/** One store with its own writer thread, in this thread. */
async function measureOne(build: Build, durability: Durability, label: string): Promise<void> {
  const { file, done } = await tempFile(build);
  let cpu = process.cpuUsage();
  let threads = threadCpu();
  const start = async () => {
    cpu = process.cpuUsage();
    threads = threadCpu();
  };
  const { close, ...measured } = await run(build, () => new build.store.DecisionLogStore({ file, durability }), concurrency, start);
  const used = process.cpuUsage(cpu);
  // Read before the store closes: its writer thread ends with it.
  const split = threadSplit(threads, threadCpu(), measured.written, [measured]);
  await close();
  report(label, [measured], (used.user + used.system) * 1000, split, done(measured.recorded));
}

/** Two worker threads of this process, each with a store on one shared writer: a threaded server's layout. */
async function measureThreads(build: Build, durability: Durability, label: string, groupWaitMs?: number): Promise<void> {
  const { file, done } = await tempFile(build);
  const writer = new build.sharedWriter.SharedDecisionWriter({ file, durability, ...(groupWaitMs !== undefined ? { groupWaitMs } : {}) });
  const workers = [0, 1].map(() => {
    const handle = writer.handle();
    // Started as `verdict run` starts a server thread (src/server/cluster/transport.ts), with its young generation.
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { dist: build.dist, handle, inFlight: concurrency / 2, traceIds },
      transferList: build.sharedWriter.writerHandleTransfer(handle),
      ...(build.youngGenerationMb !== undefined ? { resourceLimits: { maxYoungGenerationSizeMb: build.youngGenerationMb } } : {}),
    });
    const failed = new Promise<never>((_, reject) => worker.once('error', reject));
    // A thread says once it is set up (modules loaded, store open, a first commit made), then waits for the start.
    const ready = Promise.race([failed, new Promise((resolve) => worker.once('message', resolve))]);
    return { worker, ready, measured: ready.then(() => Promise.race([failed, new Promise<Measured>((resolve) => worker.once('message', resolve))])) };
  });
  await Promise.all(workers.map((w) => w.ready));
  const cpu = process.cpuUsage();
  const threads = threadCpu();
  for (const { worker } of workers) worker.postMessage('start');
  const results = await Promise.all(workers.map((w) => w.measured));
  const used = process.cpuUsage(cpu);
  const written = results.reduce((n, r) => n + r.written, 0);
  const split = threadSplit(threads, threadCpu(), written, results);
  await writer.close();
  report(label, results, (used.user + used.system) * 1000, split, done(results.reduce((n, r) => n + r.recorded, 0)));
}

/** Two processes logging in sync mode to one file, `concurrency` / 2 in flight each: two worker processes. */
async function measureTwoProcesses(build: Build): Promise<void> {
  const { file, done } = await tempFile(build);
  // Created before the children start, as a server's primary would have it.
  await new build.store.DecisionLogStore({ file }).close();
  const child = () =>
    new Promise<Measured & { cpuNs: number }>((resolve, reject) => {
      const proc = spawn(process.execPath, [process.argv[1]], { env: { ...process.env, BENCH_CHILD_FILE: file, BENCH_CHILD_DIST: build.dist, BENCH_CHILD_TRACE_IDS: traceIds }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
      proc.on('error', reject);
      // 'close', not 'exit': the child's stdout may still hold unread output when it exits.
      proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Measured & { cpuNs: number }) : reject(new Error(`bench child exited with ${code}`))));
    });
  const results = await Promise.all([child(), child()]);
  report('sync, 2 processes, 1 file', results, results.reduce((n, r) => n + r.cpuNs, 0), '', done(results.reduce((n, r) => n + r.recorded, 0)));
}

const here = fileURLToPath(new URL('../..', import.meta.url));
const decisionPath = ['gateway', 'authz', 'allow'];

if (!isMainThread) {
  // A server thread of measureThreads.
  const { dist, handle, inFlight } = workerData as { dist: string; handle: SharedWriterModule.DecisionWriterHandle; inFlight: number };
  const build = await loadBuild(dist);
  const started = new Promise<void>((resolve) => parentPort!.once('message', () => resolve()));
  const ready = () => {
    parentPort!.postMessage('ready');
    return started;
  };
  const { close, ...measured } = await run(build, () => new build.store.DecisionLogStore({ writer: handle }), inFlight, ready);
  await close();
  parentPort!.postMessage(measured);
} else if (process.env.BENCH_CHILD_FILE) {
  // A process of measureTwoProcesses. Exit once the pipe has taken all of it: writes to a pipe are asynchronous.
  const file = process.env.BENCH_CHILD_FILE;
  const build = await loadBuild(process.env.BENCH_CHILD_DIST!);
  let cpu = process.cpuUsage();
  const start = async () => {
    cpu = process.cpuUsage();
  };
  const { close, ...measured } = await run(build, () => new build.store.DecisionLogStore({ file, durability: 'sync' }), concurrency / 2, start);
  const used = process.cpuUsage(cpu);
  await close();
  process.stdout.write(JSON.stringify({ ...measured, cpuNs: (used.user + used.system) * 1000 }), () => process.exit(0));
} else {
  const inputBytes = Buffer.byteLength(JSON.stringify(JSON.parse(readFileSync(join(here, 'rego/gateway/input.json'), 'utf8')).input));
  console.log(
    `decision-log store sustained insert rate (${seconds} s per mode, node ${process.version}): decisions recorded through the server's record step ` +
      `(recordDecision, DecisionLogger, store) with the store's defaults (batches of up to 2,000, flush delay 100 ms in default durability, 0 in sync, ` +
      `queue of 10,000, when_full backpressure, ` +
      `credentials masked), the gateway input (~${inputBytes} B compact, request text kept as sent), ${concurrency} in flight in sync modes`,
  );
  const current = await loadBuild(join(here, 'dist'));
  const builds: [string, Build][] = [['', current]];
  if (values.baseline) builds.unshift([' (baseline)', await loadBuild(values.baseline)]);
  for (let round = 0; round < (values.baseline ? rounds : 1); round++) {
    for (const durability of ['default', 'sync'] as const) {
      if (!modes.has(durability)) continue;
      for (const [suffix, build] of builds) await measureOne(build, durability, `${durability}, 1 thread${suffix}`);
    }
    if (modes.has('threads')) for (const [suffix, build] of builds) await measureThreads(build, 'default', `default, 2 threads, 1 writer${suffix}`);
  }
  if (modes.has('sync2')) await measureTwoProcesses(current);
  if (modes.has('threads-sync')) {
    // A/B: the writer waiting for the other thread's batch (the default) against committing each as it comes.
    for (let round = 0; round < rounds; round++) {
      await measureThreads(current, 'sync', 'sync, 2 threads, no wait', 0);
      await measureThreads(current, 'sync', 'sync, 2 threads, 1 writer');
    }
  }
}
