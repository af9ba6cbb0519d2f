// CPU time per decision of `verdict run`, by thread, for several configurations served side by side: every server
// starts at once and is loaded at the same fixed rate (autocannon, the gateway policy and input of bench:http) at
// the same time, so all of them run under the same machine load. The figures are CPU time read from Linux's
// /proc/<pid>/task/<tid>/schedstat before and after the measured window, divided by the decisions answered:
// the server threads' event loops, the decision-log writer thread, the other threads (the garbage collector's
// and compiler's helpers, the libuv pool) and the main thread (the supervisor; with --workers 1 it serves and
// counts as the loop). Threads are told apart by the order they start in: the writer is opened before the server
// threads, and they are the last threads started. Context switches per decision of the loops and the writer
// show the hand-off's wake-ups. Decisions per second at saturation need a quiet machine (bench:http); CPU per
// decision at a fixed rate can be compared on a loaded one.
// --profile N also runs every server under V8's sampling profiler (--cpu-prof, every 250 µs) and prints, for the
// server threads, the N functions whose time per decision differs most between the first configuration and the
// others, with the decision log's record step (recordDecision and all it calls) as one line: where a log-on
// server's event loops spend their extra time. The profiles cover the whole run (warm-up too) and count time a
// thread was ready but not running where it stopped, so they attribute, and schedstat's figures measure.
// Every server is loaded at the rate for --warmup seconds before the window (default 30, see bench-warmup.ts),
// so that the JIT compilers' helper threads have finished with the request path and do not count in it.
//   npm run bench:server-cpu -- [--rate 1500] [--duration 10] [--warmup 30] [--workers 2] [--profile N] [CONFIG ...]
// CONFIG is a decision-log mode, off, default or sync (default: off default), optionally followed by @DIR to
// run the build in DIR (another checkout's dist/) instead of this one, e.g. `off default default@/tmp/base/dist`.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/free-port.js';
import { processTree } from './process-tree.js';
import { WARMUP_HELP, warmupSeconds } from './bench-warmup.js';

interface AutocannonResult {
  requests: { total: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: 'string', default: '1500' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string' },
    workers: { type: 'string', default: '2' },
    connections: { type: 'string', default: '16' },
    profile: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(`npm run bench:server-cpu -- [options] [CONFIG ...]: CPU per decision by thread of servers loaded side by side at a fixed rate
  CONFIG: off, default or sync, optionally @DIR (another build's dist/); default: off default
  --rate N (default 1500/s per server) --duration SECONDS (default 10) --workers N (default 2) --connections N --profile N
  ${WARMUP_HELP}`);
  process.exit(0);
}
const warmup = warmupSeconds(values.warmup);
const root = fileURLToPath(new URL('../..', import.meta.url));
const configs = positionals.length ? positionals : ['off', 'default'];
const modes = ['off', 'default', 'sync'];
for (const config of configs) {
  if (!modes.includes(config.split('@')[0])) throw new Error(`unknown configuration ${config}: a mode (${modes.join(', ')}), optionally @DIR`);
}

const work = mkdtempSync(join(tmpdir(), 'verdict-bench-server-cpu-'));
const bundle = join(work, 'bundle');
mkdirSync(join(bundle, 'gateway', 'authz'), { recursive: true });
cpSync(join(root, 'rego/gateway/authz.rego'), join(bundle, 'gateway', 'authz', 'authz.rego'));
cpSync(join(root, 'rego/gateway/data.json'), join(bundle, 'gateway', 'data.json'));
writeFileSync(join(bundle, '.manifest'), JSON.stringify({ revision: 'bench', roots: ['gateway'] }));
const body = readFileSync(join(root, 'rego/gateway/input.json'), 'utf8');

interface Server {
  config: string;
  child: ChildProcess;
  url: string;
}

const servers: Server[] = [];
for (const [i, config] of configs.entries()) {
  const [mode, dist = join(root, 'dist')] = config.split('@');
  const dir = join(work, `server-${i}`);
  mkdirSync(dir);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `decision_logs:\n  store:\n${mode === 'off' ? '    enabled: false\n' : `    file: ${join(dir, 'decisions.db')}\n    durability: ${mode}\n`}`);
  const port = await freePort();
  const profiler = values.profile ? ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', join(dir, 'profiles')] : [];
  const args = [...profiler, resolve(dist, 'src/main.js'), 'run', '--addr', `127.0.0.1:${port}`, '--log-level', 'warn', '--workers', values.workers!, '--config-file', file, '-b', bundle];
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  servers.push({ config, child, url: `http://127.0.0.1:${port}/v1/data/gateway/authz/allow` });
}

