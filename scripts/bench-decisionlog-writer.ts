// The decision-log writer thread alone: the CPU its SQL costs per row (inserts, commits, index steps, checkpoints),
// without the recording threads beside it. Batches are built once, in the layout the stores send (writer-batch.ts),
// and posted to a writer thread (writer-worker.ts) one after another, each once the last is committed; the writer
// thread's CPU is read from Linux's /proc around the measured batches. With nothing else on its cores but this, the
// figure moves far less from run to run than the writer column of bench:decisionlog, so a change to the writer's
// SQL shows at a tenth of a µs.
//   npm run bench:decisionlog:writer                   (200 batches of 1,400 rows, 3 rounds)
//   -- --baseline DIR                                  against another build's dist/ directory, rounds interleaved
//   -- --batches N --rows N --rounds N
//   -- --trace-ids random|constant|none                a trace id of its own per row, one for all, or none (default)
// Each row is an event of the gateway benchmark's size (rego/gateway/input.json as the input, kept as sent), the
// path, an outcome (one in ten `deny`) and the bundle revision as a server stores them, no principal.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type * as WriterBatchModule from '../src/decisionlog/writer-batch.js';
import type { WriterBatch } from '../src/decisionlog/writer-batch.js';
import type { Request } from '../src/decisionlog/writer.js';
import type { WriterReply, WriterSettings } from '../src/decisionlog/writer-worker.js';
import { threadsCpuNs } from './process-tree.js';
import { randomTraceId, traceIdMode } from './bench-trace-ids.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    batches: { type: 'string', default: '200' },
    rows: { type: 'string', default: '1400' },
    rounds: { type: 'string', default: '3' },
    'trace-ids': { type: 'string', default: 'none' },
  },
});
const count = (name: 'batches' | 'rows' | 'rounds') => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} ${values[name]}: a whole number, at least 1`);
  return n;
};
const batches = count('batches');
const rowsPerBatch = count('rows');
const rounds = count('rounds');
const traceIds = traceIdMode(values['trace-ids']!, ['random', 'constant', 'none']);
const here = fileURLToPath(new URL('../..', import.meta.url));
/** Distinct batches posted in turn: the rows' text differs from batch to batch as a server's does. */
const distinctBatches = 8;
/** Batches committed before the measurement: the file and the writer's caches past their first pages. */
const warmupBatches = 20;

const input = readFileSync(join(here, 'rego/gateway/input.json'), 'utf8').trim();
const constantTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';

function eventText(id: string): string {
  return `{"labels":{"id":"bench-instance-0001","version":"0.1.0"},"decision_id":"${id}","bundles":{"gateway":{"revision":"rev-2024-05-01"}},"path":"gateway/authz/allow","input":${input},"result":true,"requested_by":"10.0.0.4:50101","timestamp":"2026-01-01T00:00:00.000000000Z","metrics":{"timer_rego_query_eval_ns":41101,"timer_server_handler_ns":90101}}`;
}

/** Batch b, its rows' fields as UTF-8 bytes back to back in shared buffers (writer-batch.ts WriterBatch). */
function makeBatch(build: typeof WriterBatchModule, b: number): WriterBatch {
  const { fieldsPerRow } = build;
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const ends = new Uint32Array(new SharedArrayBuffer(rowsPerBatch * fieldsPerRow * 4));
  const nulls = new Uint8Array(new SharedArrayBuffer(rowsPerBatch));
  const tsNs = new BigInt64Array(new SharedArrayBuffer(rowsPerBatch * 8));
  let used = 0;
  for (let k = 0; k < rowsPerBatch; k++) {
    const n = b * rowsPerBatch + k;
    const id = `01a250a3-3f8d-7923-b58b-${String(n).padStart(12, '0')}`;
    const traceId = traceIds === 'random' ? randomTraceId(n) : traceIds === 'constant' ? constantTraceId : null;
    // In the order of writer-batch.ts textColumns, then the event.
    const fields = [id, 'gateway/authz/allow', k % 10 === 0 ? 'deny' : 'allow', null, 'rev-2024-05-01', traceId, eventText(id)];
    fields.forEach((field, f) => {
      if (field === null) nulls[k] |= 1 << f;
      else {
        const bytes = encoder.encode(field);
        parts.push(bytes);
        used += bytes.length;
      }
      ends[k * fieldsPerRow + f] = used;
    });
    tsNs[k] = 1_767_225_600_000_000_000n + BigInt(n) * 100_000n;
  }
  const bytes = new Uint8Array(new SharedArrayBuffer(used));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { count: rowsPerBatch, bytes, ends, nulls, tsNs, several: [] };
}

/** One run on a new file with the writer of the build at `dist`: its thread's CPU µs per row. */
async function run(dist: string): Promise<number> {
  const build = (await import(pathToFileURL(join(dist, 'src/decisionlog/writer-batch.js')).href)) as typeof WriterBatchModule;
  const pool = Array.from({ length: distinctBatches }, (_, b) => makeBatch(build, b));
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-writer-'));
  const before = new Set(threadsCpuNs('self').keys());
  const settings: WriterSettings = { file: join(dir, 'decisions.db'), synchronous: 'NORMAL' };
  const worker = new Worker(pathToFileURL(join(dist, 'src/decisionlog/writer-worker.js')), { workerData: settings });
  let nextId = 1;
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  worker.on('message', (reply: WriterReply) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.ok) waiting?.resolve();
    else waiting?.reject(new Error(reply.error.message));
  });
  const call = (request: Request) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  try {
    for (let i = 0; i < warmupBatches; i++) await call({ type: 'write', batch: pool[i % distinctBatches] });
    const writerThreads = () => [...threadsCpuNs('self')].filter(([tid]) => !before.has(tid));
    const start = new Map(writerThreads());
    for (let i = 0; i < batches; i++) await call({ type: 'write', batch: pool[i % distinctBatches] });
    // The index step and checkpoint after the last commit run on the thread's next turn: a request behind them.
    await call({ type: 'pragma', statement: 'user_version' });
    // The thread of the worker's that ran the most: the writer (the others are V8's and libuv's helpers).
    const used = writerThreads().map(([tid, ns]) => ns - (start.get(tid) ?? 0)).sort((a, b) => b - a);
    return used[0] / 1000 / (batches * rowsPerBatch);
  } finally {
    await call({ type: 'close' }).catch(() => undefined);
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}

const builds = [{ label: 'this build', dist: join(here, 'dist') }, ...(values.baseline ? [{ label: `baseline ${values.baseline}`, dist: values.baseline }] : [])];
const figures = new Map<string, number[]>(builds.map((b) => [b.label, []]));
console.log(`decision-log writer thread alone: ${batches} batches of ${rowsPerBatch.toLocaleString('en-US')} rows per run (${traceIds} trace ids), ${rounds} round(s)${builds.length > 1 ? ', builds interleaved' : ''}`);
for (let round = 1; round <= rounds; round++) {
  for (const build of builds) {
    const us = await run(build.dist);
    figures.get(build.label)!.push(us);
    console.log(`round ${round}  ${build.label.padEnd(40)} ${us.toFixed(2)} µs of writer CPU per row`);
  }
}
for (const [label, all] of figures) {
  const sorted = [...all].sort((a, b) => a - b);
  console.log(`median ${label.padEnd(40)} ${sorted[Math.floor((sorted.length - 1) / 2)].toFixed(2)} µs per row (${sorted.map((x) => x.toFixed(2)).join(', ')})`);
}
