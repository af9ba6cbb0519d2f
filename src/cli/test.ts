// `verdict test [flags] PATH...`: runs the Rego unit tests (`test_*` rules; `todo_test_*` are reported as
// skipped) found in the paths with Verdict's own compiler and engine, and reports them as `opa test` does
// (pretty or JSON), with its exit codes: 0 when every test passed, 2 when one failed, erred or was skipped
// (-z: skipped tests do not count), 1 when the policies do not load or compile or no test ran (--fail-on-empty).
import { RegoCompileError } from '../compiler/compile-rego.js';
import { integerFlag, durationFlag, FlagError, flagsHelp, parseCommandLine, regoVersionFlag, schemaFlag, sharedFlags, type FlagGroup, type FlagValues } from './flags.js';
import { goDuration, goErrorList, goJson } from './go-format.js';
import { formatRegoError } from '../compiler/errors.js';
import { LoadError, loadBundlePaths, loadPaths, schemaOption, type LoadedFiles } from './load.js';
import { capabilitiesFlag, capabilitiesOption, type CompileCapabilities } from './capabilities-flag.js';
import { explain, explanationText, ExplainUnsupported, isExplainMode, type ExplainMode } from '../compiler/explain/index.js';
import { runTests, type TestError, type TestResult, type TestRun } from './test-runner.js';
import { coverageOutcome } from './test-coverage.js';

const REFUSED_BENCH = 'use verdict bench on a query instead';

const testFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      verbose: { type: 'boolean', short: 'v', help: 'list every test with its result and duration, and trace the failing ones' },
      explain: { type: 'string', value: 'MODE', help: 'trace failing tests: fails (the default with -v), full, notes or debug; implies -v' },
      format: { type: 'string', short: 'f', default: 'pretty', value: 'FORMAT', help: 'pretty or json (default pretty)' },
      run: { type: 'string', short: 'r', value: 'REGEX', help: 'run only the tests whose data.PACKAGE.NAME matches the regular expression' },
      'fail-on-empty': { type: 'boolean', help: 'exit 1 when no test ran' },
      'exit-zero-on-skipped': { type: 'boolean', short: 'z', help: 'skipped (todo_test_) tests do not make the exit code non-zero' },
      timeout: { type: 'string', default: '5s', value: 'DURATION', help: 'stop a test running longer than this (Go duration; default 5s; 0: no limit)' },
      coverage: { type: 'boolean', short: 'c', help: "print OPA's JSON coverage report instead of the results (when every test passed)" },
      threshold: { type: 'string', value: 'PERCENT', help: 'with --coverage: exit 2 when the coverage is below this percentage' },
      count: { type: 'string', default: '1', value: 'N', help: 'run the tests N times, reporting each run, until one does not pass (0: run nothing; default 1)' },
      ...schemaFlag,
      ...capabilitiesFlag,
      ...sharedFlags,
    },
  },
  {
    title: 'Refused',
    flags: {
      'coverage-runs': { type: 'string', help: '', refused: 'coverage is recorded over one run of the tests' },
      bench: { type: 'boolean', help: '', refused: REFUSED_BENCH },
      benchmem: { type: 'boolean', help: '', refused: REFUSED_BENCH },
      'var-values': { type: 'boolean', help: '', refused: "the traces of failing tests do not show the variables' values" },
      parallel: { type: 'string', short: 'p', help: '', refused: 'Verdict runs tests one at a time' },
      target: { type: 'string', short: 't', help: '', refused: "tests always run on Verdict's own engine" },
      'max-errors': { type: 'string', short: 'm', help: '', refused: 'the number of compile errors reported is not configurable in Verdict' },
      sort: { type: 'string', help: '', refused: 'results are listed in the order of the modules and rules' },
      watch: { type: 'boolean', short: 'w', help: '', refused: 'watching files is not supported by verdict test' },
    },
  },
];

