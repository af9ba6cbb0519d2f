// `verdict eval [flags] QUERY`: evaluates an ad-hoc query against policies and data with Verdict's own compiler
// and wasm back end (no OPA), printing what `opa eval` prints: {"result":[{"expressions":[{"value","text",
// "location"}],"bindings":{…}}]}, `{}` when undefined, and {"errors":[…]} with exit code 2 when the policies or
// the query do not compile; the other formats and the flags are in eval-command.ts.
import { loadPolicy } from '../engine/wasm-host.js';
import { hostBuiltinsAllowingNet } from '../builtins/index.js';
import { HttpSendClient } from '../builtins/http-send/client.js';
import { evaluateWithHttpSend } from '../engine/http-send-loop.js';
import { verdictBuiltins } from '../compiler/builtins.js';
import { verdictCompileCapabilities, type CompileCapabilities } from './capabilities-flag.js';
import { checkParsedModules, parseRegoFiles, RegoCompileError } from '../compiler/compile-rego.js';
import { compilePlan } from '../wasm/compile.js';
import { PlanError as BackEndError } from '../ir/validate.js';
import type { Module } from '../compiler/ast.js';
import { planModules, PlanError } from '../compiler/planner/index.js';
import { queryModule, queryPlanError, queryTextLocation, QUERY_START, type QueryContext, type QueryRow } from '../compiler/query.js';
import type { RegoVersion } from '../compiler/ast.js';
import { LoadError, loadDataAndBundles, schemaOption } from './load.js';
import { evalErrorDetail } from '../engine/eval-error.js';
import { readEvalInput } from './eval-input.js';
import { writeJson } from '../json/writer.js';
import { goErrorList } from './go-format.js';
import { formatRegoError, isLocated } from '../compiler/errors.js';


export interface EvalOptions {
  dataPaths: string[];
  /** `-b`: bundle directories or archives. */
  bundlePaths?: string[];
  inputFile?: string;
  /** The input document's text (`-I`, read from stdin); takes the place of inputFile. */
  inputText?: string;
  query: string;
  regoVersion?: RegoVersion;
  context?: QueryContext;
  ignore?: string[];
  /** Filled with OPA's timer names (nanoseconds) when given. */
  metrics?: Record<string, number>;
  /** `--schema`: the JSON schema file of input, or a directory of schema documents (CompileOptions.schemas). */
  schemaPath?: string;
  /** `--strict`: the compiler's strict mode (CompileRegoOptions.strict). */
  strict?: boolean;
  /** The first builtin error fails the evaluation instead of making the call undefined (OPA's strict mode). */
  strictBuiltinErrors?: boolean;
  /** `--capabilities`: the builtins and features the policies and query compile against (else Verdict's). */
  capabilities?: CompileCapabilities;
}

export interface EvalOutput {
  result?: Array<{ expressions: Array<{ value: unknown; text: string; location: { row: number; col: number } }>; bindings?: Record<string, unknown> }>;
  errors?: Array<{ message: string; code?: string; location?: { file: string; row: number; col: number }; details?: unknown }>;
  metrics?: Record<string, number>;
}

/** An output's errors as OPA prints them on stderr: Go's error list of `file:row: code: message` lines. */
export function errorsText(errors: NonNullable<EvalOutput['errors']>): string {
  return goErrorList(errors.map((e) => (e.code ? formatRegoError({ ...e, code: e.code } as Parameters<typeof formatRegoError>[0]) : e.message)));
}

/** Compiles and evaluates; compile errors come back as `errors` (OPA's shape), other failures throw. */
export async function evaluateQuery(options: EvalOptions): Promise<EvalOutput> {
  const prepared = await prepareQuery(options);
  if (!('run' in prepared)) return prepared;
  const out = prepared.run();
  return out instanceof Promise ? await out : out;
}

/** A query compiled with its policies into a loaded wasm module, with its data and input, ready to evaluate. */
export interface PreparedQuery {
  /**
   * Evaluates once (synchronously unless http.send has to fetch); evaluation errors come back as `errors`. `with`
   * replaces the prepared input (`verdict exec` evaluates one compiled query against many inputs).
   */
  run(with_?: { input: unknown }): EvalOutput | Promise<EvalOutput>;
}

/**
 * Loads, compiles and instantiates what evaluateQuery evaluates, the way the server prepares a policy; `verdict
 * bench` runs the result many times. Load and compile errors come back as `errors` (OPA's shape).
 */
