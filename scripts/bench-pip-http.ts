// Decision latency through HTTP with the PIP layer wired in: `verdict run` serving the gateway policy in
// rego/gateway, with
//   (a) no pip section,
//   (b) an http adapter with a warm cache (50 subjects, looked up once each before measuring),
//   (c) the same adapter with caching off and a new subject on every request (every decision asks the PIP).
// The PIP is a small node:http JSON service in its own process on loopback. Each scenario is measured
// sequentially (one request in flight, our own keep-alive client, µs resolution; the three servers run side by
// side and take turns, so machine load affects them alike) and under load (autocannon in one-second slices,
// again taking turns).
//   npm run bench:pip-http [-- --duration 5 --connections 16]
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '16' } } });
const duration = Number(values.duration);
const connections = Number(values.connections);
const decisionPath = '/v1/data/gateway/authz/allow';
const template = readFileSync('rego/gateway/input.json', 'utf8');
const WARM_SUBJECTS = 50;

/** The gateway input with subject `n`: the PIP lookup key changes, the policy's work does not. */
const bodyFor = (n: number) => template.replace('"sub": "carol@example.com"', `"sub": "user-${n}@example.com"`);

// The PIP: answers every profile with the same small JSON document, like an accounts service would.
const PIP_SERVICE = `
import { createServer } from 'node:http';
const body = JSON.stringify({ plan: 'gold', seats: 5, region: 'eu-west-1' });
const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body));
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function startPip(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', PIP_SERVICE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, child };
}

function pipSection(pipUrl: string, ttl: string): string {
  return `pip:
  adapters:
    profile:
      type: http
      timeout: 2s
      cache: { ttl: ${ttl}, negative_ttl: 0 }
      settings: { url: "${pipUrl}/profiles/{user}" }
  enrich:
    - { paths: [gateway], adapter: profile, inputs: { user: input.token.claims.sub } }
