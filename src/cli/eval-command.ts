// `verdict eval`'s command line: `opa eval`'s flags and output formats (json, pretty, raw, values, bindings,
// discard) over evaluateQuery (eval.ts). Flags Verdict does not support are refused by name.
import { checkQueryArguments, FlagError, flagsHelp, parseCommandLine, queryFlags, schemaFlag, sharedFlags, strictFlag, type FlagGroup, type FlagValues } from './flags.js';
import { goJson } from './go-format.js';
import { LoadError } from './load.js';
import { errorsText, evaluateQuery, type EvalOutput } from './eval.js';
import { InputError, readEvalInput } from './eval-input.js';
import { prettyTable } from './pretty-table.js';
import { queryOptions } from './query-options.js';
import { capabilitiesFlag, capabilitiesOption } from './capabilities-flag.js';
import { evaluatePartialQuery, partialFlagError } from './eval-partial.js';
import { EXPLAIN_MODES, ExplainUnsupported, isExplainMode, type ExplainMode } from '../compiler/explain/modes.js';

const FORMATS = ['json', 'pretty', 'raw', 'values', 'bindings', 'discard', 'source'] as const;
const NO_TRACE = "Verdict evaluates compiled wasm, which keeps no evaluation trace";

const evalFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      ...queryFlags,
      format: { type: 'string', short: 'f', default: 'json', value: 'FORMAT', help: `output format: ${FORMATS.join(', ')} (default json)` },
      fail: { type: 'boolean', help: 'exit 1 when the result is undefined or empty' },
      'fail-defined': { type: 'boolean', help: 'exit 1 when the result is defined' },
      metrics: { type: 'boolean', help: 'report timers (load, parse, compile, eval) in nanoseconds' },
      'strict-builtin-errors': { type: 'boolean', help: 'the first builtin error fails the evaluation (else the call is undefined)' },
      explain: { type: 'string', value: 'MODE', help: 'explain the evaluation: notes, fails, full or debug (json and pretty formats); off (the default) for none' },
      partial: { type: 'boolean', short: 'p', help: 'partially evaluate the query (prints OPA\'s -p JSON, or Rego with --format source)' },
      unknowns: { type: 'string', multiple: true, value: 'REF', help: 'with -p: a reference to treat as unknown (default input); repeatable' },
      'disable-inlining': { type: 'string', multiple: true, value: 'REF', help: 'with -p: a rule reference never inlined into the queries; repeatable' },
      ...strictFlag,
      ...schemaFlag,
      ...capabilitiesFlag,
      ignore: sharedFlags.ignore,
      'v0-compatible': sharedFlags['v0-compatible'],
      help: sharedFlags.help,
    },
  },
  {
    title: 'Refused',
    flags: {
      'show-builtin-errors': { type: 'boolean', help: '', refused: 'only the first builtin error is kept (--strict-builtin-errors reports it)' },
      'var-values': { type: 'boolean', help: '', refused: NO_TRACE },
      profile: { type: 'boolean', help: '', refused: NO_TRACE },
      'profile-limit': { type: 'string', help: '', refused: NO_TRACE },
      'profile-sort': { type: 'string', help: '', refused: NO_TRACE },
      coverage: { type: 'boolean', help: '', refused: NO_TRACE },
      'coverage-runs': { type: 'string', help: '', refused: NO_TRACE },
      instrument: { type: 'boolean', help: '', refused: NO_TRACE },
      count: { type: 'string', help: '', refused: 'use verdict bench to time a query' },
      'disable-early-exit': { type: 'boolean', help: '', refused: "Verdict's compiler has no such switch" },
      'disable-indexing': { type: 'boolean', help: '', refused: "Verdict's compiler has no such switch" },
      'shallow-inlining': { type: 'boolean', help: '', refused: 'partial evaluation options are not supported by verdict eval' },
      'nondeterminstic-builtins': { type: 'boolean', help: '', refused: 'partial evaluation options are not supported by verdict eval' },
      entrypoint: { type: 'string', short: 'e', help: '', refused: 'give the query instead' },
      optimize: { type: 'string', short: 'O', help: '', refused: 'optimisation levels are not supported by verdict eval' },
      target: { type: 'string', short: 't', help: '', refused: "queries always run on Verdict's own engine" },
      timeout: { type: 'string', help: '', refused: 'evaluation timeouts are not supported by verdict eval' },
      'pretty-limit': { type: 'string', help: '', refused: 'pretty output is never truncated by Verdict' },
      'optimize-store-for-read-speed': { type: 'boolean', help: '', refused: 'not applicable to verdict eval' },
    },
  },
];