try {
  for (const server of servers) await firstDecision(server);
  const load = (server: Server, duration: number) =>
    autocannon({ url: server.url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: Number(values.connections), duration, overallRate: Number(values.rate) });
  // The warm-up lets the JIT compilers finish: their helper threads would otherwise count in the window.
  const warmups = warmup > 0 ? await Promise.all(servers.map((s) => load(s, warmup))) : servers.map(() => ({ requests: { total: 0 } }));
  const before = servers.map(threadTimes);
  const results = await Promise.all(servers.map((s) => load(s, Number(values.duration))));
  const after = servers.map(threadTimes);

  console.log(`CPU µs per decision by thread, ${configs.length} servers side by side at ${values.rate} decisions/s each for ${values.duration} s (after ${warmup} s of warm-up), --workers ${values.workers}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const columns = ['total', 'loop', 'writer', 'helpers', 'main', 'loop cs', 'writer cs'];
  console.log(`${'configuration'.padEnd(28)} ${'dec/s'.padStart(6)} ${'p99 ms'.padStart(7)} ${columns.map((c) => c.padStart(9)).join(' ')}`);
  for (const [i, server] of servers.entries()) {
    const decisions = results[i].requests.total;
    const used = { loop: 0, writer: 0, helpers: 0, main: 0 };
    const switches = { loop: 0, writer: 0, helpers: 0, main: 0 };
    const kinds = threadKinds(server, [...after[i].values()]);
    for (const [key, t] of after[i]) {
      const kind = kinds.get(t.tid) ?? 'helpers';
      used[kind] += t.ns - (before[i].get(key)?.ns ?? 0);
      switches[kind] += t.switches - (before[i].get(key)?.switches ?? 0);
    }
    const us = (ns: number) => (ns / 1000 / decisions).toFixed(1).padStart(9);
    const per = (n: number) => (n / decisions).toFixed(3).padStart(9);
    const total = used.loop + used.writer + used.helpers + used.main;
    const failed = results[i].non2xx + results[i].errors;
    console.log(`${server.config.padEnd(28)} ${(decisions / Number(values.duration)).toFixed(0).padStart(6)} ${results[i].latency.p99.toFixed(0).padStart(7)} ${us(total)} ${us(used.loop)} ${us(used.writer)} ${us(used.helpers)} ${us(used.main)} ${per(switches.loop)} ${per(switches.writer)}${failed ? `  (${failed} failed)` : ''}`);
  }
  if (values.profile) {
    await stopAll();
    // Every decision answered while the profilers ran: the first one, the warm-up's and the window's.
    const decisions = servers.map((_, i) => 1 + warmups[i].requests.total + results[i].requests.total);
    printProfiles(servers.map((s, i) => serverThreadProfile(join(work, `server-${i}`, 'profiles'), decisions[i])), Number(values.profile));
  }
} finally {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}

async function stopAll(): Promise<void> {
  for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => new Promise((done) => (s.child.exitCode !== null ? done(undefined) : s.child.once('exit', done)))));
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Sampled µs per decision by function (self time), and the record step's (inclusive), over a server's server threads. */
interface ThreadProfile {
  self: Map<string, number>;
  record: number;
}

/** The profiles of the threads that served (those that ran the Data API), summed per function. */
function serverThreadProfile(dir: string, decisions: number): ThreadProfile {
  const self = new Map<string, number>();
  let record = 0;
  for (const file of readdirSync(dir)) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    if (!profile.nodes.some((n) => n.callFrame.url.endsWith('/server/data-api.js'))) continue;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
    for (let i = 0; i < profile.samples.length; i++) {
      // timeDeltas[i + 1] is how long the sample i stood for.
      const us = (profile.timeDeltas[i + 1] ?? 0) / decisions;
      const { callFrame } = byId.get(profile.samples[i])!;
      const name = `${callFrame.functionName || '(anonymous)'} ${callFrame.url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}`;
      self.set(name, (self.get(name) ?? 0) + us);
      for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
        if (byId.get(id)!.callFrame.functionName === 'recordDecision') {
          record += us;
          break;
        }
      }
    }
  }
  return { self, record };
}

function printProfiles(profiles: ThreadProfile[], top: number): void {
  const width = 12;
  console.log(`\nServer threads' sampled µs per decision (V8 profiler; time ready but not running counts where the thread stopped)`);
  console.log(`${'function'.padEnd(64)} ${servers.map((s) => s.config.slice(0, width).padStart(width)).join(' ')}`);
  const busy = (p: ThreadProfile) => [...p.self].reduce((sum, [name, us]) => (name.startsWith('(idle)') ? sum : sum + us), 0);
  const row = (label: string, figures: number[]) => console.log(`${label.slice(0, 64).padEnd(64)} ${figures.map((f) => f.toFixed(2).padStart(width)).join(' ')}`);
  row('(busy: all but idle)', profiles.map(busy));
  row('decision log record step (recordDecision, inclusive)', profiles.map((p) => p.record));
  const names = new Set(profiles.flatMap((p) => [...p.self.keys()]));
  names.delete('(idle) :0');
  const spread = (name: string) => Math.max(...profiles.map((p) => Math.abs((p.self.get(name) ?? 0) - (profiles[0].self.get(name) ?? 0))));
  for (const name of [...names].sort((a, b) => spread(b) - spread(a)).slice(0, top)) row(name, profiles.map((p) => p.self.get(name) ?? 0));
}

async function firstDecision(server: Server): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (server.child.exitCode !== null) throw new Error(`${server.config}: server exited with ${server.child.exitCode}`);
    try {
      const answer = await fetch(server.url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      if (answer.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${server.config}: no answer in 60 s`);
}

interface ThreadTime {
  pid: number;
  tid: number;
  startedAt: number;
  ns: number;
  /** Voluntary and involuntary context switches so far. */
  switches: number;
  /** The thread's name (/proc comm): V8's profiler threads are named, the others are all "node". */
  name: string;
}

/**
 * Which thread does what, from the order they started in (thread ids grow): the last `workers` threads serve
 * (with one worker the main thread does), the one started just before them is the decision-log writer when the log is on.
 */
function threadKinds(server: Server, threads: ThreadTime[]): Map<number, 'loop' | 'writer' | 'main'> {
  const workers = Number(values.workers);
  const logged = !server.config.startsWith('off');
  // With --profile every isolate starts a profiler thread after its own, so those are left out of the order.
  const mine = threads.filter((t) => t.pid === server.child.pid && !t.name.startsWith('v8:')).sort((a, b) => a.startedAt - b.startedAt || a.tid - b.tid);
  const kinds = new Map<number, 'loop' | 'writer' | 'main'>();
  kinds.set(server.child.pid!, workers === 1 ? 'loop' : 'main');
  const loops = workers === 1 ? [] : mine.slice(-workers);
  for (const t of loops) kinds.set(t.tid, 'loop');
  const writer = mine.at(-loops.length - 1);
  if (logged && writer && writer.tid !== server.child.pid) kinds.set(writer.tid, 'writer');
  return kinds;
}

/** CPU nanoseconds, context switches and start time (clock ticks since boot) of every thread of the server's processes. */
function threadTimes(server: Server): Map<string, ThreadTime> {
  const times = new Map<string, ThreadTime>();
  for (const pid of processTree(server.child.pid!)) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        // Fields after the command name; the 22nd field of the line (starttime) is the 20th of these.
        const startedAt = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        const switches = [...status.matchAll(/ctxt_switches:\s+(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        times.set(`${pid}/${tid}`, { pid, tid: Number(tid), startedAt, ns, switches, name });
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  }
  return times;
}
