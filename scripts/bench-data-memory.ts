// Resident memory with a large data.json, OPA against Verdict, each started for real with its defaults
// (`opa run --server`, `verdict run --server`; only the address, a config naming the bundle service and
// --log-level error are given). Each server first activates a tiny revision of the bundle from a loopback
// bundle server; then the ~N MB revision is published and decisions are sent back to back until they use it,
// which times the activation (download, parse, load, swap) as a client sees it and shows whether decisions
// were answered meanwhile (from the old revision) and how long the slowest one took. Once 20 decisions in a
// row used it (so every worker has it), the resident memory of the server's whole process tree is read from
// /proc two seconds later (VmRSS, with the breakdown below), and again, with the peak (VmHWM) and the breakdown, ten seconds later
// (Verdict collects garbage for some seconds after a large load: src/engine/memory-release.ts).
// Verdict is measured twice: with its defaults and with --workers 1, whichever model they run (worker processes
// or worker threads of one process); the resident memory of each process of the tree is printed too, and for
// Verdict's processes what it holds: wasm linear memory (resident pages of the mappings wasm memories live in),
// the V8 heap (committed, of every isolate: the process's main thread and each worker thread, printed per
// isolate too), ArrayBuffers and Buffers outside the heap (at least the largest isolate's external memory less the
// wasm memories' size: memory shared between threads counts in each of their isolates; part of malloc or other), read from the diagnostic report
// each process writes on SIGUSR2 (--report-on-signal; it holds the reports of the process's worker threads),
// and the rest, split by mapping (/proc/<pid>/smaps): code
// (the resident pages of the node binary, shared libraries and addons: shared between the processes, yet counted
// in each one's RSS), malloc (the brk heap and glibc's thread arenas: what native code holds, and what it freed but
// glibc kept) and other (thread stacks, compiled code, V8's reservations, buffers mapped on their own).
//   npm run bench:data-memory [-- megabytes [servers]]   (default 100; servers: a comma list of opa, verdict,
//                                                          verdict-1, default all three; verdict and verdict-1
//                                                          take @<dist directory> to run another build of
//                                                          Verdict, for an A/B in one run: verdict@.cache/base-dist)
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeBundleArchive } from '../src/bundle/files.js';
import { findOpa } from '../src/engine/opa-compiler.js';
import { TestBundleServer } from '../test/bundle/bundle-server.js';
import { freePort } from '../test/free-port.js';
import { bigDataBundle, bigDataDecision } from './data-bundle.js';
import { processTree } from './process-tree.js';

const megabytes = Number(process.argv[2] ?? 100);
const servers = (process.argv[3] ?? 'opa,verdict,verdict-1').split(',');
for (const s of servers) if (!/^(opa|verdict(-1)?(@.+)?)$/.test(s)) throw new Error(`unknown server ${JSON.stringify(s)}: expected opa, verdict or verdict-1 (the last two with an optional @<dist directory>)`);
if (!Number.isFinite(megabytes) || megabytes <= 0) throw new Error(`megabytes must be a positive number, not ${JSON.stringify(process.argv[2])}`);
const opa = findOpa();
if (!opa && servers.includes('opa')) throw new Error('the reference OPA is needed: run scripts/install-opa.sh');

const bundleServer = await TestBundleServer.start({ bundleContentType: true });
const small = await writeBundleArchive(bigDataBundle(0, 300));
const bigFiles = bigDataBundle(1, megabytes * 1e6);
const rawJson = bigFiles.find((f) => f.path.endsWith('data.json'))!.data.length;
const big = await writeBundleArchive(bigFiles);
bigFiles.length = 0;

const mb = (bytes: number) => bytes / 1048576;
/** When, after the activation, the resident memory is read for the ratio and the breakdown. */
const SETTLED_MS = 10_000;

interface Row {
  server: string;
  processes: number;
  activationMs: number;
  answeredMeanwhile: number;
  slowestMs: number;
  /** Two seconds after the activation. */
  rssSoon: number;
  /** Ten seconds after the activation. */
  rss: number;
  peak: number;
  /** Resident bytes of each process, the server's own first. */
  each: number[];
  /** Threads of each process. */
  threads: number[];
  /** What each of Verdict's processes holds (none for OPA), two and ten seconds after the activation. */
  partsSoon: Parts[];
  parts: Parts[];
}

