// OPA's Compile API: POST /v1/compile partially evaluates a query with some references unknown, over the active
// policy set's Rego modules and data, and answers the residual queries and support modules in OPA's AST JSON.
// The request is {query, input, unknowns, options: {disableInlining}}; fields and options we do not implement
// are refused by name rather than ignored.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegoCompileError } from '../compiler/compile-rego.js';
import { verdictBuiltins, verdictDeprecated } from '../compiler/builtins.js';
import { partialEvaluate, PartialEvalError, partialResultJson, type PartialTimings } from '../compiler/partial/index.js';
import type { PartialResult } from '../compiler/partial/evaluator.js';
import { filterCondition, FilterError, toSql, toUcast, type FilterTarget, type SqlDialect, type TableMappings, type UcastFlavour } from '../compiler/partial/filters.js';
import { goJsonKind, isJsonObject } from '../json/kinds.js';
import { parseDocument, readBody } from './body.js';
import type { ServerContext } from './context.js';
import { ApiError, invalidParameter } from './errors.js';
import { boolParam, sendJson } from './respond.js';
import { explainMode } from './explain.js';
import { queryParseFailure } from './query-api.js';

export interface CompileRequest {
  query: string;
  input?: unknown;
  unknowns?: string[];
  options: Record<string, unknown>;
}

const FIELDS = new Set(['query', 'input', 'unknowns', 'options']);

/** Reads and checks a Compile API request body; `options` lists the options the route implements. */
export async function readCompileRequest(ctx: ServerContext, req: IncomingMessage, params: URLSearchParams, options: ReadonlySet<string>, fixed?: { query: string }): Promise<CompileRequest> {
  for (const name of params.keys()) {
    if (name === 'pretty' || name === 'metrics') continue;
    // A value that names no explanation mode is off, as OPA reads it.
    if (name === 'explain' && explainMode(params) === undefined) continue;
    throw invalidParameter(`query parameter ${name} is not supported by the Compile API`);
  }
  const body = await readBody(req, ctx.decoding);
  let request: unknown;
  try {
    request = parseDocument(body, false);
  } catch (err) {
    throw invalidParameter(`error(s) occurred while decoding request: ${(err as Error).message}`);
  }
  // Wrong types are refused in the words of Go's encoding/json filling OPA's request type.
  const refused = (message: string) => invalidParameter(`error(s) occurred while decoding request: json: cannot unmarshal ${message}`);
  const field = (name: string, value: unknown, type: string) => refused(`${goJsonKind(value)} into Go struct field ${name} of type ${type}`);
  const strings = (name: string, value: unknown) => {
    if (value === undefined || value === null) return;
    if (!Array.isArray(value)) throw field(name, value, '[]string');
    const odd = value.find((v) => typeof v !== 'string' && v !== null);
    if (odd !== undefined) throw field(name, odd, 'string');
  };
  if (request === null) request = {};
  if (!isJsonObject(request)) throw refused(`${goJsonKind(request)} into Go value of type types.CompileRequestV1`);
  for (const name of Object.keys(request)) if (!FIELDS.has(name)) throw invalidParameter(`error(s) occurred while decoding request: field ${name} is not supported`);
  const { unknowns } = request;
  if (fixed && request.query !== undefined) throw invalidParameter('error(s) occurred while decoding request: field query is not supported here: the path names the rule');
  const query = fixed ? fixed.query : request.query ?? undefined;
  if (query !== undefined && typeof query !== 'string') throw field('CompileRequestV1.query', query, 'string');
  strings('CompileRequestV1.unknowns', unknowns);
  const opts = request.options ?? {};
  if (!isJsonObject(opts)) throw field('CompileRequestV1.options', opts, 'struct { DisableInlining []string "json:\\"disableInlining,omitempty\\""; NondeterministicBuiltins bool "json:\\"nondeterministicBuiltins\\"" }');
  for (const name of Object.keys(opts)) if (!options.has(name)) throw invalidParameter(`error(s) occurred while decoding request: option ${name} is not supported`);
  const disable = opts.disableInlining;
  strings('.options.disableInlining', disable);
  if (query === undefined || query === '') throw invalidParameter("missing required 'query' value");
  return { query, input: request.input, unknowns: (unknowns as string[] | null) ?? undefined, options: opts };
}

