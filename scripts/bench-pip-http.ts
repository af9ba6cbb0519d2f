// Decision latency through HTTP with the PIP layer wired in: `verdict run` serving the gateway policy in
// rego/gateway, with
//   (a) no pip section,
//   (b) an http adapter with a warm cache (50 subjects, looked up once each before measuring),
//   (c) the same adapter with caching off and a new subject on every request (every decision asks the PIP).
// The PIP is a small node:http JSON service in its own process on loopback. Each scenario is measured
// sequentially (one request in flight, our own keep-alive client, µs resolution) and under load (autocannon).
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
  requests: { average: number };
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

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

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

async function sequential(port: number, next: () => string, secs: number) {
  const samples: number[] = [];
  const end = performance.now() + secs * 1000;
  while (performance.now() < end) {
    const body = next();
    const t = performance.now();
    await decide(port, body);
    samples.push((performance.now() - t) * 1000);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((s, x) => s + x, 0) / samples.length };
}

interface Scenario {
  name: string;
  config: string;
  /** Request bodies in order: the subject decides whether the PIP cache can answer. */
  next: () => string;
  warmUp: (port: number) => Promise<void>;
}

async function measure(bundle: string, work: string, scenario: Scenario) {
  const port = await freePort();
  const configFile = join(work, `${scenario.name.slice(1, 2)}.yaml`);
  writeFileSync(configFile, scenario.config);
  const child = spawn(process.execPath, ['dist/src/main.js', 'run', '--addr', `127.0.0.1:${port}`, '--log-level', 'warn', '--config-file', configFile, bundle], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`verdict exited with ${child.exitCode}`);
      const up = await decide(port, bodyFor(0)).then(() => true, () => false);
      if (up) break;
      if (i > 300) throw new Error('verdict never answered');
      await new Promise((r) => setTimeout(r, 100));
    }
    await scenario.warmUp(port);
    const seq = await sequential(port, scenario.next, duration);
    const load = await autocannon({
      url: `http://127.0.0.1:${port}${decisionPath}`,
      connections,
      duration,
      requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (req: Record<string, unknown>) => ({ ...req, body: scenario.next() }) }],
    });
    return { seq, load };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
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
  let n = 0;
  const warmSubjects = () => bodyFor(n++ % WARM_SUBJECTS);
  const newSubject = () => bodyFor(WARM_SUBJECTS + n++);
  const visitAll = async (port: number) => {
    for (let i = 0; i < 500; i++) await decide(port, warmSubjects());
  };
  const scenarios: Scenario[] = [
    { name: '(a) no PIP', config: '', next: warmSubjects, warmUp: visitAll },
    { name: '(b) http adapter, warm cache', config: pipSection(pip.url, '10m'), next: warmSubjects, warmUp: visitAll },
    { name: '(c) http adapter, cold cache', config: pipSection(pip.url, '0'), next: newSubject, warmUp: visitAll },
  ];
  const results = [];
  try {
    for (const s of scenarios) results.push({ name: s.name, ...(await measure(bundle, work, s)) });
  } finally {
    pip.child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`gateway decision over HTTP (POST ${decisionPath}, input ${Buffer.byteLength(bodyFor(0))} B), 1 worker, ${duration}s per measurement; node ${process.version}`);
  console.log(`${'scenario'.padEnd(32)} ${'seq p50 µs'.padStart(11)} ${'seq p99 µs'.padStart(11)} ${'seq mean µs'.padStart(12)} ${`c${connections} dec/s`.padStart(10)} ${`c${connections} p50 ms`.padStart(11)} ${`c${connections} p99 ms`.padStart(11)} ${'errors'.padStart(7)}`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(32)} ${r.seq.p50.toFixed(0).padStart(11)} ${r.seq.p99.toFixed(0).padStart(11)} ${r.seq.mean.toFixed(0).padStart(12)} ${r.load.requests.average.toFixed(0).padStart(10)} ${r.load.latency.p50.toFixed(2).padStart(11)} ${r.load.latency.p99.toFixed(2).padStart(11)} ${String(r.load.non2xx + r.load.errors).padStart(7)}`,
    );
  }
  const [a, b, c] = results;
  const pct = (x: number, base: number) => `${(((x - base) / base) * 100).toFixed(0)}%`;
  console.log(`warm cache adds ${(b.seq.p50 - a.seq.p50).toFixed(0)} µs to the sequential p50 (${pct(b.seq.p50, a.seq.p50)}); cold cache adds ${(c.seq.p50 - a.seq.p50).toFixed(0)} µs (${pct(c.seq.p50, a.seq.p50)})`);
  console.log(`throughput at ${connections} connections: warm ${pct(b.load.requests.average, a.load.requests.average)}, cold ${pct(c.load.requests.average, a.load.requests.average)} vs no PIP`);
}

await main();
agent.destroy();
