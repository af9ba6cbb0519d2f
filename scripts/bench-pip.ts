// Decision latency and throughput of the gateway policy with the PIP layer, in one run, through the real decision
// path: `verdict run` serving rego/gateway (plus scripts/bench-pip/directory.rego, which takes roles from the
// caller's directory groups and refuses suspended accounts) three times side by side:
//   (a) no pip section: the caller sends the same facts in input.pip itself, so the policy does the same work;
//   (b) an http adapter (account profile) and an ldap adapter (groups, a real slapd) with a warm cache
//       (50 subjects, each looked up once before measuring);
//   (c) the same adapters with caching off: every decision asks both PIPs (1,000 subjects in turn).
// The profile service is a small node:http process; slapd is a private instance with 1,000 people in groups.
// Every answer is checked to be `true` (the directory's group is what grants the request), so a broken lookup
// cannot pass for a fast one. Each scenario is measured sequentially (one request in flight, the servers taking
// turns request by request, so load from other processes falls on all alike) and under load (autocannon,
// one-second slices, again taking turns).
//   npm run bench:pip [-- --duration 5 --connections 16]
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { createEnricher } from '../src/pip/index.js';
import { startSlapd, type RunningSlapd } from '../test/pip/fixtures/services.js';
import { freePort } from '../test/free-port.js';