/** Partially evaluates a request against the active policy set, with OPA's error envelopes. */
export function evaluatePartially(ctx: ServerContext, request: CompileRequest, unknowns: string[] | undefined, annotatedRule?: string[]): { result: PartialResult; timings: PartialTimings } {
  const { modules, regoVersion } = ctx.engine.regoSources();
  const timings: PartialTimings = { parseNs: 0, compileNs: 0, evalNs: 0 };
  try {
    const result = partialEvaluate(
      modules.map((m) => ({ path: m.path, source: m.source })),
      { query: request.query, input: request.input, unknowns, annotatedRule, disableInlining: request.options.disableInlining as string[] | undefined, data: ctx.engine.store.document },
      { builtins: verdictBuiltins, deprecated: verdictDeprecated, regoVersion: regoVersion === 0 ? 'v0' : 'v1' },
      timings,
    );
    return { result, timings };
  } catch (err) {
    throw compileApiError(err, request.query);
  }
}

function compileApiError(err: unknown, query: string): unknown {
  if (err instanceof RegoCompileError) {
    const errors = err.errors.map((e) => ({ code: e.code, message: e.message, location: e.location }));
    if (errors.some((e) => e.message.includes('is not a reference into input or data'))) return invalidParameter('error(s) occurred while parsing unknowns', errors);
    const parse = err.errors.every((e) => e.code === 'rego_parse_error');
    if (parse && err.errors.every((e) => e.location.file === '')) return queryParseFailure(query, err.errors, 'compile');
    return invalidParameter(parse ? 'error(s) occurred while parsing query' : 'error(s) occurred while compiling module(s)', errors);
  }
  if (err instanceof PartialEvalError) {
    const detail = { code: err.code, message: err.message, ...(err.location ? { location: { file: err.location.file, row: err.location.row, col: err.location.col } } : {}) };
    if (err.code === 'partial_eval_unsupported') return invalidParameter('error(s) occurred while partially evaluating query', [detail]);
    return new ApiError(500, 'internal_error', 'error(s) occurred while evaluating query', [detail]);
  }
  return err;
}

/** OPA's Compile API timers: the query's parse, its compilation, the partial evaluation and the whole request. */
export function metricsOf(params: URLSearchParams, timings: PartialTimings, started: bigint): Record<string, unknown> | undefined {
  if (!boolParam(params, 'metrics')) return undefined;
  return {
    timer_rego_partial_eval_ns: timings.evalNs,
    timer_rego_query_compile_ns: timings.compileNs,
    timer_rego_query_parse_ns: timings.parseNs,
    timer_server_handler_ns: Number(process.hrtime.bigint() - started),
  };
}

/** POST /v1/compile. */
export async function postCompile(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
  const started = process.hrtime.bigint();
  const request = await readCompileRequest(ctx, req, params, new Set(['disableInlining']));
  const { result, timings } = evaluatePartially(ctx, request, request.unknowns);
  const json = partialResultJson(result);
  const out: Record<string, unknown> = {};
  if (json.queries.length > 0) out.queries = json.queries;
  if (json.support.length > 0) out.support = json.support;
  const body: Record<string, unknown> = { result: out };
  const metrics = metricsOf(params, timings, started);
  if (metrics) body.metrics = metrics;
  sendJson(req, res, 200, body, boolParam(params, 'pretty'), ctx.encoding);
}

const SQL_TARGETS: Record<string, SqlDialect> = { postgresql: 'postgresql', mysql: 'mysql', sqlserver: 'sqlserver', sqlite: 'sqlite' };
const UCAST_TARGETS: Record<string, UcastFlavour> = { all: 'all', minimal: 'minimal', linq: 'linq', prisma: 'prisma' };

/** The target an Accept header names: application/vnd.opa.{sql.<dialect>|ucast.<flavour>|multitarget}+json, or application/json. */
function targetOf(accept: string): FilterTarget | 'rego' | 'multi' | undefined {
  const type = accept.split(',')[0]!.split(';')[0]!.trim().toLowerCase();
  if (type === '' || type === '*/*' || type === 'application/json') return 'rego';
  const m = /^application\/vnd\.(?:opa|styra)\.(?:(sql|ucast)\.([a-z]+)|(multitarget))\+json$/.exec(type);
  if (!m) return undefined;
  if (m[3]) return 'multi';
  if (m[1] === 'sql') return SQL_TARGETS[m[2]!] ? { kind: 'sql', dialect: SQL_TARGETS[m[2]!]! } : undefined;
  return UCAST_TARGETS[m[2]!] ? { kind: 'ucast', flavour: UCAST_TARGETS[m[2]!]! } : undefined;
}

