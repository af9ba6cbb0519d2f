// Decision latency with http.send, in-process through the engine (Engine.decide, OPA planner + our wasm back
// end), against a small JSON service in its own process on loopback:
//   (a) the same policy's rule that calls no http.send (the loop's cost when unused),
//   (b) one http.send answered from the warm inter-query cache (force_cache: no abort),
//   (c) one uncached http.send (one round trip + one abort and re-evaluation),
//   (d) two dependent uncached http.send calls (two round trips, two re-evaluations),
//   (e) the bare round trip of (c) through the same client, without evaluation, for the overhead (c) − (e).
// Sequential decisions, one in flight.   npm run bench:http-send [-- --decisions 2000]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { parseBundle } from '../src/bundle/bundle.js';
import { HttpSendClient } from '../src/builtins/http-send/client.js';
import { parseRequest } from '../src/builtins/http-send/request.js';
import { PlanningCompiler } from '../src/engine/compiler.js';
import { Engine } from '../src/engine/engine.js';
import { OpaCliPlanner } from '../src/engine/opa-compiler.js';
import { execFileSync } from 'node:child_process';

const { values } = parseArgs({ options: { decisions: { type: 'string', default: '2000' } } });
const decisions = Number(values.decisions);

const SERVICE = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  const body = req.url.startsWith('/plans/') ? '{"ok":true,"limits":{"rps":10}}' : '{"plan":"gold","groups":["ops","dev"]}';
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

function policy(base: string): string {
  return `package bench

import rego.v1

roles := {"alice": ["reader", "ops"], "bob": ["reader"]}

no_send if {
	input.method == "GET"
	some r in roles[input.user]
	r == "reader"
	startswith(input.path, "/api/")
}

profile := http.send({"method": "GET", "url": concat("", ["${base}/users/", input.user])}).body

one_send if {
	no_send
	profile.plan == "gold"
}

cached_send if {
	no_send
	p := http.send({"method": "GET", "url": concat("", ["${base}/users/", input.user]), "force_cache": true, "force_cache_duration_seconds": 3600}).body
	p.plan == "gold"
}

two_sends if {
	one_send
	http.send({"method": "GET", "url": concat("", ["${base}/plans/", profile.plan])}).body.ok
}
`;
}

/**
 * Runs the scenarios round-robin, one call each per turn, so the (noisy, shared) machine's load falls on all
 * alike; prints the median and p90 of each.
 */
async function measure(scenarios: Array<[string, () => Promise<unknown>]>): Promise<Map<string, number>> {
  const samples = scenarios.map(() => [] as number[]);
  for (let i = 0; i < decisions + 100; i++) {
    for (const [j, [, run]] of scenarios.entries()) {
      const start = process.hrtime.bigint();
      await run();
      if (i >= 100) samples[j]!.push(Number(process.hrtime.bigint() - start) / 1e3);
    }
  }
  const medians = new Map<string, number>();
  for (const [j, [label]] of scenarios.entries()) {
    const sorted = samples[j]!.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    medians.set(label, at(0.5));
    console.log(`${label.padEnd(58)} median ${at(0.5).toFixed(1).padStart(7)} µs   p90 ${at(0.9).toFixed(1).padStart(7)} µs`);
  }
  return medians;
}

const child = spawn(process.execPath, ['-e', SERVICE], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
const base = `http://127.0.0.1:${port}`;
try {
  const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim().split('\n').pop()!;
  const client = new HttpSendClient();
  const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(opa)), client);
  await engine.activate([parseBundle('bench', [{ path: 'bench/p.rego', data: Buffer.from(policy(base)) }])]);
  const input = { user: 'alice', method: 'GET', path: '/api/reports' };
  for (const rule of ['no_send', 'cached_send', 'one_send', 'two_sends']) {
    const { result } = await engine.decide(`bench/${rule}`, input);
    if (result !== true) throw new Error(`bench/${rule} is ${JSON.stringify(result)}, expected true`);
  }
  console.log(`http.send decision latency, ${decisions} sequential decisions per scenario, interleaved (node ${process.version})`);
  const request = parseRequest({ method: 'GET', url: `${base}/users/alice` });
  const m = await measure([
    ['(a) rule without http.send', () => engine.decide('bench/no_send', input)],
    ['(b) one http.send, warm inter-query cache (force_cache)', () => engine.decide('bench/cached_send', input)],
    ['(c) one uncached http.send', () => engine.decide('bench/one_send', input)],
    ['(d) two dependent uncached http.send', () => engine.decide('bench/two_sends', input)],
    ['(e) the round trip of (c) alone (client.send)', () => client.send(request)],
  ]);
  const overhead = m.get('(c) one uncached http.send')! - m.get('(e) the round trip of (c) alone (client.send)')!;
  console.log(`(c) − (e): the abort, re-evaluation and session cost of one request: ${overhead.toFixed(1)} µs (medians)`);
} finally {
  child.kill();
}
