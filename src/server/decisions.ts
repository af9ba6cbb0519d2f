// The decision pipeline every front end shares: enrich the input (PIP, when configured) → evaluate → record the
// event (OPA's EventV1) and issue its decision id. The REST Data API, the Envoy ext_authz gRPC server and the
// HTTP callouts (/v1/authz) each only map their request to a DecisionRequest and the Decision back to their
// answer. Recording does the least work it can on the request's thread: the input's JSON text travels with the
// event instead of being re-serialised, the timestamp is formatted once, the bundle revisions are built once per
// activation and request headers are read only when the decision log asks for some.
import type { IncomingMessage } from 'node:http';
import { formatTimestamp, newDecisionId, nowNs, requestContextHeaders, timestampMs, type DecisionEvent, type DecisionHints } from '../decisionlog/event.js';
import { EvaluationError } from '../engine/program.js';
import type { Decide, DecisionOrigin, EvaluateOptions, Evaluation } from '../engine/engine.js';
import type { Bundle } from '../bundle/bundle.js';
import { splitPath } from '../engine/store.js';
import type { EnrichmentReport } from '../pip/index.js';
import { writeJson } from '../json/writer.js';
import type { ServerContext } from './context.js';
import { enrichDecision } from './pip.js';
import { evaluationErrorDetail } from './errors.js';
import { requestIdOf } from './request-id.js';
import { activeTracing, currentTrace, traceOf, withTrace, type Span, type TraceContext } from '../tracing/index.js';

/**
 * The input's JSON text and what the JSON reader learnt of it (credential header keys, valid UTF-8), as the
 * decision log takes them with an event.
 */
type InputTextHints = Omit<DecisionHints, 'tsNs'>;

/**
 * `inputText` is the request's own bytes when the front end has them; decide writes it from `input` otherwise,
 * and the hints about it hold only for the front end's own text.
 */
export interface DecisionRequest extends InputTextHints {
  path: string[];
  /** The input as parsed, or undefined for none. */
  input: unknown;
  requestedBy: string;
  /** The HTTP request, whose headers go into the event when decision_logs.request_context.http.headers names some. */
  request?: IncomingMessage;
  /** When the request arrived and when its input was read (process.hrtime.bigint()): OPA's timers are reported. */
  timing?: { started: bigint; inputParsed: bigint };
  /** Evaluation options the front end's request asked for (?strict-builtin-errors). */
  options?: EvaluateOptions;
  /** OPA's req_id and the trace, for front ends without an HTTP request here (read from `request` otherwise). */
  origin?: DecisionOrigin;
}

export interface Decision extends Evaluation {
  /** OPA's timers, when the request gave its timing. */
  metrics?: Record<string, number>;
  /** Issued only when a decision log records the decision, as OPA does. */
  decisionId?: string;
}

const encoder = new TextEncoder();

/**
 * Decides one request. Synchronous unless a PIP lookup, an http.send or the decision log (sync durability or
 * back-pressure) has to be waited for. A failed evaluation is recorded with its error and the EvaluationError
 * rethrown; a PIP failure that fails the decision closed is recorded and thrown as a 500 ApiError, a
 * caller-supplied input.pip as a 400 ApiError.
 */
export function decide(ctx: ServerContext, request: DecisionRequest): Decision | Promise<Decision> {
  const tracing = activeTracing();
  const parent = tracing && (request.origin?.trace ?? traceOf(request.request));
  if (!parent) return decideUntraced(ctx, request, undefined);
  return tracing.within(parent, () =>
    tracing.span('decision', 'internal', () => ({ 'opa.path': request.path.join('/') }), (span) => {
      const decision = decideUntraced(ctx, request, currentTrace());
      return span ? traceDecision(ctx, span, decision) : decision;
    }),
  );
}

/**
 * `trace` is the decision span's, carried to the evaluation after a PIP lookup and into the event. The event of
 * every outcome (evaluated, failed, refused by a PIP lookup) carries the request's req_id and that trace.
 */
function decideUntraced(ctx: ServerContext, request: DecisionRequest, trace: TraceContext | undefined): Decision | Promise<Decision> {
  const origin: DecisionOrigin = { reqId: request.origin?.reqId ?? requestIdOf(request.request), trace };
  const inputText = request.input === undefined ? undefined : (request.inputText ?? encoder.encode(writeJson(request.input)));
  if (!ctx.enricher) return evaluate(ctx, request, request.input, inputText, undefined, origin);
  const enriched = enrichDecision(ctx, ctx.enricher, request.path, request.input, inputText, request.requestedBy, origin);
  if (enriched instanceof Promise) return enriched.then((e) => withTrace(trace, () => evaluate(ctx, request, e.input, e.inputText, e.report, origin)));
  return evaluate(ctx, request, enriched.input, enriched.inputText, enriched.report, origin);
}