/** Where a Node process's resident memory goes, in bytes. */
interface Parts {
  wasm: number;
  heap: number;
  /** Committed V8 heap of each isolate: the main thread's, then each worker thread's. */
  heaps: number[];
  buffers: number;
  code: number;
  malloc: number;
  other: number;
}

interface Mapping {
  start: number;
  end: number;
  perms: string;
  name: string;
  rss: number;
}

/** A process's mappings with their resident bytes. */
function mappings(pid: number): Mapping[] {
  const maps: Mapping[] = [];
  for (const line of safeRead(`/proc/${pid}/smaps`).split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) maps.push({ start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), perms: head[3]!, name: head[4]!, rss: 0 });
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && maps.length > 0) maps[maps.length - 1]!.rss = Number(rss[1]) * 1024;
  }
  return maps;
}

/** Resident and peak resident bytes of a process tree. */
function treeMemory(pid: number): { rss: number; peak: number; processes: number; each: number[]; threads: number[]; pids: number[] } {
  let rss = 0;
  let peak = 0;
  const each: number[] = [];
  const threads: number[] = [];
  const pids = processTree(pid);
  for (const p of pids) {
    const status = safeRead(`/proc/${p}/status`);
    const own = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    each.push(own);
    threads.push(Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0));
    rss += own;
    peak += Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  }
  return { rss, peak, processes: pids.length, each, threads, pids };
}

/**
 * The resident pages of a process's wasm memories and their size, of its files' mappings (code), and of malloc:
 * V8 maps each wasm memory's accessible bytes read-write at the start of a reservation of several GiB whose rest
 * is inaccessible; glibc grows its main arena with brk ([heap]) and maps each further arena as a 64 MiB-aligned
 * reservation of 64 MiB.
 */
function residentByKind(pid: number): { wasm: number; wasmSize: number; code: number; malloc: number } {
  const maps = mappings(pid);
  const arena = 64 << 20;
  const kinds = { wasm: 0, wasmSize: 0, code: 0, malloc: 0 };
  for (const [i, a] of maps.entries()) {
    const b = maps[i + 1];
    const reservationEnd = b && b.perms === '---p' && a.end === b.start ? b.end : a.end;
    if (a.name.startsWith('/')) kinds.code += a.rss;
    else if (a.name === '[heap]') kinds.malloc += a.rss;
    else if (a.name !== '' || a.perms !== 'rw-p') continue;
    else if (reservationEnd - a.start >= 2 ** 32) {
      kinds.wasm += a.rss;
      kinds.wasmSize += a.end - a.start;
    } else if (a.start % arena === 0 && reservationEnd - a.start === arena) kinds.malloc += a.rss;
  }
  return kinds;
}

/** Asks a Node process (started with --report-on-signal) for a diagnostic report and splits its memory. */
async function nodeParts(pid: number, rss: number, reports: string): Promise<Parts> {
  process.kill(pid, 'SIGUSR2');
  let file: string | undefined;
  for (let tries = 0; tries < 200 && !file; tries++) {
    await new Promise((r) => setTimeout(r, 50));
    file = safeList(reports).find((f) => f.includes(`.${pid}.`) && f.endsWith('.json'));
    if (file) {
      try {
        JSON.parse(readFileSync(join(reports, file), 'utf8'));
      } catch {
        file = undefined;
      }
    }
  }
  if (!file) throw new Error(`process ${pid} wrote no diagnostic report`);
  type Heap = { totalCommittedMemory: number; externalMemory: number };
  const report = JSON.parse(readFileSync(join(reports, file), 'utf8')) as { javascriptHeap: Heap; workers?: { javascriptHeap: Heap }[] };
  rmSync(join(reports, file));
  const isolates = [report.javascriptHeap, ...(report.workers ?? []).map((w) => w.javascriptHeap)];
  const heaps = isolates.map((h) => h.totalCommittedMemory);
  const heap = heaps.reduce((a, b) => a + b, 0);
  const kinds = residentByKind(pid);
  const buffers = Math.max(0, Math.max(...isolates.map((h) => h.externalMemory)) - kinds.wasmSize);
  const { wasm, code, malloc } = kinds;
  // Buffers are malloc's or mappings of their own: they are part of malloc or other, not subtracted again.
  return { wasm, heap, heaps, buffers, code, malloc, other: rss - wasm - heap - code - malloc };
}

