// What logging costs a decision: a minimal node:http decision endpoint (JSON body in, a trivial
// decision out) measured with the decision log off, in default mode and in sync mode. The decision itself
// is nearly free here, so the overhead ratio is a worst case for a real policy. Each mode runs in its own
// server process, load comes from another process, and rounds alternate the modes (the machine is shared).
//   npm run bench:decisionlog:http     (BENCH_SECONDS=5, BENCH_ROUNDS=3, BENCH_CONNECTIONS=64)
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, request, Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DecisionLogStore, type Durability } from '../src/decisionlog/store.js';
import { DecisionLogger } from '../src/decisionlog/logger.js';
import { newDecisionEvent } from '../src/decisionlog/event.js';

type Mode = 'off' | Durability;
interface LoadResult { requests: number; seconds: number; p50: number; p99: number; errors: number }

const self = fileURLToPath(import.meta.url);
const [role, ...args] = process.argv.slice(2);

const input = {
  attributes: {
    request: {
      http: {
        method: 'POST',
        path: '/api/v1/orders/1234/items',
        host: 'orders.internal.example.com',
        headers: {
          accept: 'application/json',
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
          authorization: 'Bearer ' + 'e'.repeat(700),
          'x-request-id': '6f1c2e0a-1234-4a51-9a8e-2b7d3c9e1f00',
        },
      },
    },
  },
  subject: { id: 'alice', roles: ['buyer', 'reviewer'] },
};
const body = JSON.stringify({ input });

async function serve(mode: Mode): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-dl-http-'));
  const store = mode === 'off' ? undefined : new DecisionLogStore({ file: join(dir, 'decisions.db'), durability: mode });
  const logger = store ? new DecisionLogger(store) : undefined;
  const labels = { id: 'bench', version: '0.1.0' };
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', async () => {
      const { input } = JSON.parse(Buffer.concat(parts).toString('utf8')) as { input?: { subject?: { id?: string } } };
      const result = { allowed: input?.subject?.id === 'alice' };
      let decisionId: string | undefined;
      if (logger) {
        const event = newDecisionEvent({ path: 'envoy/authz/allow', input, result, requested_by: `${req.socket.remoteAddress}:${req.socket.remotePort}`, bundles: { authz: { revision: 'r1' } } }, labels);
        decisionId = event.decision_id;
        await logger.log(event);
      }
      const out = JSON.stringify(decisionId ? { decision_id: decisionId, result } : { result });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('message', async () => {
    server.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

async function load(port: number, seconds: number, connections: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const t = performance.now();
      const req = request({ host: '127.0.0.1', port, path: '/v1/data/envoy/authz/allow', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => (errors++, resolve()));
      req.end(body);
    });
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < deadline) await one();
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  process.send!({ requests: latencies.length, seconds: elapsed, p50: q(0.5), p99: q(0.99), errors } satisfies LoadResult);
  agent.destroy();
}

function message<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

async function round(mode: Mode, seconds: number, connections: number): Promise<LoadResult> {
  const server = fork(self, ['serve', mode]);
  const { port } = await message<{ port: number }>(server);
  const loader = fork(self, ['load', String(port), String(seconds), String(connections)]);
  const result = await message<LoadResult>(loader);
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.send('stop');
  await exited;
  return result;
}

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
  const modes: Mode[] = ['off', 'default', 'sync'];
  const results = new Map<Mode, LoadResult[]>(modes.map((m) => [m, []]));
  for (let r = 0; r < rounds; r++) for (const mode of modes) results.get(mode)!.push(await round(mode, seconds, connections));
  const median = (mode: Mode) => {
    const sorted = [...results.get(mode)!].sort((a, b) => a.requests / a.seconds - b.requests / b.seconds);
    return sorted[Math.floor(sorted.length / 2)];
  };
  const rate = (r: LoadResult) => r.requests / r.seconds;
  const off = rate(median('off'));
  console.log(`decision endpoint with the decision log off / default / sync (${rounds} rounds x ${seconds} s, ${connections} connections, ${Buffer.byteLength(body)} B body; median round)`);
  for (const mode of modes) {
    const m = median(mode);
    console.log(
      `${mode.padEnd(8)} ${Math.round(rate(m)).toLocaleString('en-US').padStart(7)} decisions/s  p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms` +
        (mode === 'off' ? '' : `  throughput ${((rate(m) / off) * 100).toFixed(0)}% of logging off`) +
        (m.errors ? `  ${m.errors} errors` : ''),
    );
  }
}

if (role === 'serve') await serve(args[0] as Mode);
else if (role === 'load') await load(Number(args[0]), Number(args[1]), Number(args[2]));
else await main();
