// HTTP decision benchmark: the gateway policy in rego/gateway served by the reference OPA
// (`opa run --server`, Rego source) and by Verdict (one worker per core) serving the same Rego bundle, planned
// by OPA and compiled by our wasm back end (--verdict-module ours, the default) or the bundle built with
// `opa build -t wasm` (--verdict-module opa), each loaded in turn with autocannon at the same concurrency and duration.
//   npm run bench:http [-- --duration 10 --connections 64 --workers N --cpus 0-1 --rounds 1 --verdict-module ours|opa --decision-logs off,default,sync,upload
//                        --security plain,tls,authz]
// --decision-logs lists the decision-log modes Verdict is measured in (default: off, as OPA logs nothing here);
// with several, the logging overhead of each mode relative to the first is printed too. upload: the default
// store shipping to a collector process on loopback every second (e.g. --decision-logs default,upload measures
// what shipping costs the decisions).
// --security lists the listener settings measured, each for both servers with the same flags: plain (HTTP),
// tls (HTTPS with a certificate made by openssl) and authz (--authentication=token --authorization=basic with a
// system.authz policy checking the bearer token); default all three, the later ones with the first log mode.
// Prints decisions/s, p50 and p99 latency per server and the Verdict/OPA ratio. On a shared, noisy machine
// use --rounds N: the servers are measured alternately N times and the median round of each is reported.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request as httpRequest } from 'node:http';
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
    workers: { type: 'string', default: String(availableParallelism()) },
    cpus: { type: 'string', default: `0-${availableParallelism() - 1}` },
    rounds: { type: 'string', default: '1' },
    'verdict-module': { type: 'string', default: 'ours' },
    'decision-logs': { type: 'string', default: 'off' },
    security: { type: 'string', default: 'plain,tls,authz' },
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

async function measure(name: string, command: string, args: string[], security: Security): Promise<AutocannonResult> {
  const port = await freePort();
  const url = `${security === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}`;
  const child = spawn('taskset', ['-c', values.cpus!, command, ...args.map((a) => a.replace('{addr}', `127.0.0.1:${port}`))], { stdio: ['ignore', 'ignore', 'inherit'] });
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

// One config file per decision-log mode; each run starts on a fresh database file.
const logModes = values['decision-logs']!.split(',').map((m) => m.trim());
for (const mode of logModes) if (!['off', 'default', 'sync', 'upload'].includes(mode)) throw new Error(`--decision-logs: unknown mode ${mode} (off, default, sync, upload)`);
const collector = logModes.includes('upload') ? await startBenchCollector() : undefined;
let runNumber = 0;
function logConfig(mode: string): string {
  const file = join(work, `config-${mode}-${++runNumber}.yaml`);
  const durability = mode === 'upload' ? 'default' : mode;
  const store = mode === 'off' ? '    enabled: false\n' : `    file: ${join(work, `decisions-${runNumber}.db`)}\n    durability: ${durability}\n`;
  const upload = mode === 'upload' ? `services:\n  collector:\n    url: ${collector!.url}\n` : '';
  const reporting = mode === 'upload' ? '  service: collector\n  reporting: {min_delay_seconds: 1, max_delay_seconds: 1}\n' : '';
  writeFileSync(file, `${upload}decision_logs:\n${reporting}  store:\n${store}`);
  return file;
}

const securities = values.security!.split(',').map((m) => m.trim()) as Security[];
for (const security of securities) if (!['plain', 'tls', 'authz'].includes(security)) throw new Error(`--security: unknown setting ${security} (plain, tls, authz)`);
if (values['verdict-module'] === 'opa' && securities.includes('authz')) throw new Error('--verdict-module opa: the authz row needs the Rego bundle (its system.authz policy); add --security plain,tls');
const rounds = Number(values.rounds);
const opaRuns = new Map<Security, AutocannonResult[]>(securities.map((s) => [s, []]));
const verdictRuns = new Map<string, AutocannonResult[]>(logModes.map((m) => [m, []]));
const verdictSecureRuns = new Map<Security, AutocannonResult[]>(securities.map((s) => [s, []]));
for (let round = 0; round < rounds; round++) {
  for (const security of securities) {
    const bundleDir = security === 'authz' ? authzSource : source;
    const flags = securityFlags(security);
    opaRuns.get(security)!.push(await measure(`opa (${security})`, opa, ['run', '--server', '--addr', '{addr}', '--log-level', 'error', ...flags, '-b', bundleDir], security));
    // Plain HTTP is measured in every decision-log mode; TLS and authz in the first one.
    for (const mode of security === 'plain' ? logModes : logModes.slice(0, 1)) {
      const bundle = values['verdict-module'] === 'opa' ? wasmBundle : bundleDir;
      const args = ['dist/src/main.js', 'run', '--addr', '{addr}', '--log-level', 'warn', '--workers', values.workers!, '--config-file', logConfig(mode), ...flags, '-b', bundle];
      const result = await measure(`verdict (${security}, decision log ${mode})`, process.execPath, args, security);
      if (security === 'plain') verdictRuns.get(mode)!.push(result);
      else verdictSecureRuns.get(security)!.push(result);
    }
  }
}
/** The round with the median throughput, so one disturbed round does not decide the comparison. */
const median = (runs: AutocannonResult[]) => [...runs].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(runs.length / 2)];
const opaResult = securities.includes('plain') ? median(opaRuns.get('plain')!) : undefined;
const verdictResults = securities.includes('plain') ? logModes.map((mode) => ({ mode, result: median(verdictRuns.get(mode)!) })) : [];
const verdictResult = verdictResults[0]?.result;

