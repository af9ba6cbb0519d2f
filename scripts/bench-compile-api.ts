// Partial-evaluation latency: POST /v1/compile and POST /v1/compile/{path} (PostgreSQL target) on Verdict,
// against POST /v1/compile on `opa run --server`, with the same filter policy, data and requests, sent one at a
// time after a warm-up. Prints p50 and p99 per server and request.
//
//   npm run bench:compile-api -- [--requests N]   (default 500)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({ options: { requests: { type: 'string', default: '500' } } });
const count = Number(values.requests);
const opa = execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();

const policy = `package filters

allow if "admin" in data.roles[input.user]

allow if {
  some team in data.roles[input.user]
  some tenant in data.teams[team]
  input.tickets.tenant == tenant
  not input.tickets.status in {"deleted", "archived"}
}

allow if {
  "reader" in data.roles[input.user]
  input.tickets.assignee == input.user
  input.tickets.priority >= 2
}
`;
const teams: Record<string, string[]> = {};
for (let i = 0; i < 50; i++) teams[`team${i}`] = Array.from({ length: 20 }, (_, j) => `tenant${i}-${j}`);
const data = { roles: { bob: ['reader', 'team1', 'team7', 'team19'], alice: ['admin'] }, teams };

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became healthy`);
}

async function time(url: string, path: string, body: string, headers: Record<string, string>): Promise<{ p50: number; p99: number }> {
  const send = async () => {
    const res = await fetch(url + path, { method: 'POST', body, headers });
    if (!res.ok) throw new Error(`${url}${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  for (let i = 0; i < 50; i++) await send();
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await send();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length * 0.5)]!, p99: ms[Math.floor(ms.length * 0.99)]! };
}

const work = mkdtempSync(join(tmpdir(), 'verdict-bench-compile-api-'));
const children: ChildProcess[] = [];
try {
  const dir = join(work, 'bundle');
  mkdirSync(dir);
  writeFileSync(join(dir, 'filters.rego'), policy);
  writeFileSync(join(dir, 'data.json'), JSON.stringify(data));
  writeFileSync(join(work, 'verdict.yaml'), 'decision_logs:\n  store:\n    enabled: false\n');
  const [opaPort, verdictPort] = await Promise.all([freePort(), freePort()]);
  children.push(spawn(opa, ['run', '--server', '--addr', `127.0.0.1:${opaPort}`, '--log-level', 'error', dir], { stdio: 'ignore' }));
  children.push(spawn(process.execPath, [join(repoRoot, 'dist/src/main.js'), 'run', '--addr', `127.0.0.1:${verdictPort}`, '--log-level', 'error', '-c', join(work, 'verdict.yaml'), dir], { stdio: 'ignore', cwd: work }));
  const opaUrl = `http://127.0.0.1:${opaPort}`;
  const verdictUrl = `http://127.0.0.1:${verdictPort}`;
  await Promise.all([waitHealthy(opaUrl), waitHealthy(verdictUrl)]);
  const body = JSON.stringify({ query: 'data.filters.allow == true', input: { user: 'bob' }, unknowns: ['input.tickets'] });
  const json = { 'Content-Type': 'application/json' };
  const rows: [string, { p50: number; p99: number }][] = [
    ['opa run      POST /v1/compile', await time(opaUrl, '/v1/compile', body, json)],
    ['verdict run  POST /v1/compile', await time(verdictUrl, '/v1/compile', body, json)],
    ['verdict run  POST /v1/compile/filters/allow (postgresql)', await time(verdictUrl, '/v1/compile/filters/allow', JSON.stringify({ input: { user: 'bob' }, unknowns: ['input.tickets'] }), { ...json, Accept: 'application/vnd.opa.sql.postgresql+json' })],
  ];
  console.log(`partial evaluation, ${count} sequential requests after 50 warm-up (ms)`);
  for (const [name, { p50, p99 }] of rows) console.log(`${name.padEnd(58)} p50 ${p50.toFixed(2).padStart(8)}  p99 ${p99.toFixed(2).padStart(8)}`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
