// Resident memory with a large data.json, OPA against Verdict, each started for real with its defaults
// (`opa run --server`, `verdict run --server`; only the address, a config naming the bundle service and
// --log-level error are given). Each server first activates a tiny revision of the bundle from a loopback
// bundle server; then the ~N MB revision is published and decisions are sent back to back until they use it,
// which times the activation (download, parse, load, swap) as a client sees it and shows whether decisions
// were answered meanwhile (from the old revision) and how long the slowest one took. Once 20 decisions in a
// row used it (so every worker has it), and two seconds later, the resident memory of the server's whole
// process tree is read from /proc (VmRSS now, VmHWM the peak).
// Verdict is measured twice: with its defaults (a primary and one worker per core) and with --workers 1; the
// resident memory of each process of the tree is printed too.
//   npm run bench:data-memory [-- megabytes [servers]]   (default 100; servers: a comma list of opa, verdict,
//                                                          verdict-1, default all three)
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeBundleArchive } from '../src/bundle/files.js';
import { findOpa } from '../src/engine/opa-compiler.js';
import { TestBundleServer } from '../test/bundle/bundle-server.js';
import { freePort } from '../test/free-port.js';
import { bigDataBundle, bigDataDecision } from './data-bundle.js';

const megabytes = Number(process.argv[2] ?? 100);
const servers = (process.argv[3] ?? 'opa,verdict,verdict-1').split(',');
for (const s of servers) if (!['opa', 'verdict', 'verdict-1'].includes(s)) throw new Error(`unknown server ${JSON.stringify(s)}: expected opa, verdict or verdict-1`);
if (!Number.isFinite(megabytes) || megabytes <= 0) throw new Error(`megabytes must be a positive number, not ${JSON.stringify(process.argv[2])}`);
const opa = findOpa();
if (!opa) throw new Error('the reference OPA is needed: run scripts/install-opa.sh');

const bundleServer = await TestBundleServer.start({ bundleContentType: true });
const small = await writeBundleArchive(bigDataBundle(0, 300));
const bigFiles = bigDataBundle(1, megabytes * 1e6);
const rawJson = bigFiles.find((f) => f.path.endsWith('data.json'))!.data.length;
const big = await writeBundleArchive(bigFiles);
bigFiles.length = 0;

const mb = (bytes: number) => bytes / 1048576;

interface Row {
  server: string;
  processes: number;
  activationMs: number;
  answeredMeanwhile: number;
  slowestMs: number;
  rss: number;
  peak: number;
  /** Resident bytes of each process, the server's own first. */
  each: number[];
}

/** The pids of `pid` and all its descendants. */
function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    for (const task of safeList(`/proc/${pids[i]}/task`)) {
      const children = safeRead(`/proc/${pids[i]}/task/${task}/children`).trim();
      if (children) pids.push(...children.split(/\s+/).map(Number));
    }
  }
  return pids;
}

/** Resident and peak resident bytes of a process tree. */
function treeMemory(pid: number): { rss: number; peak: number; processes: number; each: number[] } {
  let rss = 0;
  let peak = 0;
  const each: number[] = [];
  const pids = processTree(pid);
  for (const p of pids) {
    const status = safeRead(`/proc/${p}/status`);
    const own = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    each.push(own);
    rss += own;
    peak += Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  }
  return { rss, peak, processes: pids.length, each };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function safeList(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** One decision on a connection of its own, so that successive decisions reach every worker of the server. */
function decide(url: string): Promise<{ result: unknown; ms: number }> {
  const started = performance.now();
  const body = JSON.stringify({ input: bigDataDecision.input });
  return new Promise((resolve) => {
    const done = (result: unknown) => resolve({ result, ms: performance.now() - started });
    const req = request(url + bigDataDecision.path, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          done((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result?: unknown }).result);
        } catch {
          done(undefined);
        }
      });
      res.on('error', () => done(undefined));
    });
    req.on('error', () => done(undefined));
    req.end(body);
  });
}

async function measure(server: 'opa' | 'verdict' | 'verdict-1'): Promise<Row> {
  bundleServer.setBundle('bench', small);
  const dir = mkdtempSync(join(tmpdir(), `bench-data-memory-${server}-`));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    JSON.stringify({ services: { bench: { url: bundleServer.url } }, bundles: { bench: { service: 'bench', polling: { min_delay_seconds: 1, max_delay_seconds: 2, long_polling_timeout_seconds: 30 } } } }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '-c', config, ...(server === 'verdict-1' ? ['--workers', '1'] : [])];
  const child: ChildProcess =
    server === 'opa'
      ? spawn(opa!, args, { stdio: ['ignore', 'ignore', 'inherit'] })
      : spawn(process.execPath, [resolve('dist/src/main.js'), ...args], { stdio: ['ignore', 'ignore', 'inherit'], cwd: dir });
  try {
    while ((await decide(url)).result !== 'user-1-0') {
      if (child.exitCode !== null) throw new Error(`${server} exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const published = performance.now();
    bundleServer.setBundle('bench', big);
    let answeredMeanwhile = 0;
    let slowestMs = 0;
    // Until every process answers from the new revision: the first new answer may come from one worker while
    // the others still load it.
    let activationMs = 0;
    for (let inARow = 0; inARow < 20; ) {
      const { result, ms } = await decide(url);
      slowestMs = Math.max(slowestMs, ms);
      if (result === 'user-1-1') {
        if (inARow++ === 0) activationMs = performance.now() - published;
      } else inARow = 0;
      if (result === 'user-1-0') answeredMeanwhile++;
      if (child.exitCode !== null) throw new Error(`${server} exited with ${child.exitCode}`);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const { rss, peak, processes, each } = treeMemory(child.pid!);
    const name = { opa: 'opa run --server (defaults)', verdict: 'verdict run --server (defaults)', 'verdict-1': 'verdict run --server --workers 1' }[server];
    return { server: name, processes, activationMs, answeredMeanwhile, slowestMs, rss, peak, each };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

const rows: Row[] = [];
for (const server of servers) rows.push(await measure(server as 'opa' | 'verdict' | 'verdict-1'));
await bundleServer.close();

console.log(`data.json: ${mb(rawJson).toFixed(1)} MiB raw JSON (${mb(big.length).toFixed(1)} MiB gzipped bundle), users grouped 100 per object`);
console.log('| server | processes | activation | decisions answered during it | slowest decision | RSS | RSS per MiB of data | RSS of each process | peak RSS |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.server} | ${r.processes} | ${(r.activationMs / 1000).toFixed(1)} s | ${r.answeredMeanwhile} | ${r.slowestMs.toFixed(0)} ms | ${mb(r.rss).toFixed(0)} MiB | ` +
      `${(r.rss / rawJson).toFixed(2)} | ${r.each.map((b) => mb(b).toFixed(0)).join(' + ')} MiB | ${mb(r.peak).toFixed(0)} MiB |`,
  );
}
const o = rows.find((r) => r.server.startsWith('opa'));
for (const v of rows.filter((r) => r.server.startsWith('verdict'))) {
  console.log(`${v.server}: RSS ${(v.rss / rawJson).toFixed(2)}× the raw JSON (target ≤ 3×)${o ? `, ${(v.rss / o.rss).toFixed(2)}× OPA's` : ''}`);
}