/** nodeParts of each process of a tree, as treeMemory read it. */
async function treeParts({ each, pids }: { each: number[]; pids: number[] }, reports: string): Promise<Parts[]> {
  const parts: Parts[] = [];
  for (const [i, pid] of pids.entries()) parts.push(await nodeParts(pid, each[i]!, reports));
  return parts;
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

async function measure(named: string): Promise<Row> {
  const [server, dist] = named.split('@') as ['opa' | 'verdict' | 'verdict-1', string | undefined];
  bundleServer.setBundle('bench', small);
  const dir = mkdtempSync(join(tmpdir(), `bench-data-memory-${server}-`));
  const reports = join(dir, 'reports');
  mkdirSync(reports);
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
      : spawn(process.execPath, [resolve(dist ?? 'dist', 'src/main.js'), ...args], {
          stdio: ['ignore', 'ignore', 'inherit'],
          cwd: dir,
          env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --report-on-signal --report-signal=SIGUSR2 --report-directory=${reports}` },
        });
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
    const activated = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    const soon = treeMemory(child.pid!);
    const partsSoon = server === 'opa' ? [] : await treeParts(soon, reports);
    await new Promise((r) => setTimeout(r, SETTLED_MS - (performance.now() - activated)));
    const { rss, peak, processes, each, threads, pids } = treeMemory(child.pid!);
    const parts = server === 'opa' ? [] : await treeParts({ each, pids }, reports);
    const name = { opa: 'opa run --server (defaults)', verdict: 'verdict run --server (defaults)', 'verdict-1': 'verdict run --server --workers 1' }[server] + (dist ? ` [${dist}]` : '');
    return { server: name, processes, activationMs, answeredMeanwhile, slowestMs, rssSoon: soon.rss, rss, peak, each, threads, partsSoon, parts };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

const rows: Row[] = [];
for (const server of servers) rows.push(await measure(server));
await bundleServer.close();

const setting = (name: string) => `${name}=${process.env[name] === undefined ? '(unset)' : JSON.stringify(process.env[name])}`;
console.log(`node ${process.version}, ${availableParallelism()} cores, ${setting('MALLOC_ARENA_MAX')}, ${setting('NODE_OPTIONS')} (besides the report flags)`);
console.log(`data.json: ${mb(rawJson).toFixed(1)} MiB raw JSON (${mb(big.length).toFixed(1)} MiB gzipped bundle), users grouped 100 per object`);
console.log(`| server | processes (threads) | activation | decisions answered during it | slowest decision | RSS 2 s after | RSS ${SETTLED_MS / 1000} s after | RSS per MiB of data | RSS of each process | peak RSS |`);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.server} | ${r.processes} (${r.threads.join(' + ')}) | ${(r.activationMs / 1000).toFixed(1)} s | ${r.answeredMeanwhile} | ${r.slowestMs.toFixed(0)} ms | ${mb(r.rssSoon).toFixed(0)} MiB | ${mb(r.rss).toFixed(0)} MiB | ` +
      `${(r.rss / rawJson).toFixed(2)} | ${r.each.map((b) => mb(b).toFixed(0)).join(' + ')} MiB | ${mb(r.peak).toFixed(0)} MiB |`,
  );
}
console.log('\nWhere each process\'s resident memory goes (MiB): wasm linear memory / V8 heap / buffers outside the heap (part of malloc or other) / code (binary, libraries) / malloc / other');
console.log('(V8 heap: all isolates of the process; in brackets, the main thread\'s and each worker thread\'s)');
for (const r of rows.filter((r) => r.parts.length > 0)) {
  const part = (p: Parts) => [p.wasm, p.heap, p.buffers, p.code, p.malloc, p.other].map((b) => mb(b).toFixed(0)).join(' / ') + (p.heaps.length > 1 ? ` [heaps ${p.heaps.map((b) => mb(b).toFixed(0)).join(' + ')}]` : '');
  console.log(`${r.server}, 2 s after: ${r.partsSoon.map(part).join(' + ')}`);
  console.log(`${r.server}, ${SETTLED_MS / 1000} s after: ${r.parts.map(part).join(' + ')}`);
}
const o = rows.find((r) => r.server.startsWith('opa'));
for (const v of rows.filter((r) => r.server.startsWith('verdict'))) {
  console.log(`${v.server}: RSS ${(v.rss / rawJson).toFixed(2)}× the raw JSON (target ≤ 3×)${o ? `, ${(v.rss / o.rss).toFixed(2)}× OPA's` : ''}`);
}
