// One place that turns an evaluation into a decision: the event for the decision log (OPA's EventV1) and
// the decision id, for the REST API and for every other front end that decides through `ServerContext`.
import { randomUUID } from 'node:crypto';
import { formatTimestamp, nowNs, requestContextHeaders } from '../decisionlog/event.js';
import { EvaluationError } from '../engine/program.js';
import type { Decide } from '../engine/engine.js';
import { splitPath } from '../engine/store.js';
import type { EnrichmentReport } from '../pip/index.js';
import type { ServerContext } from './context.js';
import { enrichDecision } from './pip.js';
import { evaluationErrorDetail } from './errors.js';

export interface DecisionRecord {
  path: string[];
  input: unknown;
  evaluated: { defined: boolean; result?: unknown; metrics?: Record<string, number>; ndBuiltinCache?: Record<string, Record<string, unknown>> };
  requestedBy: string;
  /** The HTTP request's headers (Node's headersDistinct), for decision_logs.request_context.http.headers. */
  headers?: Record<string, string[] | undefined>;
  pip?: EnrichmentReport;
  error?: { code: string; message: string };
}

/**
 * Sends the event to the recorder when one is configured and returns its id; no recorder, no id (as OPA).
 * The id comes back as a promise when the recorder says the answer must wait (sync durability or
 * back-pressure): await it before answering. Otherwise it is a plain string and nothing waits.
 */
export function recordDecision(ctx: ServerContext, decision: DecisionRecord): string | Promise<string> | undefined {
  if (!ctx.onDecision) return undefined;
  const decisionId = randomUUID();
  const bundles: Record<string, { revision: string }> = {};
  for (const b of ctx.engine.bundles) bundles[b.name] = { revision: b.manifest.revision };
  const requestContext = ctx.logHeaders && decision.headers ? requestContextHeaders(decision.headers, ctx.logHeaders) : undefined;
  const logged = ctx.onDecision({
    labels: ctx.labels,
    decision_id: decisionId,
    bundles,
    path: decision.path.join('/'),
    ...(decision.input !== undefined ? { input: decision.input } : {}),
    ...(decision.pip ? { pip: decision.pip } : {}),
    ...(decision.evaluated.defined ? { result: decision.evaluated.result } : {}),
    ...(decision.error ? { error: decision.error } : {}),
    requested_by: decision.requestedBy,
    timestamp: formatTimestamp(nowNs()),
    ...(decision.evaluated.ndBuiltinCache ? { nd_builtin_cache: decision.evaluated.ndBuiltinCache } : {}),
    ...(decision.evaluated.metrics ? { metrics: decision.evaluated.metrics } : {}),
    ...(requestContext ? { request_context: requestContext } : {}),
  });
  return logged instanceof Promise ? logged.then(() => decisionId) : decisionId;
}

/**
 * The shared `Decide` contract for front ends other than the REST API (Envoy ext_authz, gateway callouts):
 * the PIP enrichment (when configured), the engine's decision and recording, so those decisions reach the decision
 * log too. A failed evaluation is recorded with its error and then rethrown; so is a PIP failure that fails the
 * decision closed (thrown as a 500 ApiError), while a caller-supplied input.pip is a 400 ApiError.
 */
export function decideWith(ctx: ServerContext, requestedBy = ''): Decide {
  return async (path, input) => {
    const segments = splitPath(path);
    let pip: EnrichmentReport | undefined;
    if (ctx.enricher) {
      const enriched = enrichDecision(ctx, ctx.enricher, segments, input, undefined, requestedBy);
      ({ input, report: pip } = enriched instanceof Promise ? await enriched : enriched);
    }
    try {
      const { ndBuiltinCache, ...decision } = await ctx.engine.decide(path, input);
      const evaluated = { ...('result' in decision ? { defined: true, result: decision.result } : { defined: false }), ...(ndBuiltinCache ? { ndBuiltinCache } : {}) };
      const recorded = recordDecision(ctx, { path: segments, input, evaluated, requestedBy, pip });
      const decisionId = recorded instanceof Promise ? await recorded : recorded;
      return decisionId ? { ...decision, decisionId } : decision;
    } catch (err) {
      if (err instanceof EvaluationError) {
        // Failed decisions answer without a decision id, so nothing waits for their event.
        void recordDecision(ctx, { path: segments, input, evaluated: { defined: false }, requestedBy, pip, error: evaluationErrorDetail(err) });
      }
      throw err;
    }
  };
}

/**
 * For front ends whose request could not even be turned into an input (an Envoy path or body that does not
 * parse): the decision is recorded with what was read and the error, as opa-envoy-plugin logs it.
 */
export function inputErrorRecorder(ctx: ServerContext, requestedBy = '') {
  return (path: string, input: unknown, error: { code: string; message: string }): string | undefined => {
    const recorded = recordDecision(ctx, { path: splitPath(path), input, evaluated: { defined: false }, requestedBy, error });
    // The id is only a header on an error answer; in sync mode the event is committed moments later.
    return recorded instanceof Promise ? undefined : recorded;
  };
}
