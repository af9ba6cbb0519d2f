// Compile-time benchmark: Rego source → bundle with policy.wasm, Verdict's own compiler versus
// `opa build -t wasm`, for the sample bundle, a generated 1,000-rule policy and a bundle with 5 MB of data.
// Verdict is timed in-process (load, parse, compile stages, plan, wasm, tar.gz: what the server does on a bundle
// load) and as the `verdict build` command (node start-up included); OPA as the `opa build` command.
// Prints the median of N runs of each and the ratio OPA/Verdict (above 1: Verdict faster).
// With --phases, prints instead where Verdict's in-process time goes: load, parse, each compile stage, plan,
// plan → wasm and the tar.gz, for the first run in the process (cold JIT, as on a server's first bundle) and the
// best of N.
//
//   npm run bench:compile -- [--runs N] [--phases]   (default 5 runs)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBundleArchive } from '../src/bundle/files.js';
import { buildBundle } from '../src/cli/build.js';
import { loadPaths } from '../src/cli/load.js';
import { verdictBuiltins, verdictDeprecated } from '../src/compiler/builtins.js';
import { compileOwnedModules } from '../src/compiler/compile.js';
import { parseModule } from '../src/compiler/parse-module.js';
import { planModules } from '../src/compiler/planner/index.js';
import { compilePlan } from '../src/wasm/compile.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, phases: { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const opa = execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();
const work = mkdtempSync(join(tmpdir(), 'verdict-bench-compile-'));

interface Scenario {
  name: string;
  paths: string[];
  entrypoints: string[];
}

function rules1000(): Scenario {
  const dir = join(work, 'rules1000');
  mkdirSync(dir);
  const lines = ['package gen', '', 'default allow := false', ''];
  for (let i = 0; i < 1000; i++) {
    lines.push(`allow if {\n\tinput.role == "role${i}"\n\tstartswith(input.path, "/p${i}/")\n\tinput.method in {"GET", "HEAD"}\n}\n`);
  }
  writeFileSync(join(dir, 'policy.rego'), lines.join('\n'));
  return { name: '1,000-rule policy', paths: [dir], entrypoints: ['gen/allow'] };
}

function data5mb(): Scenario {
  const dir = join(work, 'data5mb');
  mkdirSync(join(dir, 'users'), { recursive: true });
  writeFileSync(
    join(dir, 'policy.rego'),
    'package users\n\ndefault allow := false\n\nallow if "admin" in data.users.roles[input.user]\n',
  );
  const roles: Record<string, string[]> = {};
  for (let i = 0, size = 0; size < 5_000_000; i++) {
    const key = `user-${i}@example.com`;
    roles[key] = ['viewer', i % 97 === 0 ? 'admin' : 'editor'];
    size += JSON.stringify({ [key]: roles[key] }).length;
  }
  writeFileSync(join(dir, 'users', 'data.json'), JSON.stringify({ roles }));
  return { name: '5 MB data bundle', paths: [dir], entrypoints: ['users/allow'] };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(f: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function measure(s: Scenario): Promise<void> {
  const eArgs = s.entrypoints.flatMap((e) => ['-e', e]);
  const out = join(work, 'out.tar.gz');
  const inProcess: number[] = [];
  const cli: number[] = [];
  const opaTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    inProcess.push(await time(async () => writeBundleArchive(await buildBundle({ paths: s.paths, entrypoints: s.entrypoints, target: 'wasm' }))));
    cli.push(await time(() => {
      const r = spawnSync(process.execPath, [join(repoRoot, 'dist/src/main.js'), 'build', '-t', 'wasm', ...eArgs, ...s.paths, '-o', out]);
      if (r.status !== 0) throw new Error(`verdict build failed: ${r.stderr}`);
    }));
    opaTimes.push(await time(() => {
      const r = spawnSync(opa, ['build', '-t', 'wasm', ...eArgs, ...s.paths, '-o', out]);
      if (r.status !== 0) throw new Error(`opa build failed: ${r.stderr}`);
    }));
  }
  const [v, c, o] = [median(inProcess), median(cli), median(opaTimes)];
  console.log(
    `${s.name.padEnd(20)} verdict in-process ${v.toFixed(0).padStart(6)} ms   verdict build ${c.toFixed(0).padStart(6)} ms   ` +
      `opa build -t wasm ${o.toFixed(0).padStart(6)} ms   opa/verdict ${(o / v).toFixed(2)}× in-process, ${(o / c).toFixed(2)}× command`,
  );
}

/** The steps of buildBundle and checkRego, timed one by one (stages as compileModules reports them). */
async function phases(s: Scenario): Promise<void> {
  const first: Record<string, number> = {};
  const best: Record<string, number> = {};
  const builtin = (name: string) => {
    const decl = verdictBuiltins.get(name);
    return decl && { args: decl.args?.length ?? 0, variadic: decl.variadic !== undefined };
  };
  for (let i = 0; i < runs; i++) {
    const t: Record<string, number> = {};
    let last = performance.now();
    const lap = (phase: string) => {
      const now = performance.now();
      t[phase] = now - last;
      last = now;
    };
    const { modules, data } = await loadPaths(s.paths);
    lap('load files');
    const parsed = modules.map((f) => {
      const r = parseModule(f.path, f.source, { regoVersion: 'v1' });
      if (!r.module) throw new Error(`${f.path}: ${JSON.stringify(r.errors)}`);
      return r.module;
    });
    lap('parse');
    const checked = compileOwnedModules(parsed, { builtin });
    lap('compile stages');
    const plan = planModules(checked.modules, s.entrypoints, verdictBuiltins);
    lap('plan');
    const wasm = compilePlan(plan);
    lap('plan → wasm');
    await writeBundleArchive([
      { path: 'data.json', data: Buffer.from(JSON.stringify(data)) },
      ...modules.map((m) => ({ path: m.path.replace(/^\/+/, ''), data: Buffer.from(m.source) })),
      { path: 'policy.wasm', data: Buffer.from(wasm) },
    ]);
    lap('tar.gz');
    for (const [stage, ms] of Object.entries(checked.timings)) t[`  stage ${stage}`] = ms;
    for (const [phase, ms] of Object.entries(t)) {
      if (i === 0) first[phase] = ms;
      best[phase] = Math.min(best[phase] ?? Infinity, ms);
    }
  }
  console.log(`\n${s.name}: ms per phase, first run / best of ${runs}`);
  for (const phase of Object.keys(first)) console.log(`  ${phase.padEnd(36)} ${first[phase]!.toFixed(1).padStart(8)} ${best[phase]!.toFixed(1).padStart(8)}`);
}

try {
  const scenarios: Scenario[] = [
    { name: 'sample bundle', paths: [join(repoRoot, 'bundles/sample')], entrypoints: ['gateway/authz/allow', 'gateway/authz/deny'] },
    rules1000(),
    data5mb(),
  ];
  if (values.phases) {
    for (const s of scenarios) await phases(s);
  } else {
    console.log(`compile source → bundle with policy.wasm, median of ${runs} runs (${opa})`);
    for (const s of scenarios) await measure(s);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
