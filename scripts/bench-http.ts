// HTTP decision benchmark: the gateway policy in rego/gateway served by the reference OPA
// (`opa run --server`, Rego source) and by Verdict serving the same Rego bundle, planned by OPA and compiled by
// our wasm back end (--verdict-module ours, the default) or the bundle built with `opa build -t wasm`
// (--verdict-module opa), each loaded in turn with autocannon at the same concurrency.
//   npm run bench:http [-- --duration 5 --passes 3 --rounds 1 --warmup 30 --connections 64 --workers N --cpus 0-1
//                        --verdict-module ours|opa --decision-logs defaults,off,sync --security plain,tls,authz
//                        --tracing 100,1,0 --opa yes|no --help]
// One run prints OPA with its defaults, OPA printing decision logs to the console, and Verdict in each
// decision-log mode of --decision-logs: defaults (`verdict run` with no config file: the log on, default
// durability), off, default, sync, upload (the default store shipping to a collector process on loopback every
// second); then the ratios of each Verdict row to OPA and of each logging mode to "off". A mode followed by @DIR
// runs the build in DIR (another checkout's dist/) instead of this one, e.g. `--decision-logs off,sync,sync@/tmp/base/dist`
// compares sync in both builds side by side, each against this build's "off". Verdict runs without
// --workers (its default worker count) unless --workers is given. --opa no leaves the OPA rows out.
// --tracing lists sampling percentages measured with distributed_tracing on (decision log off; compare with
// "verdict off", so keep off in --decision-logs), exporting to an OTLP/HTTP sink on loopback; '' measures none.
// --security lists the listener settings measured, each for both servers with the same flags: plain (HTTP),
// tls (HTTPS with a certificate made by openssl) and authz (--authentication=token --authorization=basic with a
// system.authz policy checking the bearer token); default all three, the later ones with the first log mode.
// How noise is kept out: in each of --rounds rounds, the servers of a listener setting are started side by
// side, each is loaded alone for --warmup seconds (default 30, see bench-warmup.ts: the figures are a long-running
// server's steady state, after V8 has optimized its request path), then they are loaded one at a time for
// --duration seconds, --passes times, the order reversed on every pass.
// Each row prints the median of its windows (decisions/s, p50, p99, server CPU per decision) and the range of
// its decisions/s; each ratio is the median of the ratios of windows of the same pass, with their middle half.
// Rounds of one server vary by 10-15 % on a busy machine; a difference of a few percent needs many short
// windows, e.g. --duration 3 --passes 10 --rounds 2, and is only meaningful as a ratio within one run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { freePort } from '../test/free-port.js';
import { startBenchCollector } from './bench-collector.js';
import { makeCerts } from '../test/server/certs.js';
import { treeCpuSeconds } from './process-tree.js';
import { WARMUP_HELP, warmupSeconds } from './bench-warmup.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    workers: { type: 'string' },
    cpus: { type: 'string', default: `0-${availableParallelism() - 1}` },
    rounds: { type: 'string', default: '1' },
    passes: { type: 'string', default: '3' },
    warmup: { type: 'string' },
    opa: { type: 'string', default: 'yes' },
    'verdict-module': { type: 'string', default: 'ours' },
    'decision-logs': { type: 'string', default: 'defaults,off,sync' },
    security: { type: 'string', default: 'plain,tls,authz' },
    tracing: { type: 'string', default: '100,1,0' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(`npm run bench:http -- [options]: OPA and Verdict serving the gateway policy, loaded in turn (see the top of scripts/bench-http.ts)
  --duration SECONDS --passes N --rounds N   the measured windows per row (default 5 s, 3 passes, 1 round)
  ${WARMUP_HELP}
  --connections N --workers N --cpus LIST --verdict-module ours|opa --opa yes|no
  --decision-logs defaults,off,default,sync,upload --security plain,tls,authz --tracing PERCENTAGES`);
  process.exit(0);
}
const warmup = warmupSeconds(values.warmup);
const duration = Number(values.duration);
const connections = Number(values.connections);
const decisionPath = '/v1/data/gateway/authz/allow';
const body = readFileSync('rego/gateway/input.json', 'utf8');

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim().split('\n').pop()!;

