// Sustained insert rate of the decision-log store, default and sync durability, with realistic 1–2 KB
// events (an Envoy-style input with headers and a bearer token, an object result, bundle revision), and sync
// durability from two processes sharing one file, as two server workers do.
//   npm run bench:decisionlog            (BENCH_SECONDS=5 per mode, BENCH_CONCURRENCY=256 for sync,
//                                         BENCH_MODES=default,sync,sync2 to run some of the three)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionLogStore, type Durability } from '../src/decisionlog/store.js';
import { formatTimestamp, newDecisionId, nowNs, type DecisionEvent } from '../src/decisionlog/event.js';
import { threadsCpuNs } from './process-tree.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 256);
const modes = new Set((process.env.BENCH_MODES ?? 'default,sync,sync2').split(','));
for (const mode of modes) if (!['default', 'sync', 'sync2'].includes(mode)) throw new Error(`BENCH_MODES: unknown mode ${JSON.stringify(mode)} (default, sync, sync2)`);

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

/** CPU seconds used by each thread of this process, by thread id, from Linux's /proc; empty elsewhere. */
function threadCpuSeconds(): Map<string, number> {
  return new Map([...threadsCpuNs('self')].map(([tid, ns]) => [tid, ns / 1e9]));
}

/**
 * µs of CPU per event on the event-loop thread, on the busiest other thread (the store's writer thread) and on
 * all the others (the garbage collector's helpers, libuv's pool), between two threadCpuSeconds readings.
 */
function threadSplit(before: Map<string, number>, after: Map<string, number>, events: number): string {
  const main = String(process.pid);
  const others = [...after].filter(([tid]) => tid !== main).map(([tid, s]) => s - (before.get(tid) ?? 0)).sort((a, b) => b - a);
  if (!after.has(main)) return '';
  const us = (s: number) => ((s * 1e6) / events).toFixed(1);
  return `, ${us(after.get(main)! - (before.get(main) ?? 0))} on the event-loop thread, ${us(others[0] ?? 0)} on the writer thread, ${us(others.slice(1).reduce((a, b) => a + b, 0))} on the others`;
}

interface Measured {
  written: number;
  elapsed: number;
  /** sync: each record()'s wait, ms. */
  latencies: number[];
  /** CPU µs per event, in total and by thread. */
  cpu: string;
  /** The events' JSON sizes. */
  sizes: string;
}

/** Records events for `seconds` into `file`; sync durability with `inFlight` records waiting at a time. */
async function run(file: string, durability: Durability, inFlight: number): Promise<Measured> {
  const store = new DecisionLogStore({ file, durability });
  const pool = templates();
  const sizes = pool.map((e) => JSON.stringify(e).length);
  // A server hands the store each input's text as the request carried it, and the event time it formatted.
  const inputs = pool.map((e) => new TextEncoder().encode(JSON.stringify(e.input)));
  let made = 0;
  const record = () => {
    const i = made++ % pool.length;
    const tsNs = nowNs();
    return store.record({ ...pool[i], decision_id: newDecisionId(), timestamp: formatTimestamp(tsNs) }, { tsNs, inputText: inputs[i] });
  };
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const threadsBefore = threadCpuSeconds();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  if (durability === 'sync') {
    // Like a server with `inFlight` requests in flight, each answered only after its commit.
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await record();
        latencies.push(performance.now() - t);
      }
    }));
  } else {
    // As fast as events can be handed over; back-pressure slows the producer to the writer's pace.
    while (performance.now() < deadline) {
      for (let i = 0; i < 100; i++) await record();
    }
    await store.flush();
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const written = store.status().written;
  const split = threadSplit(threadsBefore, threadCpuSeconds(), written);
  await store.close();
  return {
    written,
    elapsed,
    latencies,
    cpu: `CPU µs/event: ${((cpu.user + cpu.system) / written).toFixed(1)} all threads${split}`,
    sizes: `event JSON ${Math.min(...sizes)}–${Math.max(...sizes)} B`,
  };
}

function percentiles(latencies: number[]): string {
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(2);
  return `commit wait p50 ${p(0.5)} ms p99 ${p(0.99)} ms`;
}

async function measure(durability: Durability): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-decisionlog-'));
  const file = join(dir, 'decisions.db');
  const { written, elapsed, latencies, cpu, sizes } = await run(file, durability, concurrency);
  const bytes = statSync(file).size;
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `${durability.padEnd(7)}  ${Math.round(written / elapsed).toLocaleString('en-US').padStart(8)} events/s` +
      `  (${written} events in ${elapsed.toFixed(1)} s, ${sizes}, ${Math.round(bytes / written)} B/event on disk)  ${cpu}` +
      (durability === 'sync' ? `  ${percentiles(latencies)} at ${concurrency} in flight` : ''),
  );
}

/** Two processes logging in sync mode to one file, `concurrency` / 2 in flight each: two server workers. */
async function measureTwoProcesses(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-decisionlog-'));
  const file = join(dir, 'decisions.db');
  // Created before the children start, as a server's primary would have it.
  await new DecisionLogStore({ file }).close();
  const child = () =>
    new Promise<Measured>((resolve, reject) => {
      const proc = spawn(process.execPath, [process.argv[1]], { env: { ...process.env, BENCH_CHILD_FILE: file }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
      proc.on('error', reject);
      // 'close', not 'exit': the child's stdout may still hold unread output when it exits.
      proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Measured) : reject(new Error(`bench child exited with ${code}`))));
    });
  const results = await Promise.all([child(), child()]);
  rmSync(dir, { recursive: true, force: true });
  const written = results.reduce((n, r) => n + r.written, 0);
  const elapsed = Math.max(...results.map((r) => r.elapsed));
  console.log(
    `sync ×2   ${Math.round(written / elapsed).toLocaleString('en-US').padStart(8)} events/s  (two processes on one file, ${concurrency / 2} in flight each, ` +
      `${results.map((r) => r.written).join(' + ')} events in ${elapsed.toFixed(1)} s)  ${percentiles(results.flatMap((r) => r.latencies))}`,
  );
}

const childFile = process.env.BENCH_CHILD_FILE;
if (childFile) {
  // Exit once the pipe has taken all of it: writes to a pipe are asynchronous, and exiting at once cuts them short.
  const measured = JSON.stringify(await run(childFile, 'sync', concurrency / 2));
  process.stdout.write(measured, () => process.exit(0));
  await new Promise(() => {});
}
console.log(`decision-log store sustained insert rate (${seconds} s per mode, node ${process.version})`);
if (modes.has('default')) await measure('default');
if (modes.has('sync')) await measure('sync');
if (modes.has('sync2')) await measureTwoProcesses();
