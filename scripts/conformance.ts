// Conformance runner: evaluates OPA's published test cases through Rego → wasm → @open-policy-agent/opa-wasm
// with our host builtins, and prints a table per test directory ending in `N passed, M failed, K skipped`.
//
//   npm run conformance -- [--suite v1|v0] [--planner opa] [--backend opa|verdict] [--filter <dir substring>]
//                          [--expect FILE] [--jobs N] [--verbose]
//
// --planner opa     plans (or wasm) from the reference OPA's `opa build`.
// --planner verdict plans from our own parser, compile stages and planner (dist/src/compiler/compile-rego.js);
//                   needs --backend verdict.
// --backend opa     wasm from `opa build -t wasm` (OPA's own runtime): measures our host builtins alone.
// --backend verdict plan from `opa build -t plan`, wasm from our back end (dist/src/wasm/compile.js).
// --expect FILE     exit non-zero unless exactly the cases FILE lists for this run fail or are skipped
//                   (scripts/conformance/expectations.ts; CI uses test/conformance/expected-outcomes.yaml).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parse as parseYaml } from 'yaml';
import { writeTestCapabilities, type Suite } from './conformance/build.js';
import { loadCases, type LocatedCase } from './conformance/cases.js';
import { loadExpectations, unmetExpectations } from './conformance/expectations.js';
import type { Backend, Outcome, Planner } from './conformance/run-case.js';
import type { CaseMessage, WorkerSetup } from './conformance/worker.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/scripts
const distRoot = resolve(here, '..');
const repoRoot = resolve(distRoot, '..');
/** How long one case may take (build + evaluation) before its worker is replaced. */
const CASE_TIMEOUT_MS = 60_000;

interface Options {
  suite: Suite;
  planner: Planner;
  backend: Backend;
  filter?: string;
  expect?: string;
  jobs: number;
  verbose: boolean;
}

function usage(problem: string): never {
  console.error(`conformance: ${problem}`);
  console.error(
    'usage: npm run conformance -- [--suite v1|v0] [--planner opa|verdict] [--backend opa|verdict] [--filter <dir substring>] [--expect FILE] [--jobs N] [--verbose]',
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = { suite: 'v1', planner: 'opa', backend: 'verdict', jobs: availableParallelism(), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i] ?? usage(`${flag} needs a value`);
    const count = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) usage(`${flag} needs a whole number`);
      return n;
    };
    switch (flag) {
      case '--suite': {
        const s = value();
        if (s !== 'v1' && s !== 'v0') usage(`unknown suite "${s}" (v1 or v0)`);
        o.suite = s;
        break;
      }
      case '--planner': {
        const p = value();
        if (p !== 'opa' && p !== 'verdict') usage(`unknown planner "${p}" (opa or verdict)`);
        o.planner = p;
        break;
      }
      case '--backend': {
        const b = value();
        if (b !== 'opa' && b !== 'verdict') usage(`unknown backend "${b}" (opa or verdict)`);
        o.backend = b;
        break;
      }
      case '--filter':
        o.filter = value();
        break;
      case '--expect':
        o.expect = value();
        break;
      case '--jobs':
        o.jobs = Math.max(1, count());
        break;
      case '--verbose':
        o.verbose = true;
        break;
      default:
        usage(`unknown argument "${flag}"`);
    }
  }
  if (o.planner === 'verdict' && o.backend !== 'verdict') usage('--planner verdict needs --backend verdict');
  if (o.expect !== undefined && o.filter !== undefined) usage('--expect checks a whole run: it cannot be used with --filter');
  return o;
}

/** Cases OPA's own wasm end-to-end test skips, read from the same module folder, keyed by note. */
function opaWasmExceptions(moduleDir: string): Map<string, string> {
  const file = join(moduleDir, 'internal/wasm/sdk/test/e2e/exceptions.yaml');
  if (!existsSync(file)) return new Map();
  const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, string> | null;
  return new Map(Object.entries(doc ?? {}));
}

