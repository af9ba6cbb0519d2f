// Evaluation benchmark, three modules per policy, all run in @open-policy-agent/opa-wasm with our host
// builtins, same data and input:
//   OPA-built   the module `opa build -t wasm` makes (OPA's planner and wasm compiler);
//   OPA plan    our back end compiling the plan `opa build -t plan` makes;
//   our plan    our back end compiling the plan our own compiler makes (src/compiler: parser, stages, planner).
// Prints evaluations/s of each, the ratios OPA-plan/OPA-built (the back end) and our-plan/OPA-plan (the
// planner, through the same back end), module sizes and plan→wasm compile time.
//
//   npm run bench:eval -- [--seconds N] [--only gateway|rules500|data10k]   (N: measuring time per module, default 3)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { hostBuiltins } from '../src/builtins/index.js';
import { verdictBuiltins, verdictDeprecated } from '../src/compiler/builtins.js';
import { planRego } from '../src/compiler/compile-rego.js';
import type { Policy } from '../src/ir/plan.js';
import { compilePlan } from '../src/wasm/compile.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Scenario {
  name: string;
  modules: Record<string, string>;
  entrypoint: string;
  data: unknown;
  input: unknown;
}

function gatewayScenario(): Scenario | string {
  const dir = join(repoRoot, 'rego/gateway');
  const files = ['authz.rego', 'data.json', 'input.json'].map((f) => join(dir, f));
  if (!files.every(existsSync)) return `rego/gateway/{authz.rego,data.json,input.json} not found`;
  const input = JSON.parse(readFileSync(files[2]!, 'utf8')) as { input?: unknown };
  return {
    name: 'gateway',
    modules: { 'authz.rego': readFileSync(files[0]!, 'utf8') },
    entrypoint: 'gateway/authz/allow',
    data: { gateway: JSON.parse(readFileSync(files[1]!, 'utf8')) },
    input: input.input ?? input,
  };
}

/** 500 generated rules: each grants a role on a path prefix at a minimum level; the match is near the end. */
function rules500(): Scenario {
  const lines = ['package gen', '', 'default allow := false', ''];
  for (let i = 0; i < 500; i++) {
    lines.push(`allow if {\n\tinput.role == "role${i}"\n\tstartswith(input.path, "/svc${i % 50}/")\n\tinput.level >= ${i % 7}\n}\n`);
  }
  lines.push('deny contains msg if {\n\tinput.level < 0\n\tmsg := "negative level"\n}\n');
  return {
    name: 'rules500',
    modules: { 'gen.rego': lines.join('\n') },
    entrypoint: 'gen/allow',
    data: {},
    input: { role: 'role487', path: '/svc37/items/1', level: 6 },
  };
}

/** Iteration over 10,000 data entries: an ownership lookup and a filtered count. */
function data10k(): Scenario {
  const items = Array.from({ length: 10_000 }, (_, i) => ({
    id: `item-${i}`,
    owner: `user${i % 100}`,
    public: i % 3 === 0,
    tags: [`t${i % 5}`, `t${i % 11}`],
  }));
  const rego = `package inventory

default allow := false

allow if {
	some item in data.items
	item.id == input.id
	item.owner == input.user
}

owned_public := count([item.id | some item in data.items; item.owner == input.user; item.public])

result := {"allow": allow, "owned_public": owned_public}
`;
  return { name: 'data10k', modules: { 'inventory.rego': rego }, entrypoint: 'inventory/result', data: { items }, input: { user: 'user42', id: 'item-9942' } };
}

function opaBinary(): string {
  return execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();
}

function opaBuild(opa: string, s: Scenario, target: 'wasm' | 'plan'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-'));
  try {
    const files = Object.entries(s.modules).map(([name, text]) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    });
    execFileSync(opa, ['build', '-t', target, '-e', s.entrypoint, '-o', join(dir, 'b.tar.gz'), ...files], { stdio: ['ignore', 'ignore', 'inherit'] });
    const member = target === 'wasm' ? 'policy.wasm' : 'plan.json';
    execFileSync('tar', ['-xzf', 'b.tar.gz', `/${member}`], { cwd: dir, stdio: 'ignore' });
    return readFileSync(join(dir, member));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function evalsPerSecond(policy: LoadedPolicy, s: Scenario, seconds: number): number {
  for (let i = 0; i < 200; i++) policy.evaluate(s.input, s.entrypoint);
  let n = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  let now = start;
  while (now < until) {
    for (let i = 0; i < 50; i++) policy.evaluate(s.input, s.entrypoint);
    n += 50;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

function compileTimes(plan: Policy): { first: number; median: number; wasm: Uint8Array } {
  let t = performance.now();
  const wasm = compilePlan(plan);
  const first = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    compilePlan(plan);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { first, median: times[2]!, wasm };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seconds = (args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 0) || 3;
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const opa = opaBinary();
  const scenarios: Scenario[] = [];
  const gw = gatewayScenario();
  if (typeof gw === 'string') console.log(`skipping gateway: ${gw}`);
  else scenarios.push(gw);
  scenarios.push(rules500(), data10k());

  const rows: string[][] = [[
    'policy', 'OPA-built evals/s', 'OPA plan evals/s', 'our plan evals/s', 'OPA-plan/OPA-built', 'our-plan/OPA-plan',
    'OPA wasm bytes', 'OPA-plan wasm bytes', 'our-plan wasm bytes', 'compile first ms', 'compile median ms',
  ]];
  for (const s of scenarios) {
    if (only && s.name !== only) continue;
    const opaWasm = opaBuild(opa, s, 'wasm');
    const plan = JSON.parse(opaBuild(opa, s, 'plan').toString('utf8')) as Policy;
    const { first, median, wasm } = compileTimes(plan);
    const files = Object.entries(s.modules).map(([path, source]) => ({ path, source }));
    const ourWasm = compilePlan(planRego(files, [s.entrypoint], { builtins: verdictBuiltins, deprecated: verdictDeprecated }));
    const modules = [opaWasm, wasm, ourWasm];
    const names = ['OPA-built', 'OPA plan', 'our plan'];
    const policies = await Promise.all(modules.map((bytes) => loadPolicy(bytes, undefined, hostBuiltins)));
    for (const p of policies) p.setData(s.data as object);
    const want = policies[0]!.evaluate(s.input, s.entrypoint);
    policies.forEach((p, i) => {
      const got = p.evaluate(s.input, s.entrypoint);
      if (i > 0 && !isDeepStrictEqual(want, got)) {
        console.log(`${s.name}: results differ — OPA-built ${JSON.stringify(want)}, ${names[i]} ${JSON.stringify(got)}`);
      }
    });
    // Alternate the modules over three rounds and keep each one's best round: the machine is
    // shared, so a single back-to-back run would mostly measure the neighbours.
    const best = policies.map(() => 0);
    for (let round = 0; round < 3; round++) {
      policies.forEach((p, i) => {
        best[i] = Math.max(best[i]!, evalsPerSecond(p, s, seconds / 3));
      });
    }
    const [a, b, c] = best as [number, number, number];
    rows.push([
      s.name, a.toFixed(0), b.toFixed(0), c.toFixed(0), (b / a).toFixed(2), (c / b).toFixed(2),
      ...modules.map((m) => String(m.length)), first.toFixed(1), median.toFixed(1),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

await main();
