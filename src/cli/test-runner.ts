// `verdict test`'s engine: finds the test rules (`test_*`, and `todo_test_*` reported as skipped) in the loaded
// modules, compiles every test as an entrypoint of one module with Verdict's own compiler and wasm back end (the
// path the server takes), and runs them one by one in a worker thread, so that a test running past --timeout is
// stopped (the worker is ended and a new one carries on with the next test). As in OPA, a test passes when its
// rule is exactly `true`; undefined or any other value fails; an evaluation error is an error.
import { Worker } from 'node:worker_threads';
import type { Module, RegoVersion, Rule, Term } from '../compiler/ast.js';
import { verdictBuiltins } from '../compiler/builtins.js';
import { verdictCompileCapabilities, type CompileCapabilities } from './capabilities-flag.js';
import { checkParsedModules, parseRegoFiles, type CompileRegoOptions, type RegoFile } from '../compiler/compile-rego.js';
import { CoverPoints, planModules, PlanError } from '../compiler/planner/index.js';
import { coverableSpans, coverageReport, type CoverageReport } from './coverage.js';
import { compilePlan } from '../wasm/compile.js';
import type { EvalErrorDetail } from '../engine/eval-error.js';
import { PlanError as BackEndError } from '../ir/validate.js';

export type TestError = EvalErrorDetail;

export interface TestResult {
  location: { file: string; row: number; col: number };
  /** `data.a.b` */
  package: string;
  /** The rule name; a second definition of a name is `name#01`, as OPA names it. */
  name: string;
  fail?: true;
  /** An evaluation error; a list of compile errors (as OPA reports a test function). */
  error?: TestError | TestError[];
  skip?: true;
  /** Nanoseconds. */
  duration: number;
  /** What the test's print() calls wrote, one line each. */
  output?: string[];
}

interface TestCase {
  result: Omit<TestResult, 'duration'>;
  /** The entrypoint that evaluates it; none for skipped tests and tests that cannot run. */
  entrypoint?: string;
}

export interface RunOptions {
  regoVersion: RegoVersion;
  /** Only tests whose `data.pkg.name` matches. */
  run?: RegExp;
  /** Per test, in milliseconds; 0: none. */
  timeoutMs: number;
  /** Record which expressions and rule heads the tests evaluate (OPA's coverage report). */
  cover?: boolean;
  /** Type checking with JSON schemas (CompileOptions.schemas). */
  schemas?: CompileRegoOptions['schemas'];
  /** `--capabilities`: the builtins and features the policies compile against (else Verdict's). */
  capabilities?: CompileCapabilities;
}

export interface TestRun {
  results: TestResult[];
  coverage?: CoverageReport;
}

/** Parses and checks the modules (throws RegoCompileError, as `opa test` stops on them), then runs the tests. */
export async function runTests(files: Array<RegoFile & { regoVersion?: RegoVersion }>, data: unknown, options: RunOptions): Promise<TestRun> {
  const capabilities = options.capabilities ?? verdictCompileCapabilities;
  const modules = parseRegoFiles(files, { ...capabilities, regoVersion: options.regoVersion });
  const cases = discoverTests(modules).filter((c) => !options.run || options.run.test(`${c.result.package}.${c.result.name}`));
  const coverable = options.cover ? coverableSpans(modules) : undefined;
  const cover = options.cover ? new CoverPoints() : undefined;
  const checked = checkParsedModules(modules, { ...capabilities, schemas: options.schemas });
  const runnable = cases.filter((c) => c.entrypoint !== undefined);
  const wasm = runnable.length === 0 ? undefined : compileTests(checked, runnable, cover);
  const durations = new Map<TestCase, number>();
  const covered = new Set<number>();
  if (wasm) {
    const outcomes = await runInWorkers(wasm, data, runnable.map((c) => c.entrypoint!), options.timeoutMs);
    runnable.forEach((c, i) => {
      const outcome = outcomes[i]!;
      durations.set(c, outcome.duration);
      if (outcome.output.length > 0) c.result.output = outcome.output;
      for (const id of outcome.covered ?? []) covered.add(id);
      if (outcome.error) c.result.error = outcome.error;
      else if (!outcome.pass) c.result.fail = true;
    });
  }
  const results = cases.map((c) => ({ ...c.result, duration: durations.get(c) ?? 0 }));
  if (!cover) return { results };
  const sources = new Map(files.map((f) => [f.path, f.source]));
  return { results, coverage: coverageReport(sources, coverable!, [...covered].map((id) => cover.spans[id]!)) };
}

