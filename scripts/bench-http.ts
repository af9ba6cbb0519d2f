// HTTP decision benchmark: the gateway policy in rego/gateway served by the reference OPA
// (`opa run --server`, Rego source) and by Verdict serving the same Rego bundle, planned by OPA and compiled by
// our wasm back end (--verdict-module ours, the default) or the bundle built with `opa build -t wasm`
// (--verdict-module opa), each loaded in turn with autocannon at the same concurrency and duration.
//   npm run bench:http [-- --duration 10 --connections 64 --workers N --cpus 0-1 --rounds 1 --verdict-module ours|opa
//                        --decision-logs defaults,off,sync --security plain,tls,authz --tracing 100,1,0]
// One run prints OPA with its defaults, OPA printing decision logs to the console, and Verdict in each
// decision-log mode of --decision-logs: defaults (`verdict run` with no config file: the log on, default
// durability), off, default, sync, upload (the default store shipping to a collector process on loopback every
// second); then the ratios of each Verdict row to OPA and of each logging mode to "off". Verdict runs without
// --workers (its default worker count) unless --workers is given.
// --tracing lists sampling percentages measured with distributed_tracing on (decision log off; compare with
// "verdict off", so keep off in --decision-logs), exporting to an OTLP/HTTP sink on loopback; '' measures none.
// --security lists the listener settings measured, each for both servers with the same flags: plain (HTTP),
// tls (HTTPS with a certificate made by openssl) and authz (--authentication=token --authorization=basic with a
// system.authz policy checking the bearer token); default all three, the later ones with the first log mode.
// Prints decisions/s, p50 and p99 latency and the settings of each row. On a shared, noisy machine use
// --rounds N: the servers are measured alternately N times and the median round of each is reported.
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

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    workers: { type: 'string' },
    cpus: { type: 'string', default: `0-${availableParallelism() - 1}` },
    rounds: { type: 'string', default: '1' },
    'verdict-module': { type: 'string', default: 'ours' },
    'decision-logs': { type: 'string', default: 'defaults,off,sync' },
    security: { type: 'string', default: 'plain,tls,authz' },
    tracing: { type: 'string', default: '100,1,0' },
  },
});
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