export function evalHelp(): string {
  return flagsHelp(
    [
      'usage: verdict eval [flags] QUERY',
      '',
      "Evaluates QUERY against the policies and data given with -d and -b and an input document, with Verdict's",
      'compiler and engine, printing what opa eval prints. Exit code: 0, or 2 when loading, compiling or evaluating',
      'failed; with --fail, 1 when the result is undefined; with --fail-defined, 1 when it is defined.',
    ],
    evalFlags,
  );
}

/** Runs the subcommand; returns the process exit code. */
export async function evalCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, {
    name: 'eval',
    groups: evalFlags,
    help: evalHelp,
    formats: FORMATS,
    validate: (values, positionals) => {
      checkQueryArguments(values, positionals);
      capabilitiesOption(values);
      const partialError = partialFlagError(values as { partial?: boolean; unknowns?: string[]; 'disable-inlining'?: string[] });
      if (partialError) throw new FlagError(partialError);
      if (explainFlag(values) !== undefined) {
        if (!isExplainMode(values.explain as string)) throw new FlagError(`--explain ${String(values.explain)}: expected one of off, ${EXPLAIN_MODES.join(', ')}`);
        if (values.format !== 'json' && values.format !== 'pretty' && values.format !== 'discard') throw new FlagError('--explain prints with --format json, pretty or discard only');
        if (values.partial || (values.bundle as string[] | undefined)?.length || values.package || values.import) throw new FlagError('--explain takes -d, -i/-I and the query only (not -p, -b, --package or --import)');
      }
      if (values.format === 'source' && !values.partial) throw new FlagError('--format source prints partial evaluation results: it needs -p (--partial)');
      if (values.partial && values.format !== 'json' && values.format !== 'source') throw new FlagError(`-p prints with --format json or source only (not --format ${String(values.format)})`);
      if (values.partial && (values.package || values.import || values.metrics)) throw new FlagError('-p takes -d, -b, -i/-I and --unknowns/--disable-inlining only (not --package, --import or --metrics)');
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const format = values.format as (typeof FORMATS)[number];
  if (values.partial) return partialCommand(values, positionals);
  const metrics = values.metrics ? {} : undefined;
  const options = queryOptions(values, positionals);
  let out: EvalOutput & { explanation?: unknown[] };
  try {
    out = await evaluateQuery({ ...options, metrics, strictBuiltinErrors: values['strict-builtin-errors'] === true });
  } catch (err) {
    if (err instanceof InputError) return inputFailed(err);
    if (!(err instanceof LoadError)) throw err;
    out = { errors: [{ message: err.message }] };
  }
  if (metrics && !out.errors) out.metrics = sortedKeys(metrics);
  let explanationLines: string[] = [];
  const explainMode = explainFlag(values);
  if (explainMode !== undefined && !out.errors) {
    try {
      // Imported here: without --explain the interpreter that explains is not loaded.
      const { explainEval } = await import('./eval-explain.js');
      const explanation = await explainEval(options, explainMode, format === 'pretty' ? 'pretty' : 'json');
      // An explanation without events is left out of the JSON, as opa eval leaves it.
      if (format !== 'pretty' && (explanation as unknown[]).length > 0) out = { ...out, explanation };
      else explanationLines = explanation as string[];
    } catch (err) {
      if (!(err instanceof ExplainUnsupported)) throw err;
      out = { errors: [{ message: `--explain: ${err.message}` }] };
    }
  }
  if (explanationLines.length > 0) process.stdout.write(`${explanationLines.join('\n')}\n`);
  process.stdout.write(render(out, format));
  if (out.errors) {
    if (format !== 'json' && format !== 'discard') console.error(errorsText(out.errors));
    return 2;
  }
  const defined = (out.result?.length ?? 0) > 0;
  if (values.fail && !defined) return 1;
  if (values['fail-defined'] && defined) return 1;
  return 0;
}

async function partialCommand(values: FlagValues, positionals: string[]): Promise<number> {
  let partial;
  try {
    const options = queryOptions(values, positionals);
    partial = await evaluatePartialQuery(options.dataPaths, await readEvalInput(options), options.query, values, values.format === 'source' ? 'source' : 'json', options.bundlePaths);
  } catch (err) {
    if (err instanceof InputError) return inputFailed(err);
    if (!(err instanceof LoadError) && !(err instanceof SyntaxError) && (err as NodeJS.ErrnoException).code === undefined) throw err;
    partial = { errors: [{ message: (err as Error).message, code: 'load_error', location: { file: '', row: 0, col: 0 } }] };
  }
  if (values.format === 'source') {
    // As opa eval: the Rego on stdout, errors in their text form on stderr.
    if (partial.errors) console.error(errorsText(partial.errors as EvalOutput['errors'] & object));
    else process.stdout.write(partial.source ?? '');
    return partial.errors ? 2 : 0;
  }
  process.stdout.write(`${goJson(partial, 2)}\n`);
  return partial.errors ? 2 : 0;
}

/** opa eval reports an input it cannot read alone on stderr, in every format. */
function inputFailed(err: InputError): number {
  console.error(err.message);
  return 2;
}

function sortedKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The output in one of opa eval's formats (errors go to stderr, except in json). */
export function render(out: EvalOutput, format: (typeof FORMATS)[number]): string {
  if (format === 'json') return `${goJson(out, 2)}\n`;
  if (format === 'discard') return `${goJson(sortedDeep(discarded(out)), 2)}\n`;
  if (out.errors) return '';
  const rows = out.result ?? [];
  const lines: string[] = [];
  if (format === 'raw') {
    for (const r of rows) lines.push(r.expressions.map((e) => (typeof e.value === 'string' ? e.value : goJson(e.value))).join(' '));
  } else if (format === 'values') {
    for (const r of rows) lines.push(goJson(r.expressions.map((e) => e.value), 2));
  } else if (format === 'bindings') {
    for (const r of rows) lines.push(goJson(r.bindings ?? {}, 2));
  } else {
    lines.push(pretty(out));
    if (out.metrics) lines.push(prettyTable(['Metric', 'Value'], Object.entries(out.metrics).map(([k, v]) => [k, String(v)])));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** A lone value as indented JSON, `undefined`, or a table: the bindings' columns, else one per expression. */
function pretty(out: EvalOutput): string {
  const rows = out.result ?? [];
  if (rows.length === 0) return 'undefined';
  const first = rows[0]!;
  const names = Object.keys(first.bindings ?? {}).sort();
  if (rows.length === 1 && names.length === 0 && first.expressions.length === 1) return goJson(first.expressions[0]!.value, 2);
  if (names.length > 0) return prettyTable(names, rows.map((r) => names.map((n) => goJson(r.bindings?.[n]))));
  return prettyTable(first.expressions.map((e) => e.text), rows.map((r) => r.expressions.map((e) => goJson(e.value))));
}

/** The --explain mode; `off`, opa eval's default, is no explanation. */
function explainFlag(values: FlagValues): ExplainMode | undefined {
  return values.explain === undefined || values.explain === 'off' ? undefined : (values.explain as ExplainMode);
}

/** The discard format: the json output with a defined result replaced by "discarded", as opa eval prints it. */
function discarded(out: EvalOutput): unknown {
  const { result, ...rest } = out;
  return (result?.length ?? 0) > 0 ? { ...rest, result: 'discarded' } : rest;
}

/** opa eval prints the discard format from a decoded copy of its output: every object's keys sorted. */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedDeep((value as Record<string, unknown>)[k])]));
}