/** A case the runner cannot express, with the reason; undefined when it can run. */
function skipReason(c: LocatedCase, exceptions: Map<string, string>, planner: Planner): string | undefined {
  const known = exceptions.get(c.case.note);
  if (known !== undefined) return `skipped by OPA's own wasm tests: ${known}`;
  // Our planner keeps the rule that holds the query out of the data document, as OPA's query compiler does;
  // `opa build` plans rules only, so there that rule would read itself.
  const readsAllData = /(^|[^.\w])data\s*(=|==|:=|$)/.test(c.case.query) || /=\s*data\s*($|;)/.test(c.case.query);
  if (planner === 'opa' && readsAllData) {
    return 'query reads the whole data document: `opa build` plans rules only, and the rule the runner adds to hold the query would read itself';
  }
  return undefined;
}

class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<(w: Worker) => void> = [];

  constructor(
    private readonly script: string,
    private readonly setup: WorkerSetup,
    size: number,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  private spawn(): Worker {
    return new Worker(this.script, { workerData: this.setup });
  }

  private acquire(): Promise<Worker> {
    const w = this.idle.pop();
    return w ? Promise.resolve(w) : new Promise((r) => this.waiting.push(r));
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  async run(id: number, c: LocatedCase): Promise<Outcome> {
    const worker = await this.acquire();
    return new Promise<Outcome>((resolveOutcome) => {
      let settled = false;
      const finish = (outcome: Outcome, replace: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (replace) {
          void worker.terminate();
          this.release(this.spawn());
        } else {
          this.release(worker);
        }
        resolveOutcome(outcome);
      };
      const onMessage = (m: { id: number; outcome: Outcome }) => {
        if (m.id === id) finish(m.outcome, false);
      };
      const onError = (e: Error) => finish({ status: 'fail', cause: 'worker crashed', detail: e.stack ?? e.message }, true);
      const timer = setTimeout(
        () => finish({ status: 'fail', cause: `timeout after ${CASE_TIMEOUT_MS / 1000}s`, detail: 'case did not finish' }, true),
        CASE_TIMEOUT_MS,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage({ id, case: c.case } satisfies CaseMessage);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.idle.map((w) => w.terminate()));
  }
}

interface DirTally {
  passed: number;
  failed: number;
  skipped: number;
}

function printReport(cases: LocatedCase[], outcomes: Outcome[], verbose: boolean): { passed: number; failed: number; skipped: number } {
  const dirs = new Map<string, DirTally>();
  const causes = new Map<string, string[]>();
  const skips = new Map<string, number>();
  cases.forEach((c, i) => {
    const t = dirs.get(c.dir) ?? { passed: 0, failed: 0, skipped: 0 };
    dirs.set(c.dir, t);
    const o = outcomes[i]!;
    if (o.status === 'pass') t.passed++;
    else if (o.status === 'skip') {
      t.skipped++;
      skips.set(o.reason, (skips.get(o.reason) ?? 0) + 1);
    } else {
      t.failed++;
      const list = causes.get(o.cause) ?? [];
      list.push(`${c.file}#${c.index} ${c.case.note}`);
      causes.set(o.cause, list);
      if (verbose) console.log(`FAIL ${c.file}#${c.index} "${c.case.note}": ${o.detail}`);
    }
  });
  const width = Math.max(9, ...[...dirs.keys()].map((d) => d.length));
  console.log(`${'directory'.padEnd(width)}  passed  failed  skipped`);
  for (const [dir, t] of [...dirs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const mark = t.failed > 0 ? '  ✗' : '';
    console.log(`${dir.padEnd(width)}  ${String(t.passed).padStart(6)}  ${String(t.failed).padStart(6)}  ${String(t.skipped).padStart(7)}${mark}`);
  }
  if (skips.size > 0) {
    console.log('\nskipped:');
    for (const [reason, n] of skips) console.log(`  ${String(n).padStart(4)}  ${reason}`);
  }
  if (causes.size > 0) {
    console.log('\nfailures by cause:');
    for (const [cause, list] of [...causes].sort((a, b) => b[1].length - a[1].length)) {
      console.log(`  ${String(list.length).padStart(4)}  ${cause}`);
      if (verbose) for (const name of list) console.log(`          ${name}`);
    }
  }
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const t of dirs.values()) {
    total.passed += t.passed;
    total.failed += t.failed;
    total.skipped += t.skipped;
  }
  return total;
}

async function main(): Promise<void> {
  // Host builtins return big integers exactly through JSON.rawJSON (src/builtins/args.ts exactInteger); Node 20
  // has it behind this flag, and workers started afterwards inherit it.
  setFlagsFromString('--harmony-json-parse-with-source');
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const opa = execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();
  const opaVersion = execFileSync(opa, ['version'], { encoding: 'utf8' });
  const moduleDir = execFileSync(join(repoRoot, 'scripts/opa-module-dir.sh'), { encoding: 'utf8' }).trim();
  const suiteRoot = join(moduleDir, 'v1/test/cases/testdata', opts.suite);
  if (!existsSync(suiteRoot)) usage(`no conformance cases at ${suiteRoot}`);

  let compileModule: string | undefined;
  if (opts.backend === 'verdict') {
    compileModule = join(distRoot, 'src/wasm/compile.js');
    if (!existsSync(compileModule)) {
      console.error(`conformance: the verdict back end is not built: ${compileModule} is missing (src/wasm/compile.ts exporting compilePlan). Use --backend opa to test with OPA's own wasm.`);
      process.exit(1);
    }
  }

  const cacheDir = join(repoRoot, '.cache/conformance');
  mkdirSync(cacheDir, { recursive: true });
  const all = loadCases(suiteRoot).filter((c) => !opts.filter || c.dir.includes(opts.filter));
  // OPA's wasm skips cases its own runtime cannot answer (numbers beyond 64 bits); ours must answer them.
  const exceptions = opts.backend === 'opa' ? opaWasmExceptions(moduleDir) : new Map<string, string>();
  const capabilities = writeTestCapabilities(opa, cacheDir);
  const setup: WorkerSetup = { settings: { opa, opaVersion, cacheDir, suite: opts.suite, capabilities }, backend: opts.backend, planner: opts.planner, compileModule };
  const pool = new WorkerPool(join(here, 'conformance/worker.js'), setup, opts.jobs);
  const outcomes = await Promise.all(
    all.map((c, id) => {
      const reason = skipReason(c, exceptions, opts.planner);
      return reason ? Promise.resolve<Outcome>({ status: 'skip', reason }) : pool.run(id, c);
    }),
  );
  await pool.close();

  console.log(`suite ${opts.suite}, planner ${opts.planner}, backend ${opts.backend}, ${all.length} cases, ${opts.jobs} workers\n`);
  const total = printReport(all, outcomes, opts.verbose);
  writeFileSync(
    join(cacheDir, `last-run-${opts.suite}-${opts.planner}-${opts.backend}.json`),
    JSON.stringify(all.map((c, i) => ({ file: c.file, index: c.index, note: c.case.note, outcome: outcomes[i] })), null, 1),
  );
  const run = `${opts.suite}/${opts.planner}/${opts.backend}`;
  const problems = opts.expect === undefined ? [] : unmetExpectations(all, outcomes, loadExpectations(resolve(opts.expect), run));
  if (opts.expect !== undefined) {
    console.log(problems.length === 0 ? `\nas expected by ${opts.expect} (${run})` : `\nnot as expected by ${opts.expect} (${run}):`);
    for (const p of problems) console.log(`  ${p}`);
  }
  console.log(`\ntook ${((Date.now() - started) / 1000).toFixed(1)}s`);
  console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  if (problems.length > 0) process.exit(1);
}

await main();
