// `verdict bench [flags] QUERY`: `opa bench` for Verdict's engine. The query is prepared as `verdict eval`
// prepares it (policies compiled with the query into one wasm module, loaded, data set: the server's path), then
// evaluated repeatedly (bench-runner.ts); the result is printed in opa bench's shapes: a table (pretty), Go's
// BenchmarkResult JSON (json) or a Go benchmark line (gobench). Exit code 1 when loading, compiling or an
// evaluation fails, or (unless --fail=false) when the result is undefined.
import { checkQueryArguments, integerFlag, flagsHelp, parseCommandLine, queryFlags, schemaFlag, sharedFlags, type FlagGroup } from './flags.js';
import { goJson } from './go-format.js';
import { LoadError } from './load.js';
import { errorsText, prepareQuery, type EvalOutput } from './eval.js';
import { prettyTable } from './pretty-table.js';
import { queryOptions } from './query-options.js';
import { BenchFailure, benchmark, type BenchResult } from './bench-runner.js';

const FORMATS = ['pretty', 'json', 'gobench'] as const;
type Format = (typeof FORMATS)[number];
const SERVER_ONLY = '--e2e (benchmarking against a running server) is not supported by verdict bench';

const benchFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      ...queryFlags,
      format: { type: 'string', short: 'f', default: 'pretty', value: 'FORMAT', help: `output format: ${FORMATS.join(', ')} (default pretty)` },
      count: { type: 'string', default: '1', value: 'N', help: 'run the benchmark N times, printing each result (default 1)' },
      benchmem: { type: 'boolean', help: 'report the JavaScript heap bytes allocated per evaluation (default true)' },
      metrics: { type: 'boolean', help: 'report the histogram of evaluation times (default true)' },
      fail: { type: 'boolean', help: 'an undefined result is an error, exit code 1 (default true)' },
      ...schemaFlag,
      ignore: sharedFlags.ignore,
      'v0-compatible': sharedFlags['v0-compatible'],
      help: sharedFlags.help,
    },
  },
  {
    title: 'Refused',
    flags: {
      e2e: { type: 'boolean', help: '', refused: 'benchmarking through a server started for the purpose is not supported; time the server with an HTTP load tool' },
      'config-file': { type: 'string', short: 'c', help: '', refused: SERVER_ONLY },
      'shutdown-grace-period': { type: 'string', help: '', refused: SERVER_ONLY },
      'shutdown-wait-period': { type: 'string', help: '', refused: SERVER_ONLY },
      partial: { type: 'boolean', short: 'p', help: '', refused: 'verdict bench times full evaluation only' },
      unknowns: { type: 'string', short: 'u', multiple: true, help: '', refused: 'verdict bench times full evaluation only' },
      target: { type: 'string', short: 't', help: '', refused: "queries always run on Verdict's own engine (Rego compiled to wasm)" },
      'optimize-store-for-read-speed': { type: 'boolean', help: '', refused: 'Verdict has one data store layout' },
    },
  },
];

export function benchHelp(): string {
  return flagsHelp(
    [
      'usage: verdict bench [flags] QUERY',
      '',
      "Prepares QUERY against the policies and data given with -d and -b as verdict eval does (Verdict's compiler",
      'and engine), evaluates it repeatedly for about a second and prints what opa bench prints: the number of',
      'evaluations, ns/op, B/op (JavaScript heap) and the histogram of evaluation times. Exit code 1 when loading,',
      'compiling or evaluating fails, or the result is undefined (unless --fail=false).',
    ],
    benchFlags,
  );
}

/** Runs the subcommand; returns the process exit code. */
export async function benchCommand(args: string[]): Promise<number> {
  let count = 1;
  const parsed = parseCommandLine(args, {
    name: 'bench',
    groups: benchFlags,
    help: benchHelp,
    formats: FORMATS,
    validate: (values, positionals) => {
      count = integerFlag(values, 'count');
      checkQueryArguments(values, positionals);
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const format = values.format as Format;
  const options = { memory: values.benchmem !== false, metrics: values.metrics !== false };
  const failUndefined = values.fail !== false;
  let prepared;
  try {
    prepared = await prepareQuery(queryOptions(values, positionals));
  } catch (err) {
    if (!(err instanceof LoadError)) throw err;
    prepared = { errors: [{ message: err.message }] };
  }
  if (!('run' in prepared)) return printErrors(prepared.errors ?? [], format);
  const run = prepared.run;
  const verdict = (out: EvalOutput): string | undefined => (out.errors ? JSON.stringify(out.errors) : failUndefined && !out.result?.length ? 'undefined result' : undefined);
  for (let i = 0; i < count; i++) {
    let result: BenchResult;
    try {
      // Errors are carried out of the timed loop as text and turned back into OPA's error list below.
      result = await benchmark(() => {
        const out = run();
        return out instanceof Promise ? out.then(verdict) : verdict(out);
      }, options);
    } catch (err) {
      if (!(err instanceof BenchFailure)) throw err;
      return printErrors(err.message.startsWith('[') ? JSON.parse(err.message) : [{ message: err.message }], format);
    }
    process.stdout.write(render(result, format, options.memory));
  }
  return 0;
}

function printErrors(errors: NonNullable<EvalOutput['errors']>, format: Format): number {
  if (format === 'json') process.stdout.write(`${goJson({ errors }, 2)}\n`);
  else console.error(errorsText(errors));
  return 1;
}

/** Go's benchmark number format: ten places before the point, small numbers to three significant figures. */
export function benchNumber(x: number): string {
  const y = Math.abs(x);
  const [width, digits] = y === 0 || y >= 99.95 ? [10, 0] : y >= 9.995 ? [12, 1] : y >= 0.9995 ? [13, 2] : y >= 0.09995 ? [14, 3] : y >= 0.009995 ? [15, 4] : y >= 0.0009995 ? [16, 5] : [17, 6];
  return x.toFixed(digits).padStart(width);
}

function render(r: BenchResult, format: Format, memory: boolean): string {
  const extra = Object.entries(r.histogram ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const bytesPerOp = Math.floor((r.bytes ?? 0) / r.n);
  if (format === 'json') {
    // Go's testing.BenchmarkResult; MemAllocs stays 0: V8 counts no allocations.
    return `${goJson({ N: r.n, T: r.ns, Bytes: 0, MemAllocs: 0, MemBytes: r.bytes ?? 0, Extra: Object.fromEntries(extra) }, 2)}\n`;
  }
  if (format === 'gobench') {
    const fields = [String(r.n).padStart(8), `${benchNumber(r.ns / r.n)} ns/op`, ...extra.map(([k, v]) => `${benchNumber(v)} ${k}`)];
    if (memory) fields.push(`${String(bytesPerOp).padStart(8)} B/op`);
    return `BenchmarkOPAEval\t${fields.join('\t')}\n`;
  }
  const rows = [['samples', String(r.n)], ['ns/op', benchNumber(r.ns / r.n).trim()]];
  if (memory) rows.push(['B/op', String(bytesPerOp)]);
  for (const [k, v] of extra) rows.push([k, benchNumber(v).trim()]);
  return `${prettyTable([], rows, [false, true])}\n`;
}