export async function prepareQuery(options: EvalOptions): Promise<PreparedQuery | EvalOutput> {
  const timer = metricsTimer(options.metrics);
  let loaded;
  let schemas;
  try {
    loaded = await loadDataAndBundles(options.dataPaths, options.bundlePaths ?? [], { ignore: options.ignore });
    schemas = await schemaOption(options.schemaPath);
  } catch (err) {
    if (err instanceof LoadError) return { errors: [{ message: err.message }] };
    throw err;
  }
  if (options.dataPaths.length + (options.bundlePaths?.length ?? 0) > 0) timer('timer_rego_load_files_ns');
  const { modules, data } = loaded;
  const input = await readEvalInput(options);
  let wasm: Uint8Array;
  let query: ReturnType<typeof queryModule> | undefined;
  try {
    const capabilities = options.capabilities ?? verdictCompileCapabilities;
    const parsed = parseRegoFiles(modules, { ...capabilities, regoVersion: options.regoVersion });
    if (parsed.length > 0) timer('timer_rego_module_parse_ns');
    query = queryModule(options.query, { ...options.context, names: visibleNames(parsed, options.context), features: capabilities.features });
    // The query is parsed inside a v1 module of ours; with --v0-compatible OPA parses it as v0, which needs no rego_v1.
    const queryCapabilities = options.regoVersion === 'v0' && capabilities.features ? { ...capabilities, features: new Set([...capabilities.features, 'rego_v1']) } : capabilities;
    const [queryParsed] = parseRegoFiles([query.file], queryCapabilities);
    timer('timer_rego_query_parse_ns');
    const checked = checkParsedModules([...parsed, queryParsed!], { ...capabilities, schemas, strict: options.strict });
    wasm = compilePlan(planModules(checked, [query.entrypoint], verdictBuiltins));
    if (parsed.length > 0) timer('timer_rego_module_compile_ns');
  } catch (err) {
    if (err instanceof RegoCompileError) {
      // OPA compiles the policies before the query: when they have errors, the query's are never found.
      const inQuery = (e: { location: { file: string } }) => e.location.file === query?.file.path;
      const errors = err.errors.some((e) => !inQuery(e)) ? err.errors.filter((e) => !inQuery(e)) : err.errors;
      return {
        errors: errors.map(({ message, code, location, details }) => ({
          message, code,
          ...(isLocated(location) ? { location: inQuery({ location }) ? queryTextLocation(query!, location) : location } : {}),
          ...(details ? { details } : {}),
        })),
      };
    }
    if (err instanceof PlanError) return { errors: [queryPlanError(err.message)] };
    if (err instanceof BackEndError) return { errors: [{ message: err.message, code: 'rego_compile_error', location: QUERY_START }] };
    throw err;
  }
  const allowNet = options.capabilities?.allowNet;
  const policy = await loadPolicy(wasm, hostBuiltinsAllowingNet(allowNet));
  policy.setData(data);
  timer('timer_rego_query_compile_ns');
  const compiled = query;
  const client = new HttpSendClient(allowNet ? { allowedHosts: allowNet } : {});
  const answer = (first: { result?: QueryRow[] } | undefined): EvalOutput => {
    const failure = options.strictBuiltinErrors ? policy.builtinError() : undefined;
    if (failure) {
      const location = failure.location && (failure.location.file === compiled.file.path ? queryTextLocation(compiled, failure.location) : failure.location);
      return { errors: [{ message: failure.message, code: failure.code, ...(location ? { location } : {}) }] };
    }
    timer('timer_rego_query_eval_ns');
    const rows = first?.result ?? [];
    if (rows.length === 0) return {};
    return {
      result: rows.map((row) => ({
        expressions: compiled.expressions.map((e, i) => ({ value: row.expressions[i], text: e.text, location: e.location })),
        ...(compiled.variables.length > 0 ? { bindings: row.bindings } : {}),
      })),
    };
  };
  const failed = (err: unknown): EvalOutput => {
    const { code, message, location } = evalErrorDetail(err);
    return { errors: [{ message, code, ...(location ? { location } : {}) }] };
  };
  return {
    run: (with_) => {
      const runInput = inputText(with_ ? with_.input : input);
      // http.send calls are fetched between passes (src/engine/http-send-loop.ts); our modules survive the aborts.
      try {
        const evaluating = evaluateWithHttpSend(client, () => policy.evaluate(runInput, compiled.entrypoint) as Array<{ result?: QueryRow[] }>);
        if (evaluating instanceof Promise) return evaluating.then(([first]) => answer(first), failed);
        return answer(evaluating[0]);
      } catch (err) {
        return failed(err);
      }
    },
  };
}

/**
 * A defined input as JSON text: the host reads any falsy value as no input, but `false`, 0, "" and null are
 * inputs to opa eval (an empty input file is null).
 */
function inputText(input: unknown): ArrayBuffer | undefined {
  return input === undefined ? undefined : (new TextEncoder().encode(writeJson(input)).buffer as ArrayBuffer);
}

/** The names a query sees unqualified: its imports' and, with --package, that package's rules. */
function visibleNames(modules: Module[], context: QueryContext | undefined): string[] {
  const names = (context?.imports ?? []).map((i) => /\bas\s+(\w+)\s*$/.exec(i)?.[1] ?? i.trim().split('.').pop()!);
  const pkg = context?.package?.replace(/^data\./, '');
  if (pkg === undefined) return names;
  for (const m of modules) {
    if (m.package.path.slice(1).map((t) => String((t as { value: unknown }).value)).join('.') === pkg) names.push(...m.rules.map((r) => r.head.name));
  }
  return names;
}

/** Records the time since the previous mark under each name, when metrics are asked for. */
function metricsTimer(metrics: Record<string, number> | undefined): (name: string) => void {
  let last = process.hrtime.bigint();
  return (name) => {
    const now = process.hrtime.bigint();
    if (metrics) metrics[name] = Number(now - last);
    last = now;
  };
}

