// Evaluation speed of modules of our back end in a memory of their own against the same modules in a memory
// shared with other instances (src/engine/shared-data.ts: a bounded heap region, data read from a shared
// area), A/B in one run: rounds alternate between the two engines so both see the same machine load. Then the
// updates of the shared tables (an instance's region taken and given back, a loaded document attached to and
// released, a document loaded and freed), each under the lock, in microseconds (median round).
//
//   npm run bench:shared-memory -- [--seconds N] [--rounds R] [--baseline DIR]
//
// N: measuring time per round, default 1; R rounds each, default 4. DIR: another build's dist (e.g. /work/wt/base/dist),
// whose shared memory is measured in the same rounds (its engine on its shared memory, its table updates).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseBundle, type Bundle } from '../src/bundle/bundle.js';
import { Engine } from '../src/engine/engine.js';
import { PlanningCompiler } from '../src/engine/compiler.js';
import { VerdictPlanner } from '../src/engine/verdict-planner.js';
import { SharedData, SharedDataPool } from '../src/engine/shared-data.js';

const option = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const seconds = Number(option('--seconds') || 1) || 1;
const baselineDir = option('--baseline');
const ROUNDS = Number(option('--rounds') || 4) || 4;

/** The classes a build measured here provides. */
interface Build {
  Engine: typeof Engine;
  PlanningCompiler: typeof PlanningCompiler;
  VerdictPlanner: typeof VerdictPlanner;
  SharedData: typeof SharedData;
  SharedDataPool: typeof SharedDataPool;
}

const thisBuild: Build = { Engine, PlanningCompiler, VerdictPlanner, SharedData, SharedDataPool };

async function baselineBuild(dir: string): Promise<Build> {
  const load = (module: string) => import(pathToFileURL(resolve(dir, 'src', module)).href);
  const [engine, compiler, planner, shared] = await Promise.all([load('engine/engine.js'), load('engine/compiler.js'), load('engine/verdict-planner.js'), load('engine/shared-data.js')]);
  return { Engine: engine.Engine, PlanningCompiler: compiler.PlanningCompiler, VerdictPlanner: planner.VerdictPlanner, SharedData: shared.SharedData, SharedDataPool: shared.SharedDataPool };
}
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

function sharedEngine(build: Build, pool: SharedDataPool): Engine {
  const engine = new build.Engine(new build.PlanningCompiler(new build.VerdictPlanner()));
  engine.sharedData = new build.SharedData(pool.handle());
  return engine;
}

async function evaluations(baseline: Build | undefined): Promise<void> {
  const pool = new SharedDataPool();
  const basePool = baseline && new baseline.SharedDataPool();
  console.log(`A/B, ${ROUNDS} alternating rounds of ${seconds}s each; evaluations/s (best round)`);
  for (const s of scenarios()) {
    const own = new Engine(new PlanningCompiler(new VerdictPlanner()));
    const shared = sharedEngine(thisBuild, pool);
    const base = baseline && sharedEngine(baseline, basePool!);
    const engines = base ? [own, shared, base] : [own, shared];
    for (const engine of engines) await engine.activate([s.bundle]);
    const input = encoder.encode(JSON.stringify(s.input));
    const answer = (engine: Engine) => JSON.stringify((engine.evaluate(s.path, input) as { result?: unknown }).result);
    const [a, ...others] = engines.map(answer);
    for (const b of others) if (a !== b) throw new Error(`${s.name}: the answers differ: ${a} against ${b}`);
    const best = engines.map(() => 0);
    for (let r = 0; r < ROUNDS; r++) engines.forEach((engine, e) => (best[e] = Math.max(best[e]!, rate(engine, s.path, input))));
    const [ownBest, sharedBest, baseBest] = best as [number, number, number?];
    const vsBase = baseBest === undefined ? '' : `   baseline shared ${baseBest.toFixed(0).padStart(8)}   shared/baseline ${(sharedBest / baseBest).toFixed(3)}`;
    console.log(`${s.name.padEnd(40)} ${a!.slice(0, 8).padEnd(8)} own memory ${ownBest.toFixed(0).padStart(8)}   shared ${sharedBest.toFixed(0).padStart(8)}   shared/own ${(sharedBest / ownBest).toFixed(3)}${vsBase}`);
  }
}

const key = (n: number) => Int32Array.from({ length: 8 }, (_, i) => n * 1000 + i);
const loadSmall = (chunks: { next(min: number): { start: number }; done(end: number): void }): number => {
  const chunk = chunks.next(1);
  chunks.done(chunk.start + 64);
  return chunk.start;
};

/** The table updates, on a memory already holding what a server's threads do: regions, a document read by all. */
function updates(build: Build): Record<string, () => void> {
  const pool = new build.SharedDataPool();
  const threads = Array.from({ length: 4 }, () => new build.SharedData(pool.handle()));
  for (const t of threads) {
    t.acquireNow(key(1), 1 << 20, loadSmall);
    for (let i = 0; i < 8; i++) t.allocRegion(36 << 20);
  }
  const me = threads[0]!;
  let n = 2;
  return {
    'region taken and given back': () => me.freeRegion(me.allocRegion(36 << 20)),
    'document attached and released': () => me.release(me.acquireNow(key(1), 1 << 20, loadSmall)),
    'document loaded and freed': () => me.release(me.acquireNow(key(n++), 1 << 20, loadSmall)),
  };
}

function microseconds(op: () => void): number {
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let n = 0;
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < 20; i++) op();
    n += 20;
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function tableUpdates(baseline: Build | undefined): void {
  console.log(`\nUpdates of the shared tables, ${ROUNDS} alternating rounds of ${seconds}s each; microseconds per update (median round)`);
  const mine = updates(thisBuild);
  const theirs = baseline && updates(baseline);
  for (const name of Object.keys(mine)) {
    const [a, b]: number[][] = [[], []];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(microseconds(mine[name]!));
      if (theirs) b.push(microseconds(theirs[name]!));
    }
    const vsBase = theirs ? `   baseline ${median(b).toFixed(2).padStart(8)}   this/baseline ${(median(a) / median(b)).toFixed(3)}` : '';
    console.log(`${name.padEnd(40)} this build ${median(a).toFixed(2).padStart(8)}${vsBase}`);
  }
}

async function main(): Promise<void> {
  const baseline = baselineDir === undefined ? undefined : await baselineBuild(baselineDir);
  await evaluations(baseline);
  tableUpdates(baseline);
}

await main();