function evaluate(ctx: ServerContext, request: DecisionRequest, input: unknown, inputText: Uint8Array | undefined, pip: EnrichmentReport | undefined, { reqId, trace }: DecisionOrigin): Decision | Promise<Decision> {
  const { path, requestedBy } = request;
  // What the reader saw holds for the request's own text only, not one the PIP enriched.
  const own = inputText !== undefined && inputText === request.inputText;
  const inputCredentialFree = own && request.inputCredentialFree === true;
  const inputCredentialMembers = own ? request.inputCredentialMembers : undefined;
  const inputValidUtf8 = own && request.inputValidUtf8 === true;
  const evalStart = process.hrtime.bigint();
  const failed = (err: unknown): never => {
    if (err instanceof EvaluationError) {
      recordDecision(ctx, { path, input, inputText, inputCredentialFree, inputCredentialMembers, inputValidUtf8, evaluated: { defined: false }, requestedBy, request: request.request, reqId, trace, pip, error: evaluationErrorDetail(err) });
    }
    throw err;
  };
  const done = (evaluation: Evaluation): Decision | Promise<Decision> => {
    const end = process.hrtime.bigint();
    ctx.metrics.evaluationDuration.observe(Number(end - evalStart) / 1e9);
    const decision: Decision = request.timing ? { ...evaluation, metrics: decisionMetrics(request.timing, evalStart, end, evaluation) } : evaluation;
    // The evaluation's end dates the event: the log reads no clock of its own.
    const id = recordDecision(ctx, { path, input, inputText, inputCredentialFree, inputCredentialMembers, inputValidUtf8, evaluated: decision, requestedBy, request: request.request, reqId, trace, pip, at: end });
    if (id === undefined) return decision;
    if (id instanceof Promise) return id.then((decisionId) => ({ ...decision, decisionId }));
    // The object made above for the timers takes the id (a clone of it would copy every member again); the
    // evaluation's own object is the engine's, so it is copied.
    if (decision !== evaluation) {
      decision.decisionId = id;
      return decision;
    }
    return { ...decision, decisionId: id };
  };
  try {
    const outcome = ctx.engine.evaluate(path, inputText, request.options);
    return outcome instanceof Promise ? outcome.then(done, failed) : done(outcome);
  } catch (err) {
    return failed(err);
  }
}

/** The decision span's attributes: what was decided, under which bundle revisions, recorded as which event. */
function traceDecision(ctx: ServerContext, span: Span, decision: Decision | Promise<Decision>): Decision | Promise<Decision> {
  const annotate = (d: Decision): Decision => {
    span.setAttributes({
      'opa.decision.defined': d.defined,
      ...(typeof d.result === 'boolean' ? { 'opa.decision.result': d.result } : {}),
      ...(d.decisionId ? { 'opa.decision_id': d.decisionId } : {}),
    });
    for (const b of ctx.engine.bundles) span.setAttribute(`opa.bundle.${b.name}.revision`, b.manifest.revision);
    return d;
  };
  return decision instanceof Promise ? decision.then(annotate) : annotate(decision);
}

/**
 * OPA's metric names for a decision. The entrypoints are compiled with the policy; what is prepared per path is
 * how the set answers it (src/engine/prepared-paths.ts), cached per policy set like OPA's prepared queries: a
 * cache miss reports that preparation as timer_rego_query_compile_ns. timer_rego_external_resolve_ns is the
 * time spent reading base data outside the modules (a path no rule covers) or making the instance's copy of
 * it current for a package's document; reads inside a rule's module are part of the evaluation.
 */
function decisionMetrics(timing: { started: bigint; inputParsed: bigint }, evalStart: bigint, end: bigint, evaluation: Evaluation): Record<string, number> {
  // Members in name order, set one by one: the common case (no resolve, no compile) always gets the same shape,
  // which the answer's and the decision log's writers then read without a lookup by name.
  const metrics: Record<string, number> = { counter_server_query_cache_hit: evaluation.cacheHit === false ? 0 : 1 };
  if (evaluation.resolveNs !== undefined) metrics.timer_rego_external_resolve_ns = evaluation.resolveNs;
  metrics.timer_rego_input_parse_ns = Number(timing.inputParsed - timing.started);
  if (evaluation.prepareNs !== undefined) metrics.timer_rego_query_compile_ns = evaluation.prepareNs;
  metrics.timer_rego_query_eval_ns = Number(end - evalStart);
  metrics.timer_server_handler_ns = Number(end - timing.started);
  return metrics;
}

/** `inputText` is the JSON text of `input` as evaluated, when known. */
export interface DecisionRecord extends InputTextHints {
  path: string[];
  input: unknown;
  evaluated: { defined: boolean; result?: unknown; metrics?: Record<string, number>; ndBuiltinCache?: Record<string, Record<string, unknown>> };
  requestedBy: string;
  request?: IncomingMessage;
  /** OPA's req_id: the number of the request (HTTP or gRPC) the decision answers. */
  reqId?: number;
  /** The decision's span, whose ids the event carries. */
  trace?: TraceContext;
  pip?: EnrichmentReport;
  error?: { code: string; message: string };
  /** When the decision was made, as a process.hrtime.bigint() reading the caller already took; now when absent. */
  at?: bigint;
}