export function testHelp(): string {
  return flagsHelp(
    [
      'usage: verdict test [flags] PATH...',
      '',
      'Runs the Rego tests in PATHs (policy and data files, directories, or with --bundle bundles), as opa test does:',
      'rules named test_* pass when they are true; todo_test_* rules are reported as skipped. Mock functions and',
      'data with `with`. Exit code: 0 all passed, 2 a test failed, erred or was skipped, 1 loading or compiling failed.',
    ],
    testFlags,
  );
}

/** Runs the subcommand; returns the process exit code. */
export async function testCommand(args: string[]): Promise<number> {
  let run: RegExp | undefined;
  let timeoutMs = 0;
  let threshold = 0;
  let count = 1;
  let capabilities: CompileCapabilities | undefined;
  const parsed = parseCommandLine(args, {
    name: 'test',
    groups: testFlags,
    help: testHelp,
    formats: ['pretty', 'json'],
    operands: { count: 'some', name: 'file' },
    validate: (values, positionals) => {
      run = values.run === undefined ? undefined : regexFlag(values.run as string);
      timeoutMs = durationFlag(values, 'timeout')!;
      count = integerFlag(values, 'count');
      capabilities = capabilitiesOption(values);
      // The tests run in worker threads, which hold their own http.send client and builtins.
      if (capabilities.allowNet) throw new FlagError(`--capabilities ${String(values.capabilities)}: allow_net is not enforced by verdict test; remove it from the file`, 1);
      if (values.explain !== undefined && !isExplainMode(values.explain as string)) throw new FlagError(`--explain ${String(values.explain)}: expected fails, full, notes or debug`);
      if (values.threshold !== undefined) {
        threshold = Number(values.threshold);
        if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(String(values.threshold))) throw new FlagError(`--threshold ${String(values.threshold)}: expected a number`);
      }
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  // As opa test: each of the --count runs is reported, and the first that does not pass ends the command (0 runs
  // nothing and reports nothing).
  let loaded;
  let schemas;
  try {
    const load = values.bundle ? loadBundlePaths : loadPaths;
    loaded = await load(positionals, { ignore: values.ignore as string[] | undefined });
    schemas = await schemaOption(values.schema);
  } catch (err) {
    return loadFailure(err);
  }
  for (let i = 0; i < count; i++) {
    let outcome: TestRun;
    try {
      outcome = await runTests(loaded.modules, loaded.data, { regoVersion: regoVersionFlag(values), run, timeoutMs, cover: values.coverage === true, schemas, capabilities });
    } catch (err) {
      return loadFailure(err);
    }
    const code = report(outcome, values, threshold, loaded);
    if (code !== 0) return code;
  }
  return 0;
}

/** Policies that did not load or compile: OPA's error list, exit code 1. */
function loadFailure(err: unknown): number {
  if (err instanceof LoadError) console.error(goErrorList([err.message], ' during loading'));
  else if (err instanceof RegoCompileError) console.error(goErrorList(err.errors.map(formatRegoError), err.errors.some((e) => e.code === 'rego_parse_error') ? ' during loading' : ''));
  else throw err;
  return 1;
}

/** Prints one run's report; returns its exit code. */
function report({ results, coverage }: TestRun, values: FlagValues, threshold: number, loaded: LoadedFiles): number {
  if (results.length === 0 && values['fail-on-empty']) {
    console.error('no tests were run');
    return 1;
  }
  if (coverage) return coverageOutcome(results, coverage, threshold, prettyReport);
  const verbose = values.verbose === true || values.explain !== undefined;
  const traces = verbose && values.format !== 'json'
    ? failureTraces(results, loaded, (values.explain ?? 'fails') as ExplainMode, regoVersionFlag(values), capabilitiesOption(values))
    : undefined;
  process.stdout.write(values.format === 'json' ? `${goJson(results.map(jsonResult), 2)}\n` : prettyReport(results, verbose, traces));
  const zeroOnSkip = values['exit-zero-on-skipped'] === true;
  return results.every((r) => (!r.fail && !r.error && !r.skip) || (r.skip && zeroOnSkip)) ? 0 : 2;
}

/** A result as `opa test --format json` writes it: the printed lines as one base64 text. */
function jsonResult(r: TestResult): object {
  const { output, ...rest } = r;
  return output ? { ...rest, output: Buffer.from(`${output.join('\n')}\n`).toString('base64') } : rest;
}

function regexFlag(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (err) {
    throw new FlagError(`--run ${text}: ${(err as Error).message}`);
  }
}

function status(r: TestResult): 'PASS' | 'FAIL' | 'ERROR' | 'SKIPPED' {
  return r.skip ? 'SKIPPED' : r.error ? 'ERROR' : r.fail ? 'FAIL' : 'PASS';
}

function headline(r: TestResult): string {
  return `${r.package}.${r.name}: ${status(r)}${r.skip ? '' : ` (${goDuration(r.duration)})`}`;
}

function errorText(e: TestError | TestError[]): string {
  return Array.isArray(e) ? goErrorList(e.map(formatRegoError)) : formatRegoError(e);
}

const RULE = '-'.repeat(80);

/**
 * `opa test`'s pretty report: the tests that did not pass (every test with -v), each under its file:row, a blank
 * line where the file changes; with -v a FAILURES section with each failing test's trace; then the counts.
 */
export function prettyReport(results: TestResult[], verbose: boolean, traces?: ReadonlyMap<TestResult, string[]>): string {
  const lines: string[] = [];
  let lastFile: string | undefined;
  for (const r of results) {
    if (!verbose && status(r) === 'PASS') continue;
    if (lastFile !== undefined && r.location.file !== lastFile) lines.push('');
    lastFile = r.location.file;
    lines.push(`${r.location.file}:${r.location.row}:`, headline(r));
    // One error is printed as OPA prints it (`  %v`): its own lines (a conflict's list of values) as they are.
    if (r.error) lines.push(...(Array.isArray(r.error) ? errorText(r.error).split('\n').map((l) => `  ${l}`) : [`  ${errorText(r.error)}`]));
    if (r.output) lines.push('', ...r.output.map((l) => `  ${l}`), '');
  }
  if (lines.length > 0) lines.push(RULE);
  const failed = results.filter((r) => status(r) === 'FAIL');
  if (verbose && failed.length > 0) {
    lines.push('FAILURES', RULE);
    for (const r of failed) lines.push(headline(r), '', ...(traces?.get(r) ?? []), '');
    lines.push(RULE);
  }
  for (const s of ['PASS', 'FAIL', 'SKIPPED', 'ERROR'] as const) {
    const n = results.filter((r) => status(r) === s).length;
    if (n > 0) lines.push(`${s}: ${n}/${results.length}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * The explanation of each failing test, as `opa test -v` prints it under FAILURES: the test's rule evaluated by
 * the interpreter (the tests themselves run compiled), in OPA's text form, indented. A test the interpreter cannot
 * follow, or a second definition of a name (`test_x#01`), gets no trace.
 */
function failureTraces(results: TestResult[], loaded: LoadedFiles, mode: ExplainMode, regoVersion: 'v0' | 'v1', capabilities: CompileCapabilities): Map<TestResult, string[]> {
  const traces = new Map<TestResult, string[]>();
  for (const r of results) {
    if (status(r) !== 'FAIL' || r.name.includes('#')) continue;
    try {
      const events = explain(loaded.modules, { query: `${r.package}.${r.name}`, input: undefined, data: loaded.data }, mode, { ...capabilities, regoVersion });
      traces.set(r, explanationText(events, 7).map((line) => `  ${line}  `));
    } catch (err) {
      if (!(err instanceof ExplainUnsupported)) throw err;
    }
  }
  return traces;
}