// Lay rego/gateway out as a bundle: the policy under its package path, data under gateway/.
const work = mkdtempSync(join(tmpdir(), 'verdict-bench-'));
const source = join(work, 'bundle');
mkdirSync(join(source, 'gateway', 'authz'), { recursive: true });
cpSync('rego/gateway/authz.rego', join(source, 'gateway', 'authz', 'authz.rego'));
cpSync('rego/gateway/data.json', join(source, 'gateway', 'data.json'));
writeFileSync(join(source, '.manifest'), JSON.stringify({ revision: 'bench', roots: ['gateway'] }));
// The same bundle with a system.authz policy for the authz row: one bearer token may decide.
const authzSource = join(work, 'bundle-authz');
cpSync(source, authzSource, { recursive: true });
mkdirSync(join(authzSource, 'system'));
writeFileSync(join(authzSource, 'system', 'authz.rego'), 'package system.authz\n\ndefault allow := false\n\nallow if input.identity == "bench-token"\n');
writeFileSync(join(authzSource, '.manifest'), JSON.stringify({ revision: 'bench', roots: ['gateway', 'system'] }));
const token = 'bench-token';
const certs = makeCerts();
const wasmBundle = join(work, 'bundle.tar.gz');
execFileSync(opa, ['build', '-b', '-t', 'wasm', '-e', 'gateway/authz/allow', '-e', 'gateway/authz/deny', '-o', wasmBundle, source]);

type Security = 'plain' | 'tls' | 'authz';

/** Flags given to both servers for a setting. */
function securityFlags(security: Security): string[] {
  if (security === 'tls') return ['--tls-cert-file', certs.serverA.cert, '--tls-private-key-file', certs.serverA.key];
  if (security === 'authz') return ['--authentication=token', '--authorization=basic'];
  return [];
}