interface AutocannonResult {
  requests: { total: number };
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
const PEOPLE = 1000;
const WARM_SUBJECTS = 50;
const BASE = 'dc=example,dc=org';
const READER_DN = `uid=pip-reader,ou=services,${BASE}`;
const READER_PASSWORD = 'bench-reader';
/** What the PIPs answer for everyone; scenario (a) sends the same in input.pip. */
const FACTS = { groups: ['engineering'], profile: { plan: 'gold', seats: 5, region: 'eu-west-1' } };

const subject = (n: number) => `user-${n}@example.com`;

/** The directory: everyone in engineering (which grants the request via data.gateway.group_bindings). */
function directoryLdif(): string {
  const entries = [
    `dn: ${BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`,
    ...['people', 'groups', 'services'].map((ou) => `dn: ou=${ou},${BASE}\nobjectClass: organizationalUnit\nou: ${ou}\n`),
    `dn: ${READER_DN}\nobjectClass: account\nobjectClass: simpleSecurityObject\nuid: pip-reader\nuserPassword: ${READER_PASSWORD}\n`,
  ];
  for (let n = 0; n < PEOPLE; n++) entries.push(`dn: uid=${subject(n)},ou=people,${BASE}\nobjectClass: inetOrgPerson\nuid: ${subject(n)}\ncn: User ${n}\nsn: ${n}\n`);
  const members = (pick: (n: number) => boolean) => Array.from({ length: PEOPLE }, (_, n) => n).filter(pick).map((n) => `member: uid=${subject(n)},ou=people,${BASE}`);
  entries.push(`dn: cn=engineering,ou=groups,${BASE}\nobjectClass: groupOfNames\ncn: engineering\n${members(() => true).join('\n')}\n`);
  entries.push(`dn: cn=finance,ou=groups,${BASE}\nobjectClass: groupOfNames\ncn: finance\n${members((n) => n % 10 === 0).join('\n')}\n`);
  return entries.join('\n');
}

// The profile PIP: the same small JSON document for every account, like an accounts service would answer.
const PROFILE_SERVICE = `
import { createServer } from 'node:http';
const body = JSON.stringify(${JSON.stringify(FACTS.profile)});
const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body));
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startProfileService(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', PROFILE_SERVICE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, child };
}

function pipSection(profileUrl: string, slapd: RunningSlapd, cache: string): string {
  return `pip:
  adapters:
    profile:
      type: http
      timeout: 2s
      cache: ${cache}
      settings: { url: "${profileUrl}/profiles/{user}" }
    groups:
      type: ldap
      timeout: 2s
      cache: ${cache}
      settings: { url: "${slapd.url}", bind_dn: "${READER_DN}", bind_password: "${READER_PASSWORD}", base: "ou=groups,${BASE}",
                  filter: "(member=uid={user:dn},ou=people,${BASE})", result: values, value_attribute: cn }
  enrich:
    - { paths: [gateway], adapter: profile, inputs: { user: input.token.claims.sub } }
    - { paths: [gateway], adapter: groups, inputs: { user: input.token.claims.sub } }
`;
}

/** Request bodies for subjects 0..count-1: the gateway input with the token's own groups removed. */
function bodies(count: number, withFacts: boolean): string[] {
  const template = JSON.parse(readFileSync('rego/gateway/input.json', 'utf8')) as { input: { token: { claims: Record<string, unknown> }; pip?: unknown } };
  return Array.from({ length: count }, (_, n) => {
    const body = structuredClone(template);
    body.input.token.claims.sub = subject(n);
    body.input.token.claims.groups = [];
    if (withFacts) body.input.pip = FACTS;
    return JSON.stringify(body);
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 }); // per host:port: one connection per server

function decide(port: number, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: decisionPath, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const answer = JSON.parse(Buffer.concat(chunks).toString()) as { result?: unknown };
        if (res.statusCode !== 200 || answer.result !== true) reject(new Error(`expected an allow, got ${res.statusCode} ${JSON.stringify(answer)}`));
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
  /** The next request body: which subject comes next decides whether the PIP cache can answer. */
  next: () => string;
}

async function startVerdict(bundle: string, work: string, scenario: Scenario, index: number): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const configFile = join(work, `scenario-${index}.yaml`);
  // Decisions are logged as verdict run does by default, each server to its own file.
  writeFileSync(configFile, `${scenario.config}decision_logs: { store: { file: "${join(work, `decisions-${index}.db`)}" } }\n`);
  const child = spawn(process.execPath, ['dist/src/main.js', 'run', '--addr', `127.0.0.1:${port}`, '--log-level', 'warn', '--config-file', configFile, '-b', bundle], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`verdict exited with ${child.exitCode}`);
    if (await decide(port, scenario.next()).then(() => true, () => false)) return { port, child };
    if (i > 300) throw new Error('verdict never answered');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function interleaved(ports: number[], scenarios: Scenario[], secs: number) {
  const samples: number[][] = ports.map(() => []);
  const end = performance.now() + secs * 1000 * ports.length;
  while (performance.now() < end) {
    for (let i = 0; i < ports.length; i++) {
      const body = scenarios[i].next();
      const t = performance.now();
      await decide(ports[i], body);
      samples[i].push((performance.now() - t) * 1000);
    }
  }
  return samples.map((s) => {
    s.sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
    return { p50: at(0.5), p99: at(0.99), mean: s.reduce((sum, x) => sum + x, 0) / s.length, count: s.length };
  });
}

async function underLoad(ports: number[], scenarios: Scenario[], secs: number) {
  const slices: AutocannonResult[][] = ports.map(() => []);
  for (let slice = 0; slice < secs; slice++) {
    for (const [i, port] of ports.entries()) {
      slices[i].push(
        await autocannon({
          url: `http://127.0.0.1:${port}${decisionPath}`,
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

/**
 * The warm-cache enrichment step on its own, in this process (no HTTP, no evaluation): its cost per decision,
 * free of the noise of three servers on a shared machine.
 */
async function enrichmentAlone(config: string, inputs: string[]): Promise<number> {
  const enricher = createEnricher((parseYaml(config) as { pip: unknown }).pip);
  try {
    const parsed = inputs.map((text) => (JSON.parse(text) as { input: unknown }).input);
    for (const input of parsed) await enricher.enrichInput('gateway/authz/allow', input);
    const rounds = 20_000;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) {
      const result = enricher.enrich('gateway/authz/allow', parsed[i % parsed.length]);
      if (result instanceof Promise) throw new Error('a warm lookup waited');
    }
    return ((performance.now() - started) * 1000) / rounds;
  } finally {
    await enricher.close();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'verdict-bench-pip-'));
  const bundle = join(work, 'bundle');
  mkdirSync(join(bundle, 'gateway', 'authz'), { recursive: true });
  cpSync('rego/gateway/authz.rego', join(bundle, 'gateway', 'authz', 'authz.rego'));
  cpSync('scripts/bench-pip/directory.rego', join(bundle, 'gateway', 'authz', 'directory.rego'));
  cpSync('rego/gateway/data.json', join(bundle, 'gateway', 'data.json'));
  writeFileSync(join(bundle, '.manifest'), JSON.stringify({ revision: 'bench', roots: ['gateway'] }));

  const slapd = await startSlapd(directoryLdif());
  const profiles = await startProfileService();
  const withFacts = bodies(WARM_SUBJECTS, true);
  const warm = bodies(WARM_SUBJECTS, false);
  const everyone = bodies(PEOPLE, false);
  let turn = [0, 0, 0];
  const cycle = (list: string[], i: number) => () => list[turn[i]++ % list.length];
  const scenarios: Scenario[] = [
    { name: '(a) no PIP', config: '', next: cycle(withFacts, 0) },
    { name: '(b) http + ldap, warm cache', config: pipSection(profiles.url, slapd, '{ ttl: 10m }'), next: cycle(warm, 1) },
    { name: '(c) http + ldap, cold cache', config: pipSection(profiles.url, slapd, '{ ttl: 0, negative_ttl: 0 }'), next: cycle(everyone, 2) },
  ];
  const servers: ChildProcess[] = [];
  let results;
  let enrichUs = 0;
  try {
    const ports: number[] = [];
    for (const [i, s] of scenarios.entries()) {
      const { port, child } = await startVerdict(bundle, work, s, i);
      ports.push(port);
      servers.push(child);
    }
    // Warm-up: JIT, connection pools, and (b)'s cache: every warm subject looked up at least once.
    for (let i = 0; i < 500; i++) for (const [s, port] of ports.entries()) await decide(port, scenarios[s].next());
    turn = [0, 0, 0];
    const seq = await interleaved(ports, scenarios, duration);
    const load = await underLoad(ports, scenarios, duration);
    results = scenarios.map((s, i) => ({ name: s.name, seq: seq[i], load: load[i] }));
    enrichUs = await enrichmentAlone(scenarios[1].config, warm);
  } finally {
    for (const child of servers) child.kill('SIGTERM');
    await Promise.all(servers.map((child) => new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))));
    profiles.child.kill('SIGTERM');
    await slapd.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const inputBytes = Buffer.byteLength(warm[0]);
  console.log(`gateway decision over HTTP (POST ${decisionPath}, input ${inputBytes} B; (a) ${Buffer.byteLength(withFacts[0])} B with the facts), verdict run with 1 worker each, decision log on;`);
  console.log(`sequential: ${results[0].seq.count} decisions per scenario, servers taking turns; load: ${duration} one-second slices each at ${connections} connections, taking turns; node ${process.version}`);
  console.log(`${'scenario'.padEnd(30)} ${'seq p50 µs'.padStart(11)} ${'seq p99 µs'.padStart(11)} ${'seq mean µs'.padStart(12)} ${`c${connections} dec/s`.padStart(10)} ${`c${connections} p50 ms`.padStart(11)} ${`c${connections} p99 ms`.padStart(11)} ${'errors'.padStart(7)}`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(30)} ${r.seq.p50.toFixed(0).padStart(11)} ${r.seq.p99.toFixed(0).padStart(11)} ${r.seq.mean.toFixed(0).padStart(12)} ${r.load.rate.toFixed(0).padStart(10)} ${r.load.p50.toFixed(2).padStart(11)} ${r.load.p99.toFixed(2).padStart(11)} ${String(r.load.errors).padStart(7)}`,
    );
  }
  const [a, b, c] = results;
  const pct = (x: number, base: number) => `${x >= base ? '+' : ''}${(((x - base) / base) * 100).toFixed(1)}%`;
  console.log(`warm cache vs no PIP: sequential p50 ${pct(b.seq.p50, a.seq.p50)} (${(b.seq.p50 - a.seq.p50).toFixed(0)} µs), mean ${pct(b.seq.mean, a.seq.mean)}; throughput ${pct(b.load.rate, a.load.rate)}  (target: under +10% latency)`);
  console.log(`warm-cache enrichment alone (in-process, both adapters cache hits): ${enrichUs.toFixed(1)} µs per decision`);
  console.log(`cold cache vs no PIP: sequential p50 ${pct(c.seq.p50, a.seq.p50)} (${(c.seq.p50 - a.seq.p50).toFixed(0)} µs), mean ${pct(c.seq.mean, a.seq.mean)}; throughput ${pct(c.load.rate, a.load.rate)}`);
}

await main();
agent.destroy();
