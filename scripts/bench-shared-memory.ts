// Evaluation speed of modules of our back end in a memory of their own against the same modules in a memory
// shared with other instances (src/engine/shared-data.ts: a bounded heap region, data read from a shared
// area), A/B in one run: rounds alternate between the two engines so both see the same machine load.
//
//   npm run bench:shared-memory -- [--seconds N]   (N: measuring time per round, default 1; 4 rounds each)
import { readFileSync } from 'node:fs';
import { parseBundle, type Bundle } from '../src/bundle/bundle.js';
import { Engine } from '../src/engine/engine.js';
import { PlanningCompiler } from '../src/engine/compiler.js';
import { VerdictPlanner } from '../src/engine/verdict-planner.js';
import { SharedData, SharedDataPool } from '../src/engine/shared-data.js';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] || 1) || 1;
const ROUNDS = 4;
const encoder = new TextEncoder();

interface Scenario {
  name: string;
  bundle: Bundle;
  path: string[];
  input: unknown;
}

function scenarios(): Scenario[] {
  const gatewayInput = JSON.parse(readFileSync('rego/gateway/input.json', 'utf8')).input;
  const users: Record<string, unknown> = {};
  for (let i = 0; i < 20_000; i++) users[`user-${i}`] = { role: i % 10 === 0 ? 'admin' : 'dev', quota: i % 7, tags: ['a', `t${i % 50}`] };
  return [
    {
      name: 'gateway (rule over a small document)',
      bundle: parseBundle('g', [
        { path: 'authz.rego', data: readFileSync('rego/gateway/authz.rego') },
        { path: 'gateway/data.json', data: readFileSync('rego/gateway/data.json') },
      ]),
      path: ['gateway', 'authz', 'allow'],
      input: gatewayInput,
    },
    {
      name: 'lookup in 20k users',
      bundle: parseBundle('u', [
        { path: 'u.rego', data: Buffer.from('package u\nimport rego.v1\nallow if data.users[input.user].role == "admin"\n') },
        { path: 'data.json', data: Buffer.from(JSON.stringify({ users })) },
      ]),
      path: ['u', 'allow'],
      input: { user: 'user-4200' },
    },
    {
      name: 'walk over 20k users',
      bundle: parseBundle('s', [
        { path: 's.rego', data: Buffer.from('package s\nimport rego.v1\ntotal := sum([u.quota | some u in data.users])\n') },
        { path: 'data.json', data: Buffer.from(JSON.stringify({ users })) },
      ]),
      path: ['s', 'total'],
      input: {},
    },
  ];
}

function rate(engine: Engine, path: string[], input: Uint8Array): number {
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  let n = 0;
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < 20; i++) engine.evaluate(path, input);
    n += 20;
  }
  return n / seconds;
}

async function main(): Promise<void> {
  const pool = new SharedDataPool();
  console.log(`A/B, ${ROUNDS} alternating rounds of ${seconds}s each; evaluations/s (best round)`);
  for (const s of scenarios()) {
    const own = new Engine(new PlanningCompiler(new VerdictPlanner()));
    const shared = new Engine(new PlanningCompiler(new VerdictPlanner()));
    shared.sharedData = new SharedData(pool.handle());
    for (const engine of [own, shared]) await engine.activate([s.bundle]);
    const input = encoder.encode(JSON.stringify(s.input));
    const answer = (engine: Engine) => JSON.stringify((engine.evaluate(s.path, input) as { result?: unknown }).result);
    const [a, b] = [answer(own), answer(shared)];
    if (a !== b) throw new Error(`${s.name}: the answers differ: ${a} against ${b}`);
    let [ownBest, sharedBest] = [0, 0];
    for (let r = 0; r < ROUNDS; r++) {
      ownBest = Math.max(ownBest, rate(own, s.path, input));
      sharedBest = Math.max(sharedBest, rate(shared, s.path, input));
    }
    console.log(`${s.name.padEnd(40)} ${a.slice(0, 8).padEnd(8)} own memory ${ownBest.toFixed(0).padStart(8)}   shared ${sharedBest.toFixed(0).padStart(8)}   shared/own ${(sharedBest / ownBest).toFixed(3)}`);
  }
}

await main();