function decide(url: string, security: Security): Promise<unknown> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(security === 'authz' ? { Authorization: `Bearer ${token}` } : {}) };
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url + decisionPath, { method: 'POST', headers, ca: readFileSync(certs.ca) }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitReady(url: string, child: ChildProcess, security: Security): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const answer = (await decide(url, security)) as { result?: unknown };
      if (answer.result !== true) throw new Error(`unexpected decision ${JSON.stringify(answer)}`);
      return;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('unexpected decision')) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} never answered`);
}

interface Started {
  name: string;
  child: ChildProcess;
  url: string;
  security: Security;
}

/** Starts one server and waits until it decides; `quiet` discards its standard error too (where OPA prints its console decision log). */
async function startServer(name: string, command: string, args: string[], security: Security, options: { cwd?: string; quiet?: boolean } = {}): Promise<Started> {
  const port = await freePort();
  const url = `${security === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}`;
  const stdio = ['ignore', 'ignore', options.quiet ? 'ignore' : 'inherit'] as const;
  const child = spawn('taskset', ['-c', values.cpus!, command, ...args.map((a) => a.replace('{addr}', `127.0.0.1:${port}`))], { stdio: [...stdio], ...(options.cwd ? { cwd: options.cwd } : {}) });
  const server = { name, child, url, security };
  try {
    await waitReady(url, child, security);
  } catch (err) {
    await stopServer(server);
    throw new Error(`${name}: ${(err as Error).message}`);
  }
  return server;
}

async function stopServer(server: Started): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

/** Loads one server with autocannon for `seconds`. */
function load(server: Started, seconds: number): Promise<AutocannonResult> {
  const headers = { 'content-type': 'application/json', ...(server.security === 'authz' ? { authorization: `Bearer ${token}` } : {}) };
  return autocannon({ url: server.url + decisionPath, method: 'POST', body, headers, connections, duration: seconds });
}

// Verdict's decision-log modes. "defaults": `verdict run` with no config file at all (the log on, default
// durability, in .verdict/ of a fresh working folder). The others name a config: off, default and sync
// durability, upload (the default store shipping to a collector process on loopback every second).
const modeSettings: Record<string, string> = {
  defaults: 'no config file (decision log on, default durability)',
  off: 'decision_logs.store.enabled: false',
  default: 'decision_logs.store.durability: default',
  sync: 'decision_logs.store.durability: sync',
  upload: 'default durability, uploading to a collector every second',
};
const logModes = values['decision-logs']!.split(',').map((m) => m.trim());
/** A mode of --decision-logs without its @DIR, and the dist/ directory of the build that runs it. */
const modeBuild = (mode: string) => {
  const [name, dist = 'dist'] = mode.split('@');
  return { name: name!, dist: resolve(dist) };
};
for (const mode of logModes) if (!(modeBuild(mode).name in modeSettings)) throw new Error(`--decision-logs: unknown mode ${mode} (${Object.keys(modeSettings).join(', ')}, each optionally @DIR)`);
const collector = logModes.some((m) => modeBuild(m).name === 'upload') ? await startBenchCollector() : undefined;
let runNumber = 0;
/** The config flag and working folder for one run of a mode; each run starts on a fresh database file. */
function logConfig(mode: string): { args: string[]; cwd: string } {
  mode = modeBuild(mode).name;
  const cwd = join(work, `run-${++runNumber}`);
  mkdirSync(cwd);
  if (mode === 'defaults') return { args: [], cwd };
  const file = join(cwd, 'config.yaml');
  const durability = mode === 'upload' ? 'default' : mode;
  const store = mode === 'off' ? '    enabled: false\n' : `    file: ${join(cwd, 'decisions.db')}\n    durability: ${durability}\n`;
  const upload = mode === 'upload' ? `services:\n  collector:\n    url: ${collector!.url}\n` : '';
  const reporting = mode === 'upload' ? '  service: collector\n  reporting: {min_delay_seconds: 1, max_delay_seconds: 1}\n' : '';
  writeFileSync(file, `${upload}decision_logs:\n${reporting}  store:\n${store}`);
  return { args: ['--config-file', file], cwd };
}
// Tracing rows: the decision log off (compared with "verdict off") and spans exported over OTLP/HTTP to a
// sink on loopback that accepts every batch, at each sampling percentage of --tracing ('' for none).
const tracingPercentages = values.tracing ? values.tracing.split(',').map(Number) : [];
const otlpSink = tracingPercentages.length ? await startOtlpSink() : undefined;
function tracingConfig(percentage: number): { args: string[]; cwd: string } {
  const cwd = join(work, `run-${++runNumber}`);
  mkdirSync(cwd);
  const file = join(cwd, 'config.yaml');
  writeFileSync(file, `decision_logs:\n  store:\n    enabled: false\ndistributed_tracing:\n  type: http\n  address: 127.0.0.1:${otlpSink!.port}\n  sample_percentage: ${percentage}\n`);
  return { args: ['--config-file', file], cwd };
}
async function startOtlpSink(): Promise<{ port: number; batches: () => number; stop: () => void }> {
  let batches = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      batches++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  // Collectors keep an idle connection open far longer than Node's 5 s default, which is exactly the exporter's
  // batch delay: without this every export at low sampling would open a new connection.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { port: (server.address() as AddressInfo).port, batches: () => batches, stop: () => server.close() };
}
const opaConsoleConfig = join(work, 'opa-console.yaml');
writeFileSync(opaConsoleConfig, 'decision_logs:\n  console: true\n');

const securities = values.security!.split(',').map((m) => m.trim()) as Security[];
for (const security of securities) if (!['plain', 'tls', 'authz'].includes(security)) throw new Error(`--security: unknown setting ${security} (plain, tls, authz)`);
if (values['verdict-module'] === 'opa' && securities.includes('authz')) throw new Error('--verdict-module opa: the authz row needs the Rego bundle (its system.authz policy); add --security plain,tls');
const rounds = Number(values.rounds);
const passes = Number(values.passes);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds ${values.rounds}: expected a positive integer`);
if (!(Number.isInteger(passes) && passes >= 1)) throw new Error(`--passes ${values.passes}: expected a positive integer`);
if (values.opa !== 'yes' && values.opa !== 'no') throw new Error(`--opa ${values.opa}: expected yes or no`);
const workerFlags = values.workers ? ['--workers', values.workers] : [];
const workersNote = values.workers ? `--workers ${values.workers}` : 'default workers';

/** One server of a row, as started for a round. */
interface RowSpec {
  name: string;
  settings: string;
  command: string;
  args: string[];
  options: { cwd?: string; quiet?: boolean };
}

