// OPA's Query API (docs: rest-api "Query API"): GET /v1/query?q=<query> and POST /v1/query with
// {"query": ..., "input": ...}. The query is compiled by the active policy set's compiler as one more module
// (src/compiler/query.ts) and answers each solution's bindings: {"result": [{...}, ...]}, or {} when there
// is none.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegoCompileError as QueryParseError } from '../compiler/compile-rego.js';
import { queryModule, queryPlanError, queryStatementErrors, queryTextLocation, type QueryModule } from '../compiler/query.js';
import { RegoCompileError } from '../engine/compiler.js';
import { EvaluationError } from '../engine/program.js';
import { goJsonKind, isJsonObject } from '../json/kinds.js';
import { writeJson } from '../json/writer.js';
import { InputNumberError, parseEnvelope, readBody } from './body.js';
import type { ServerContext } from './context.js';
import { ApiError, evaluationFailed, invalidParameter, type ErrorDetail } from './errors.js';
import { instrumented, withInstrumentation } from './instrument.js';
import { explainMode, explanation } from './explain.js';
import { readJson } from '../json/reader.js';
import { boolParam, sendJson } from './respond.js';

const encoder = new TextEncoder();

export async function getQuery(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
  // A repeated q: OPA evaluates the last.
  const q = query.getAll('q').at(-1);
  if (q === undefined) throw invalidParameter("missing parameter 'q'");
  await answer(ctx, req, res, query, q, undefined, undefined);
}

export async function postQuery(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const started = process.hrtime.bigint();
  const body = await readBody(req, ctx.decoding);
  let request: unknown;
  let inputText: Uint8Array | undefined;
  try {
    ({ value: request, memberText: inputText } = parseEnvelope(body, false, 'input'));
  } catch (err) {
    if (err instanceof InputNumberError) throw new ApiError(500, 'internal_error', err.message);
    throw invalidParameter(`error(s) occurred while decoding request: ${(err as Error).message}`);
  }
  const { query: q, input } = queryRequest(request);
  if (input === undefined) inputText = undefined;
  else if (input.key !== 'input' || inputText === undefined) inputText = encoder.encode(writeJson(input.value));
  await answer(ctx, req, res, query, q, inputText, started);
}

/**
 * The body's query and input as Go's encoding/json fills OPA's request type: member names matched in any
 * case (the last match counts), a query of another type refused, and a null input (or body) read as none.
 */
function queryRequest(request: unknown): { query: string; input?: { key: string; value: unknown } } {
  if (request === null) return { query: '' };
  const refused = (message: string) => invalidParameter(`error(s) occurred while decoding request: json: cannot unmarshal ${message}`);
  if (!isJsonObject(request)) throw refused(`${goJsonKind(request)} into Go value of type types.QueryRequestV1`);
  const member = (name: string) => Object.keys(request).filter((k) => k.toLowerCase() === name).at(-1);
  const queryKey = member('query');
  const query = queryKey === undefined ? null : request[queryKey];
  if (query !== null && typeof query !== 'string') throw refused(`${goJsonKind(query)} into Go struct field QueryRequestV1.query of type string`);
  const inputKey = member('input');
  const input = inputKey === undefined || request[inputKey] === null ? undefined : { key: inputKey, value: request[inputKey] };
  return { query: query ?? '', ...(input ? { input } : {}) };
}

/**
 * `started`: when the handler began, for timer_server_handler_ns, which OPA reports for POST only. OPA also
 * reports timer_rego_external_resolve_ns when the query reads base data; Verdict's query module reads data
 * inside the module, part of the evaluation, and has no such timer.
 */
async function answer(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, params: URLSearchParams, q: string, input: Uint8Array | undefined, started: bigint | undefined): Promise<void> {
  if (q.trim() === '') throw new ApiError(500, 'internal_error', 'cannot evaluate empty query');
  const mode = explainMode(params);
  const parsedInput = input === undefined ? undefined : readJson(new TextDecoder().decode(input));
  const explained = mode && explanation(ctx, params, mode, { query: q, input: parsedInput });
  const instrumentation = instrumented(ctx, params, { query: q, input: parsedInput });
  let answered: Awaited<ReturnType<ServerContext['engine']['query']>>;
  try {
    answered = await ctx.engine.query(q, input);
  } catch (err) {
    if (err instanceof QueryParseError) throw queryParseFailure(q, err.errors, 'query');
    if (err instanceof RegoCompileError) {
      const module = queryModule(q); // parsed again only to place its errors in the query's text
      throw invalidParameter('error(s) occurred while compiling query', err.errors.length > 0 ? err.errors.map((e) => inQuery(e, module)) : [planned(err.message)]);
    }
    if (err instanceof EvaluationError) throw evaluationFailed(err);
    throw err;
  }
  const body: Record<string, unknown> = {};
  if (explained) body.explanation = explained;
  if (boolParam(params, 'metrics') || instrumentation) {
    const handler = started === undefined ? {} : { timer_server_handler_ns: Number(process.hrtime.bigint() - started) };
    const metrics = { timer_rego_query_compile_ns: answered.compileNs, timer_rego_query_eval_ns: answered.evalNs, ...handler };
    body.metrics = instrumentation ? withInstrumentation(metrics, instrumentation, { path: false, rows: answered.rows }) : metrics;
  }
  if (answered.rows.length > 0) body.result = answered.rows;
  sendJson(req, res, 200, body, boolParam(params, 'pretty'), ctx.encoding);
}

/**
 * A query that does not parse, reported as OPA's server reports it (see queryStatementErrors). Text that reads
 * as rules or imports is a 500 on the Query API, a 400 on the Compile API, as in OPA.
 */
export function queryParseFailure(query: string, bodyErrors: ErrorDetail[], api: 'query' | 'compile'): ApiError {
  const statements = queryStatementErrors(query);
  if (statements && 'notBody' in statements) {
    const message = `expected body but got *ast.${statements.notBody}`;
    return api === 'query' ? new ApiError(500, 'internal_error', message) : invalidParameter(`error(s) occurred while parsing query: ${message}`);
  }
  const errors = statements?.errors ?? bodyErrors;
  return invalidParameter('error(s) occurred while parsing query', errors.map((e) => ({ ...e, location: e.location && { ...e.location, file: '' } })));
}

/** The planner's own checks (an unbound variable, an undefined function) come back as a plain message. */
function planned(message: string): ErrorDetail {
  return queryPlanError(message.replace(/^planning failed: /, ''));
}

/** Errors inside the generated query module are the query's own: OPA reports them in the query's text (file ""). */
function inQuery(e: ErrorDetail, module: QueryModule): ErrorDetail {
  if (e.location?.file !== module.file.path) return e;
  return { code: e.code, message: e.message, location: queryTextLocation(module, e.location), ...(e.details ? { details: e.details } : {}) };
}
