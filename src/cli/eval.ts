// `verdict eval [-d PATH]... [-i INPUT_FILE] [--format json|pretty] QUERY`: evaluates an ad-hoc query against
// policies and data with Verdict's own compiler and wasm back end (no OPA), printing what `opa eval` prints:
// {"result":[{"expressions":[{"value","text","location"}],"bindings":{…}}]}, `{}` when undefined, and
// {"errors":[…]} with exit code 2 when the policies or the query do not compile.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPolicy } from '../engine/wasm-host.js';
import { parse as parseYaml } from 'yaml';
import { hostBuiltins } from '../builtins/index.js';
import { HttpSendClient } from '../builtins/http-send/client.js';
import { evaluateWithHttpSend } from '../engine/http-send-loop.js';
import { verdictBuiltins, verdictDeprecated } from '../compiler/builtins.js';
import { compileRego, RegoCompileError } from '../compiler/compile-rego.js';
import { PlanError } from '../compiler/planner/index.js';
import { queryModule, queryPlanError, type QueryRow } from '../compiler/query.js';
import { LoadError, loadPaths } from './load.js';
import { evaluatePartialQuery, partialFlagError, partialFlags, partialUsage } from './eval-partial.js';

export const evalUsage = `verdict eval [-d PATH]... [-i INPUT_FILE] [--format json|pretty] ${partialUsage} QUERY`;

export interface EvalOptions {
  dataPaths: string[];
  inputFile?: string;
  query: string;
}

export interface EvalOutput {
  result?: Array<{ expressions: Array<{ value: unknown; text: string; location: { row: number; col: number } }>; bindings?: Record<string, unknown> }>;
  errors?: Array<{ message: string; code: string; location: { file: string; row: number; col: number }; details?: unknown }>;
}

/** Compiles and evaluates; compile errors come back as `errors` (OPA's shape), other failures throw. */
export async function evaluateQuery(options: EvalOptions): Promise<EvalOutput> {
  const { modules, data } = await loadPaths(options.dataPaths);
  const input = options.inputFile === undefined ? undefined : await readInput(options.inputFile);
  let wasm: Uint8Array;
  let query;
  try {
    query = queryModule(options.query);
    wasm = compileRego([...modules, query.file], [query.entrypoint], { builtins: verdictBuiltins, deprecated: verdictDeprecated });
  } catch (err) {
    if (err instanceof RegoCompileError) return { errors: err.errors };
    if (err instanceof PlanError) return { errors: [queryPlanError(err.message)] };
    throw err;
  }
  const policy = await loadPolicy(wasm, hostBuiltins);
  policy.setData(data);
  // http.send calls are fetched between passes (src/engine/http-send-loop.ts); our modules survive the aborts.
  const evaluating = evaluateWithHttpSend(new HttpSendClient(), () => policy.evaluate(input, query.entrypoint) as Array<{ result?: QueryRow[] }>);
  const [first] = evaluating instanceof Promise ? await evaluating : evaluating;
  const rows = first?.result ?? [];
  if (rows.length === 0) return {};
  return {
    result: rows.map((row) => ({
      expressions: query.expressions.map((e, i) => ({ value: row.expressions[i], text: e.text, location: e.location })),
      ...(query.variables.length > 0 ? { bindings: row.bindings } : {}),
    })),
  };
}

async function readInput(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new LoadError(`${path}: no such file`);
  });
  try {
    return ['.yaml', '.yml'].includes(extname(path)) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new LoadError(`${path}: ${(err as Error).message}`);
  }
}

/** `--format pretty`: a lone value as indented JSON (as OPA prints it), anything else as the JSON output. */
function pretty(out: EvalOutput): string {
  const only = out.result?.length === 1 && !out.result[0]!.bindings && out.result[0]!.expressions.length === 1;
  if (only) return JSON.stringify(out.result![0]!.expressions[0]!.value, null, 2);
  if (!out.result && !out.errors) return 'undefined';
  return JSON.stringify(out, null, 2);
}

/** Runs the subcommand; returns the process exit code. */
export async function evalCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        data: { type: 'string', short: 'd', multiple: true },
        input: { type: 'string', short: 'i' },
        format: { type: 'string', short: 'f', default: 'json' },
        ...partialFlags,
      },
    });
  } catch (err) {
    console.error(`verdict eval: ${(err as Error).message}\nusage: ${evalUsage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error(`verdict eval: expected exactly one query\nusage: ${evalUsage}`);
    return 2;
  }
  if (values.format !== 'json' && values.format !== 'pretty') {
    console.error(`verdict eval: --format ${values.format}: expected json or pretty`);
    return 2;
  }
  const flagError = partialFlagError(values);
  if (flagError) {
    console.error(`verdict eval: ${flagError}\nusage: ${evalUsage}`);
    return 2;
  }
  if (values.partial) {
    if (values.format !== 'json') {
      console.error('verdict eval: -p prints JSON only (--format json)');
      return 2;
    }
    let partial;
    try {
      const input = values.input === undefined ? undefined : await readInput(values.input);
      partial = await evaluatePartialQuery(values.data ?? [], input, positionals[0]!, values);
    } catch (err) {
      if (!(err instanceof LoadError)) throw err;
      partial = { errors: [{ message: err.message, code: 'load_error', location: { file: '', row: 0, col: 0 } }] };
    }
    console.log(JSON.stringify(partial, null, 2));
    return partial.errors ? 2 : 0;
  }
  let out: EvalOutput;
  try {
    out = await evaluateQuery({ dataPaths: values.data ?? [], inputFile: values.input, query: positionals[0]! });
  } catch (err) {
    if (!(err instanceof LoadError)) throw err;
    out = { errors: [{ message: err.message, code: 'load_error', location: { file: '', row: 0, col: 0 } }] };
  }
  console.log(values.format === 'pretty' ? pretty(out) : JSON.stringify(out, null, 2));
  return out.errors ? 2 : 0;
}