/**
 * The test rules in module order. A second definition of a test name in a package is renamed (OPA reports it as
 * `name#01`) so that each definition runs on its own; test functions cannot run and are errors, as in OPA.
 */
function discoverTests(modules: Module[]): TestCase[] {
  const cases: TestCase[] = [];
  const seen = new Map<string, number>();
  for (const module of modules) {
    const pkgPath = module.package.path.slice(1).map((t) => String((t as { value: unknown }).value));
    const pkg = ['data', ...pkgPath].join('.');
    for (const rule of module.rules) {
      const name = rule.head.name;
      const isTest = name.startsWith('test_');
      if (!isTest && !name.startsWith('todo_test_')) continue;
      const key = `${pkg}.${name}`;
      const count = seen.get(key) ?? 0;
      seen.set(key, count + 1);
      const shown = count === 0 ? name : `${name}#${String(count).padStart(2, '0')}`;
      const internal = count === 0 ? name : `${name}__verdict_definition_${count}`;
      if (count > 0) renameRule(rule, internal);
      const result: TestCase['result'] = { location: { file: module.file, row: rule.loc.row, col: rule.loc.col }, package: pkg, name: shown };
      if (!isTest) cases.push({ result: { ...result, skip: true } });
      else if (rule.head.args) {
        const message = `function ${key} used as reference, not called`;
        cases.push({ result: { ...result, error: [{ code: 'rego_type_error', message, location: { file: '', row: 1, col: 1 } }] } });
      } else cases.push({ result, entrypoint: [...pkgPath, internal].join('/') });
    }
  }
  return cases;
}

function renameRule(rule: Rule, name: string): void {
  for (let r: Rule | undefined = rule; r; r = r.else) {
    r.head.name = name;
    const first = r.head.ref[0] as Term;
    if (first.type === 'var') r.head.ref[0] = { ...first, value: name };
  }
}

/**
 * One module for all tests; when the planner or the back end refuses one of them, each test is compiled alone so
 * that only the tests that cannot be compiled are errors.
 */
function compileTests(modules: Module[], cases: TestCase[], cover: CoverPoints | undefined): Uint8Array | undefined {
  const compile = (list: TestCase[]) => compilePlan(planModules(modules, list.map((c) => c.entrypoint!), verdictBuiltins, cover));
  try {
    return compile(cases);
  } catch (err) {
    if (!(err instanceof PlanError || err instanceof BackEndError)) throw err;
  }
  const compilable: TestCase[] = [];
  for (const c of cases) {
    try {
      compile([c]);
      compilable.push(c);
    } catch (err) {
      if (!(err instanceof PlanError || err instanceof BackEndError)) throw err;
      c.result.error = { code: 'rego_compile_error', message: err.message };
      delete c.entrypoint;
    }
  }
  cases.splice(0, cases.length, ...compilable);
  return compilable.length === 0 ? undefined : compile(compilable);
}

export interface Outcome {
  pass: boolean;
  error?: TestError;
  duration: number;
  /** The lines print() wrote. */
  output: string[];
  /** The ids of the cover points reached (instrumented plans only). */
  covered?: number[];
}

/** Messages from the worker (src/cli/test-worker.ts). */
export type WorkerMessage = { started: number } | { finished: number; outcome: Outcome };

function runInWorkers(wasm: Uint8Array, data: unknown, entrypoints: string[], timeoutMs: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  return new Promise((resolve, reject) => {
    const start = (from: number) => {
      if (from >= entrypoints.length) return resolve(outcomes);
      const worker = new Worker(new URL('./test-worker.js', import.meta.url), { workerData: { wasm, data, entrypoints, from } });
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      worker.on('message', (msg: WorkerMessage) => {
        if ('started' in msg) {
          if (timeoutMs > 0) {
            const began = process.hrtime.bigint();
            timer = setTimeout(() => {
              stopped = true;
              outcomes[msg.started] = { pass: false, duration: Number(process.hrtime.bigint() - began), output: [], error: { code: 'eval_cancel_error', message: 'caller cancelled query execution' } };
              void worker.terminate().then(() => start(msg.started + 1));
            }, timeoutMs);
          }
        } else {
          clearTimeout(timer);
          outcomes[msg.finished] = msg.outcome;
          if (msg.finished === entrypoints.length - 1) {
            // The worker may hold idle sockets (http.send's client): end it rather than wait for it.
            stopped = true;
            void worker.terminate();
            resolve(outcomes);
          }
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!stopped) reject(new Error(`the test worker stopped (exit code ${code}) before running ${entrypoints[outcomes.length]}`));
      });
    };
    start(0);
  });
}