`;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 }); // per host:port: one connection per server

function decide(port: number, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: decisionPath, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const answer = JSON.parse(Buffer.concat(chunks).toString()) as { result?: unknown };
        if (res.statusCode !== 200 || typeof answer.result !== 'boolean') reject(new Error(`unexpected answer ${res.statusCode} ${JSON.stringify(answer)}`));
        else resolve();
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Scenario {
  name: string;
  config: string;
  /** Request bodies in order: the subject decides whether the PIP cache can answer. */
  next: () => string;
}

interface Running {
  port: number;
  child: ChildProcess;
}

async function startVerdict(bundle: string, work: string, scenario: Scenario, index: number): Promise<Running> {
  const port = await freePort();
  const configFile = join(work, `scenario-${index}.yaml`);
  writeFileSync(configFile, scenario.config);
  const child = spawn(process.execPath, ['dist/src/main.js', 'run', '--addr', `127.0.0.1:${port}`, '--log-level', 'warn', '--config-file', configFile, bundle], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`verdict exited with ${child.exitCode}`);
    if (await decide(port, bodyFor(0)).then(() => true, () => false)) return { port, child };
    if (i > 300) throw new Error('verdict never answered');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * One request in flight, the servers taking turns request by request: load from other processes on the machine
 * then falls on every scenario alike instead of on whichever happened to run during a busy second.
 */
async function interleaved(servers: Running[], scenarios: Scenario[], secs: number) {
  const samples: number[][] = servers.map(() => []);
  const end = performance.now() + secs * 1000 * servers.length;
  while (performance.now() < end) {
    for (let i = 0; i < servers.length; i++) {
      const body = scenarios[i].next();
      const t = performance.now();
      await decide(servers[i].port, body);
      samples[i].push((performance.now() - t) * 1000);
    }
  }
  return samples.map((s) => {
    s.sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
    return { p50: at(0.5), p99: at(0.99), mean: s.reduce((sum, x) => sum + x, 0) / s.length, count: s.length };
  });
}

interface LoadResult {
  rate: number;
  /** Medians over the one-second slices. */
  p50: number;
  p99: number;
  errors: number;
}

/** autocannon in one-second slices, the servers taking turns slice by slice (for the same reason as above). */
async function underLoad(servers: Running[], scenarios: Scenario[], secs: number): Promise<LoadResult[]> {
  const slices: AutocannonResult[][] = servers.map(() => []);
  for (let slice = 0; slice < secs; slice++) {
    for (const [i, server] of servers.entries()) {
      slices[i].push(
        await autocannon({
          url: `http://127.0.0.1:${server.port}${decisionPath}`,
          connections,
          duration: 1,
          requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (req: Record<string, unknown>) => ({ ...req, body: scenarios[i].next() }) }],
        }),
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return slices.map((runs) => ({
    rate: runs.reduce((sum, r) => sum + r.requests.total, 0) / secs,
    p50: median(runs.map((r) => r.latency.p50)),
    p99: median(runs.map((r) => r.latency.p99)),
    errors: runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
  }));
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'verdict-bench-pip-http-'));
  // rego/gateway as a bundle (Rego source; Verdict compiles it at start-up with the interim OPA compiler).
  const bundle = join(work, 'bundle');
  mkdirSync(join(bundle, 'gateway', 'authz'), { recursive: true });
  cpSync('rego/gateway/authz.rego', join(bundle, 'gateway', 'authz', 'authz.rego'));
  cpSync('rego/gateway/data.json', join(bundle, 'gateway', 'data.json'));
  writeFileSync(join(bundle, '.manifest'), JSON.stringify({ revision: 'bench', roots: ['gateway'] }));
  const pip = await startPip();
  let warmTurn = 0;
  let coldTurn = 0;
  const warmSubjects = () => bodyFor(warmTurn++ % WARM_SUBJECTS);
  const newSubject = () => bodyFor(WARM_SUBJECTS + coldTurn++);
  const scenarios: Scenario[] = [
    { name: '(a) no PIP', config: '', next: warmSubjects },
    { name: '(b) http adapter, warm cache', config: pipSection(pip.url, '10m'), next: warmSubjects },
    { name: '(c) http adapter, cold cache', config: pipSection(pip.url, '0'), next: newSubject },
  ];
  const servers: Running[] = [];
  let results;
  try {
    for (const [i, s] of scenarios.entries()) servers.push(await startVerdict(bundle, work, s, i));
    // Warm-up: JIT, connection pools, and every warm subject looked up once.
    for (const server of servers) for (let i = 0; i < 500; i++) await decide(server.port, warmSubjects());
    const seq = await interleaved(servers, scenarios, duration);
    const load = await underLoad(servers, scenarios, duration);
    results = scenarios.map((s, i) => ({ name: s.name, seq: seq[i], load: load[i] }));
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((server) => new Promise((r) => (server.child.exitCode !== null ? r(null) : server.child.once('exit', r)))));
    pip.child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`gateway decision over HTTP (POST ${decisionPath}, input ${Buffer.byteLength(bodyFor(0))} B), 1 worker each, sequential: ${results[0].seq.count} decisions per scenario, servers taking turns; load: ${duration} one-second slices each, taking turns; node ${process.version}`);
  console.log(`${'scenario'.padEnd(32)} ${'seq p50 µs'.padStart(11)} ${'seq p99 µs'.padStart(11)} ${'seq mean µs'.padStart(12)} ${`c${connections} dec/s`.padStart(10)} ${`c${connections} p50 ms`.padStart(11)} ${`c${connections} p99 ms`.padStart(11)} ${'errors'.padStart(7)}`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(32)} ${r.seq.p50.toFixed(0).padStart(11)} ${r.seq.p99.toFixed(0).padStart(11)} ${r.seq.mean.toFixed(0).padStart(12)} ${r.load.rate.toFixed(0).padStart(10)} ${r.load.p50.toFixed(2).padStart(11)} ${r.load.p99.toFixed(2).padStart(11)} ${String(r.load.errors).padStart(7)}`,
    );
  }
  const [a, b, c] = results;
  const pct = (x: number, base: number) => `${(((x - base) / base) * 100).toFixed(0)}%`;
  console.log(`warm cache adds ${(b.seq.p50 - a.seq.p50).toFixed(0)} µs to the sequential p50 (${pct(b.seq.p50, a.seq.p50)}); cold cache adds ${(c.seq.p50 - a.seq.p50).toFixed(0)} µs (${pct(c.seq.p50, a.seq.p50)})`);
  console.log(`throughput at ${connections} connections: warm ${pct(b.load.rate, a.load.rate)}, cold ${pct(c.load.rate, a.load.rate)} vs no PIP`);
}

await main();
agent.destroy();