/** Loads one server; `quiet` discards its standard error too (where OPA prints its console decision log). */
async function measure(name: string, command: string, args: string[], security: Security, options: { cwd?: string; quiet?: boolean } = {}): Promise<AutocannonResult> {
  const port = await freePort();
  const url = `${security === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}`;
  const stdio = ['ignore', 'ignore', options.quiet ? 'ignore' : 'inherit'] as const;
  const child = spawn('taskset', ['-c', values.cpus!, command, ...args.map((a) => a.replace('{addr}', `127.0.0.1:${port}`))], { stdio: [...stdio], ...(options.cwd ? { cwd: options.cwd } : {}) });
  try {
    await waitReady(url, child, security);
    const headers = { 'content-type': 'application/json', ...(security === 'authz' ? { authorization: `Bearer ${token}` } : {}) };
    const load = { url: url + decisionPath, method: 'POST', body, headers, connections };
    await autocannon({ ...load, duration: 2 }); // warm-up: JIT, connection pools
    const result = await autocannon({ ...load, duration });
    console.error(`${name}: done`);
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
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
for (const mode of logModes) if (!(mode in modeSettings)) throw new Error(`--decision-logs: unknown mode ${mode} (${Object.keys(modeSettings).join(', ')})`);
const collector = logModes.includes('upload') ? await startBenchCollector() : undefined;
let runNumber = 0;
/** The config flag and working folder for one run of a mode; each run starts on a fresh database file. */
function logConfig(mode: string): { args: string[]; cwd: string } {
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
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { port: (server.address() as AddressInfo).port, batches: () => batches, stop: () => server.close() };
}
const opaConsoleConfig = join(work, 'opa-console.yaml');
writeFileSync(opaConsoleConfig, 'decision_logs:\n  console: true\n');

const securities = values.security!.split(',').map((m) => m.trim()) as Security[];
for (const security of securities) if (!['plain', 'tls', 'authz'].includes(security)) throw new Error(`--security: unknown setting ${security} (plain, tls, authz)`);
if (values['verdict-module'] === 'opa' && securities.includes('authz')) throw new Error('--verdict-module opa: the authz row needs the Rego bundle (its system.authz policy); add --security plain,tls');
const rounds = Number(values.rounds);
const workerFlags = values.workers ? ['--workers', values.workers] : [];

interface Row {
  name: string;
  settings: string;
  runs: AutocannonResult[];
}
const rows = new Map<string, Row>();
function addRun(name: string, settings: string, result: AutocannonResult): void {
  if (!rows.has(name)) rows.set(name, { name, settings, runs: [] });
  rows.get(name)!.runs.push(result);
}
for (let round = 0; round < rounds; round++) {
  for (const security of securities) {
    const bundleDir = security === 'authz' ? authzSource : source;
    const flags = securityFlags(security);
    const suffix = security === 'plain' ? '' : ` ${security}`;
    const opaArgs = ['run', '--server', '--addr', '{addr}', '--log-level', 'error', ...flags, '-b', bundleDir];
    addRun(`opa${suffix}`, `opa run --server ${flags.map((f) => f + ' ').join('')}(defaults, no decision log)`, await measure(`opa (${security})`, opa, opaArgs, security));
    if (security === 'plain') {
      // OPA's only local decision log: every event printed on its log (standard error, discarded here).
      const args = ['run', '--server', '--addr', '{addr}', '--log-level', 'info', '--config-file', opaConsoleConfig, '-b', bundleDir];
      addRun('opa console', 'decision_logs.console: true, --log-level info', await measure('opa (console decision log)', opa, args, security, { quiet: true }));
    }
    // Plain HTTP is measured in every decision-log mode; TLS and authz in the first one.
    for (const mode of security === 'plain' ? logModes : logModes.slice(0, 1)) {
      const bundle = values['verdict-module'] === 'opa' ? wasmBundle : bundleDir;
      const { args: configArgs, cwd } = logConfig(mode);
      const args = [resolve('dist/src/main.js'), 'run', '--addr', '{addr}', '--log-level', 'warn', ...workerFlags, ...configArgs, ...flags, '-b', bundle];
      const result = await measure(`verdict (${security}, decision log ${mode})`, process.execPath, args, security, { cwd });
      const workersNote = values.workers ? `--workers ${values.workers}` : 'default workers';
      addRun(`verdict ${mode}${suffix}`, `${workersNote}, ${modeSettings[mode]}${flags.length ? ' ' + flags.join(' ') : ''}`, result);
    }
    if (security !== 'plain') continue;
    for (const percentage of tracingPercentages) {
      const { args: configArgs, cwd } = tracingConfig(percentage);
      const args = [resolve('dist/src/main.js'), 'run', '--addr', '{addr}', '--log-level', 'warn', ...workerFlags, ...configArgs, '-b', values['verdict-module'] === 'opa' ? wasmBundle : bundleDir];
      const result = await measure(`verdict (tracing ${percentage}%)`, process.execPath, args, security, { cwd });
      addRun(`verdict tracing ${percentage}%`, `${values.workers ? `--workers ${values.workers}` : 'default workers'}, decision log off, distributed_tracing.sample_percentage: ${percentage} (OTLP/HTTP to a loopback sink)`, result);
    }
  }
}
/** The round with the median throughput, so one disturbed round does not decide the comparison. */
const median = (runs: AutocannonResult[]) => [...runs].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(runs.length / 2)];

console.log(
  `gateway decision over HTTP: ${connections} connections, ${duration}s each, CPUs ${values.cpus}, Verdict ${values.workers ? `--workers ${values.workers}` : 'without --workers (its default)'} (${values['verdict-module'] === 'opa' ? 'OPA-built policy.wasm' : 'compiled by Verdict from the Rego source'}), input ${Buffer.byteLength(body)} B, ${rounds} round(s)`,
);
if (rounds > 1) for (const row of rows.values()) console.log(`${row.name} decisions/s per round: ${row.runs.map((r) => r.requests.average.toFixed(0)).join(' ')}`);
const width = Math.max(...[...rows.keys()].map((k) => k.length), 6) + 2;
console.log(`${'server'.padEnd(width)} ${'decisions/s'.padStart(11)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}  settings`);
for (const row of rows.values()) {
  const r = median(row.runs);
  console.log(`${row.name.padEnd(width)} ${r.requests.average.toFixed(0).padStart(11)} ${r.latency.p50.toFixed(2).padStart(8)} ${r.latency.p99.toFixed(2).padStart(8)} ${String(r.non2xx + r.errors + r.timeouts).padStart(7)}  ${row.settings}`);
}
const ratio = (a: string, b: string) => {
  const x = rows.get(a);
  const y = rows.get(b);
  if (!x || !y) return;
  const [rx, ry] = [median(x.runs), median(y.runs)];
  console.log(`ratio ${a} / ${b}: decisions/s ${(rx.requests.average / ry.requests.average).toFixed(2)}, p99 ${(rx.latency.p99 / ry.latency.p99).toFixed(2)}`);
};
for (const mode of logModes) ratio(`verdict ${mode}`, 'opa');
for (const mode of logModes.filter((m) => m !== 'off')) ratio(`verdict ${mode}`, 'verdict off');
for (const percentage of tracingPercentages) ratio(`verdict tracing ${percentage}%`, 'verdict off');
if (otlpSink) console.log(`OTLP export requests received by the sink: ${otlpSink.batches()}`);
for (const security of securities.filter((s) => s !== 'plain')) ratio(`verdict ${logModes[0]} ${security}`, `opa ${security}`);
collector?.stop();
otlpSink?.stop();