const row = (name: string, r: AutocannonResult) =>
  `${name.padEnd(16)} ${r.requests.average.toFixed(0).padStart(10)} ${r.latency.p50.toFixed(2).padStart(8)} ${r.latency.p99.toFixed(2).padStart(8)} ${String(r.non2xx + r.errors + r.timeouts).padStart(7)}`;
console.log(
  `gateway decision over HTTP: ${connections} connections, ${duration}s each, CPUs ${values.cpus}, Verdict workers ${values.workers} (${values['verdict-module'] === 'opa' ? 'OPA-built policy.wasm' : 'compiled by Verdict from the Rego source'}), input ${Buffer.byteLength(body)} B, ${rounds} round(s)`,
);
if (rounds > 1) {
  for (const [security, runs] of opaRuns) console.log(`opa (${security}) decisions/s per round:     ${runs.map((r) => r.requests.average.toFixed(0)).join(' ')}`);
  for (const [mode, runs] of verdictRuns) if (runs.length) console.log(`verdict (log ${mode}) decisions/s per round: ${runs.map((r) => r.requests.average.toFixed(0)).join(' ')}`);
  for (const [security, runs] of verdictSecureRuns) if (runs.length) console.log(`verdict (${security}) decisions/s per round: ${runs.map((r) => r.requests.average.toFixed(0)).join(' ')}`);
}
console.log(`${'server'.padEnd(16)} ${'decisions/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}`);
if (opaResult && verdictResult) {
  console.log(row('opa', opaResult));
  for (const { mode, result } of verdictResults) console.log(row(`verdict log=${mode}`, result));
  for (const { mode, result } of verdictResults.slice(1)) {
    console.log(
      `decision log ${mode} vs ${logModes[0]}: decisions/s ${(result.requests.average / verdictResult.requests.average).toFixed(2)}, p99 ${(result.latency.p99 / verdictResult.latency.p99).toFixed(2)}`,
    );
  }
}
for (const security of securities.filter((s) => s !== 'plain')) {
  const o = median(opaRuns.get(security)!);
  const v = median(verdictSecureRuns.get(security)!);
  console.log(row(`opa ${security}`, o));
  console.log(row(`verdict ${security}`, v));
  console.log(`ratio verdict/opa with ${security}: decisions/s ${(v.requests.average / o.requests.average).toFixed(2)}, p99 ${(v.latency.p99 / o.latency.p99).toFixed(2)}`);
}
if (opaResult && verdictResult) {
  console.log(
    `ratio verdict (log ${logModes[0]})/opa: decisions/s ${(verdictResult.requests.average / opaResult.requests.average).toFixed(2)}, p99 ${(verdictResult.latency.p99 / opaResult.latency.p99).toFixed(2)}`,
  );
}
collector?.stop();