/** The rows of one listener setting, in the order they are printed; each call lays out fresh working folders. */
function rowSpecs(security: Security): RowSpec[] {
  const bundleDir = security === 'authz' ? authzSource : source;
  const flags = securityFlags(security);
  const suffix = security === 'plain' ? '' : ` ${security}`;
  const specs: RowSpec[] = [];
  if (values.opa === 'yes') {
    const opaArgs = ['run', '--server', '--addr', '{addr}', '--log-level', 'error', ...flags, '-b', bundleDir];
    specs.push({ name: `opa${suffix}`, settings: `opa run --server ${flags.map((f) => f + ' ').join('')}(defaults, no decision log)`, command: opa, args: opaArgs, options: {} });
    if (security === 'plain') {
      // OPA's only local decision log: every event printed on its log (standard error, discarded here).
      const args = ['run', '--server', '--addr', '{addr}', '--log-level', 'info', '--config-file', opaConsoleConfig, '-b', bundleDir];
      specs.push({ name: 'opa console', settings: 'decision_logs.console: true, --log-level info', command: opa, args, options: { quiet: true } });
    }
  }
  const bundle = values['verdict-module'] === 'opa' ? wasmBundle : bundleDir;
  const verdict = (configArgs: string[], dist = resolve('dist')) => [join(dist, 'src/main.js'), 'run', '--addr', '{addr}', '--log-level', 'warn', ...workerFlags, ...configArgs, ...flags, '-b', bundle];
  // Plain HTTP is measured in every decision-log mode; TLS and authz in the first one.
  for (const mode of security === 'plain' ? logModes : logModes.slice(0, 1)) {
    const { args, cwd } = logConfig(mode);
    const { name, dist } = modeBuild(mode);
    const build = dist === resolve('dist') ? '' : `, build ${dist}`;
    specs.push({ name: `verdict ${mode}${suffix}`, settings: `${workersNote}, ${modeSettings[name]}${build}${flags.length ? ' ' + flags.join(' ') : ''}`, command: process.execPath, args: verdict(args, dist), options: { cwd } });
  }
  if (security === 'plain') {
    for (const percentage of tracingPercentages) {
      const { args, cwd } = tracingConfig(percentage);
      const settings = `${workersNote}, decision log off, distributed_tracing.sample_percentage: ${percentage} (OTLP/HTTP to a loopback sink)`;
      specs.push({ name: `verdict tracing ${percentage}%`, settings, command: process.execPath, args: verdict(args), options: { cwd } });
    }
  }
  return specs;
}

/** One load window on one server. `slot` names the round and pass: windows of the same slot are paired. */
interface Sample {
  slot: string;
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  /** Server CPU seconds (all its processes) per decision, when /proc can be read. */
  cpu?: number;
}
interface Row {
  name: string;
  settings: string;
  samples: Sample[];
}
const rows = new Map<string, Row>();
const sampleOf = (slot: string, result: AutocannonResult, cpuSeconds: number | undefined): Sample => ({
  slot,
  rate: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  errors: result.non2xx + result.errors + result.timeouts,
  ...(cpuSeconds !== undefined && result.requests.total > 0 ? { cpu: cpuSeconds / result.requests.total } : {}),
});

// Each round starts the servers of one listener setting side by side, warms each up alone at full load for the
// same --warmup seconds, then loads them one at a time for --duration seconds, --passes times, the order
// reversed on every pass: a drift of the machine's load over the round then falls on every row alike, and a row's
// windows pair with the other rows' windows of the same pass for the ratios. Every round starts fresh server
// processes.
for (let round = 0; round < rounds; round++) {
  for (const security of securities) {
    const started: Started[] = [];
    try {
      for (const spec of rowSpecs(security)) {
        if (!rows.has(spec.name)) rows.set(spec.name, { name: spec.name, settings: spec.settings, samples: [] });
        started.push(await startServer(spec.name, spec.command, spec.args, security, spec.options));
      }
      if (warmup > 0) for (const server of started) await load(server, warmup);
      for (let pass = 0; pass < passes; pass++) {
        for (const server of pass % 2 === 0 ? started : [...started].reverse()) {
          const cpuBefore = treeCpuSeconds(server.child.pid!);
          const result = await load(server, duration);
          const cpuAfter = treeCpuSeconds(server.child.pid!);
          rows.get(server.name)!.samples.push(sampleOf(`${round}.${pass}`, result, cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore));
          await new Promise((r) => setTimeout(r, 250)); // let the last connections close before the next window
        }
      }
      console.error(`${security}: round ${round + 1} of ${rounds} done`);
    } finally {
      for (const server of started) await stopServer(server);
    }
  }
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low]! + (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (at - low);
};
const median = (values: number[]) => quantile(values, 0.5);
const cpuOf = (samples: Sample[]) => samples.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu]));