/** "sql+postgresql", "ucast+prisma": options.targetDialects of a multitarget request. */
function dialectTarget(name: unknown): FilterTarget {
  const m = typeof name === 'string' ? /^(sql|ucast)\+([a-z]+)$/.exec(name) : null;
  if (m?.[1] === 'sql' && SQL_TARGETS[m[2]!]) return { kind: 'sql', dialect: SQL_TARGETS[m[2]!]! };
  if (m?.[1] === 'ucast' && UCAST_TARGETS[m[2]!]) return { kind: 'ucast', flavour: UCAST_TARGETS[m[2]!]! };
  throw invalidParameter(`options.targetDialects: unsupported target ${JSON.stringify(name)}`);
}

/**
 * POST /v1/compile/{path}: the data filter of the rule at {path} (`data.<path> == true` partially evaluated),
 * in the target the Accept header names. Unknowns come from the request, else from the rule's `unknowns`
 * metadata annotation, else ["input"].
 */
export async function postCompileFilter(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rawPath: string, params: URLSearchParams): Promise<void> {
  const started = process.hrtime.bigint();
  const target = targetOf(String(req.headers.accept ?? ''));
  if (!target) throw invalidParameter(`unsupported Accept header ${JSON.stringify(req.headers.accept)}: expected application/json, application/vnd.opa.sql.{postgresql,mysql,sqlserver,sqlite}+json, application/vnd.opa.ucast.{all,minimal,linq,prisma}+json or application/vnd.opa.multitarget+json`);
  let path: string[];
  try {
    path = rawPath.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    throw invalidParameter(`invalid path ${JSON.stringify(rawPath)}: not a valid URL escape`);
  }
  if (path.length === 0) throw invalidParameter('the path of a filter rule is required: POST /v1/compile/{path}');
  const query = `data${path.map((s) => `[${JSON.stringify(s)}]`).join('')} == true`;
  const request = await readCompileRequest(ctx, req, params, new Set(['disableInlining', 'targetSQLTableMappings', 'targetDialects']), { query });
  const mappings = (request.options.targetSQLTableMappings ?? {}) as TableMappings;
  if (!isJsonObject(mappings)) throw invalidParameter('options.targetSQLTableMappings must be an object');
  const { result, timings } = evaluatePartially(ctx, request, request.unknowns, path);
  let out: Record<string, unknown>;
  try {
    if (target === 'rego') {
      const json = partialResultJson(result);
      out = {};
      if (json.queries.length > 0) out.queries = json.queries;
      if (json.support.length > 0) out.support = json.support;
    } else if (target === 'multi') {
      const dialects = request.options.targetDialects;
      if (!Array.isArray(dialects) || dialects.length === 0) throw invalidParameter('options.targetDialects is required with application/vnd.opa.multitarget+json');
      const cond = filterCondition(result);
      out = {};
      for (const d of dialects) {
        const t = dialectTarget(d);
        out[t.kind === 'sql' ? t.dialect : 'ucast'] = filterResult(cond, t, mappings);
      }
    } else out = filterResult(filterCondition(result), target, mappings);
  } catch (err) {
    if (err instanceof FilterError) {
      const detail = { code: err.code, message: err.message, ...(err.location ? { location: { file: err.location.file, row: err.location.row, col: err.location.col } } : {}) };
      throw invalidParameter('error(s) occurred while translating the partial evaluation result', [detail]);
    }
    throw err;
  }
  const body: Record<string, unknown> = { result: out };
  const metrics = metricsOf(params, timings, started);
  if (metrics) body.metrics = metrics;
  // The official clients pick the response schema by its media type: the target's own.
  const mediaType = target === 'rego' ? 'application/json' : String(req.headers.accept).split(',')[0]!.split(';')[0]!.trim();
  sendJson(req, res, 200, body, boolParam(params, 'pretty'), ctx.encoding, mediaType);
}

/** {query: ...} for a target; no `query` when no row may pass. */
function filterResult(cond: ReturnType<typeof filterCondition>, target: FilterTarget, mappings: TableMappings): Record<string, unknown> {
  const query = target.kind === 'sql' ? toSql(cond, target.dialect, mappings) : toUcast(cond, target.flavour, mappings);
  return query === undefined ? {} : { query };
}