/**
 * The `bundles` field of the events made under one activation, built once for all of them and frozen, so the
 * decision log writes its text once too.
 */
const bundleFields = new WeakMap<readonly Bundle[], DecisionEvent['bundles']>();

function bundlesField(bundles: readonly Bundle[]): DecisionEvent['bundles'] {
  let field = bundleFields.get(bundles);
  if (!field) {
    const built: Record<string, { revision: string }> = {};
    for (const b of bundles) built[b.name] = Object.freeze({ revision: b.manifest.revision });
    field = Object.freeze(built);
    bundleFields.set(bundles, field);
  }
  return field;
}

/**
 * Sends the event to the recorder when one is configured and returns its id; no recorder, no id (as OPA).
 * The id comes back as a promise when the recorder says the answer must wait (sync durability or
 * back-pressure): await it before answering. Otherwise it is a plain string and nothing waits.
 */
export function recordDecision(ctx: ServerContext, decision: DecisionRecord): string | Promise<string> | undefined {
  if (!ctx.onDecision) return undefined;
  // One clock reading dates the event and its id: the timestamp is formatted first, and the id takes its millisecond.
  const tsNs = nowNs(decision.at);
  const timestamp = formatTimestamp(tsNs);
  const decisionId = newDecisionId(timestampMs());
  const { input, evaluated, reqId } = decision;
  // Members are set in EventV1's order, only those that apply: the stored JSON follows the object's key order.
  const event = { labels: ctx.labels, decision_id: decisionId } as DecisionEvent;
  const trace = decision.trace && activeTracing()?.ids(decision.trace);
  if (trace) Object.assign(event, trace);
  event.bundles = bundlesField(ctx.engine.bundles);
  event.path = joinedPath(decision.path);
  if (input !== undefined) event.input = input;
  if (decision.pip) event.pip = decision.pip;
  if (evaluated.defined) event.result = evaluated.result;
  if (decision.error) event.error = decision.error;
  event.requested_by = decision.requestedBy;
  event.timestamp = timestamp;
  if (evaluated.ndBuiltinCache) event.nd_builtin_cache = evaluated.ndBuiltinCache;
  if (evaluated.metrics) event.metrics = evaluated.metrics;
  const requestContext = ctx.logHeaders && decision.request ? requestContextHeaders(decision.request.headersDistinct, ctx.logHeaders) : undefined;
  if (requestContext) event.request_context = requestContext;
  if (reqId !== undefined) event.req_id = reqId;
  const logged = ctx.onDecision(
    event,
    decision.inputText && input !== undefined ? { tsNs, inputText: decision.inputText, inputCredentialFree: decision.inputCredentialFree === true, inputCredentialMembers: decision.inputCredentialMembers, inputValidUtf8: decision.inputValidUtf8 === true } : { tsNs },
  );
  return logged instanceof Promise ? logged.then(() => decisionId) : decisionId;
}

/**
 * The path as the event gives it. Requests mostly ask the path the last one asked: its text is then the last one's,
 * the same string, which the decision log writes as the bytes it wrote last time.
 */
function joinedPath(path: string[]): string {
  let same = path.length === lastPath.length;
  for (let i = 0; same && i < path.length; i++) same = path[i] === lastPath[i];
  if (!same) {
    lastPath = path.slice();
    lastJoined = path.join('/');
  }
  return lastJoined;
}

let lastPath: string[] = [''];
let lastJoined = '';

/**
 * The pipeline as the `Decide` contract of the front ends that hand over a parsed input (Envoy ext_authz gRPC,
 * the HTTP callouts): their decisions are enriched and recorded like the REST API's.
 */
export function decideWith(ctx: ServerContext, requestedBy = ''): Decide {
  return async (path, input, origin) => {
    const decided = decide(ctx, { path: splitPath(path), input, requestedBy, ...(origin ? { origin } : {}) });
    const { defined, result, decisionId } = decided instanceof Promise ? await decided : decided;
    return { ...(defined ? { result } : {}), ...(decisionId ? { decisionId } : {}) };
  };
}

/**
 * For front ends whose request could not even be turned into an input (an Envoy path or body that does not
 * parse): the decision is recorded with what was read and the error, as opa-envoy-plugin logs it.
 */
export function inputErrorRecorder(ctx: ServerContext, requestedBy = '') {
  return (path: string, input: unknown, error: { code: string; message: string }, origin?: DecisionOrigin): string | Promise<string> | undefined => {
    return recordDecision(ctx, { path: splitPath(path), input, evaluated: { defined: false }, requestedBy, error, reqId: origin?.reqId, trace: origin?.trace });
  };
}