const windows = rounds * passes;
console.log(
  `gateway decision over HTTP: ${connections} connections, CPUs ${values.cpus}, Verdict ${values.workers ? `--workers ${values.workers}` : 'without --workers (its default)'} (${values['verdict-module'] === 'opa' ? 'OPA-built policy.wasm' : 'compiled by Verdict from the Rego source'}), input ${Buffer.byteLength(body)} B; ` +
    `each server warmed up alone for ${warmup}s at full load, then ${rounds} round(s) × ${passes} pass(es) of ${duration}s windows per row (the rows of a listener setting run side by side and are loaded in turn, the order reversed every pass); figures are medians over the ${windows} window(s)`,
);
if (windows > 1) for (const row of rows.values()) console.log(`${row.name} decisions/s per window: ${row.samples.map((s) => s.rate.toFixed(0)).join(' ')}`);
const width = Math.max(...[...rows.keys()].map((k) => k.length), 6) + 2;
console.log(`${'server'.padEnd(width)} ${'decisions/s'.padStart(11)} ${'range'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'CPU µs/dec'.padStart(10)}  settings`);
for (const row of rows.values()) {
  const rates = row.samples.map((s) => s.rate);
  const rate = median(rates);
  const range = `±${((50 * (Math.max(...rates) - Math.min(...rates))) / rate).toFixed(1)}%`;
  const cpu = cpuOf(row.samples);
  const errors = row.samples.reduce((n, s) => n + s.errors, 0);
  console.log(
    `${row.name.padEnd(width)} ${rate.toFixed(0).padStart(11)} ${range.padStart(7)} ${median(row.samples.map((s) => s.p50)).toFixed(2).padStart(8)} ${median(row.samples.map((s) => s.p99)).toFixed(2).padStart(8)} ${String(errors).padStart(7)} ${(cpu.length ? (median(cpu) * 1e6).toFixed(1) : '-').padStart(10)}  ${row.settings}`,
  );
}
console.log('range: half the spread between the slowest and fastest window, relative to the median. CPU µs/dec: CPU time of all the server\'s processes during a window divided by the decisions it served.');

/**
 * The ratio of two rows: decisions/s as the median of the ratios of windows of the same pass (adjacent in time,
 * so the machine's drift cancels), with the middle half of those ratios; p99 and CPU per decision likewise.
 */
const ratio = (a: string, b: string) => {
  const x = rows.get(a);
  const y = rows.get(b);
  if (!x || !y) return;
  const pairs = x.samples.flatMap((s) => {
    const other = y.samples.find((t) => t.slot === s.slot);
    return other ? [[s, other] as const] : [];
  });
  if (pairs.length === 0) return;
  const rates = pairs.map(([s, t]) => s.rate / t.rate);
  const p99 = median(pairs.map(([s, t]) => s.p99 / t.p99));
  const cpu = pairs.flatMap(([s, t]) => (s.cpu !== undefined && t.cpu !== undefined ? [s.cpu / t.cpu] : []));
  const spread = (r: number[]) => (r.length > 1 ? ` (middle half ${quantile(r, 0.25).toFixed(3)}–${quantile(r, 0.75).toFixed(3)}, ${r.length} pairs)` : '');
  console.log(
    `ratio ${a} / ${b}: decisions/s ${median(rates).toFixed(3)}${spread(rates)}, p99 ${p99.toFixed(2)}` +
      (cpu.length ? `, CPU per decision ${median(cpu).toFixed(3)}${spread(cpu)}` : ''),
  );
};
if (values.opa === 'yes') for (const mode of logModes) ratio(`verdict ${mode}`, 'opa');
for (const mode of logModes.filter((m) => m !== 'off')) ratio(`verdict ${mode}`, 'verdict off');
// A mode in this build against the same mode in another (@DIR).
for (const mode of logModes.filter((m) => m.includes('@'))) ratio(`verdict ${modeBuild(mode).name}`, `verdict ${mode}`);
for (const percentage of tracingPercentages) ratio(`verdict tracing ${percentage}%`, 'verdict off');
if (otlpSink) console.log(`OTLP export requests received by the sink: ${otlpSink.batches()}`);
if (values.opa === 'yes') for (const security of securities.filter((s) => s !== 'plain')) ratio(`verdict ${logModes[0]} ${security}`, `opa ${security}`);
collector?.stop();
otlpSink?.stop();
