// ?instrument=true on the Data and Query APIs: OPA's evaluator-operation figures, measured on the interpreter
// (src/compiler/explain/instrument.ts), which evaluates the request a second time. It runs before the decision
// so that what it cannot follow is refused (400) with nothing decided, and its figures are reported only once
// the compiled policy's answer shows both evaluations agree. The decision's own timers are the ?metrics ones.
import type { ExplainRequest } from '../compiler/explain/index.js';
import { instrumentEvaluation, instrumentedAgrees, type Instrumented } from '../compiler/explain/instrument.js';
import type { ServerContext } from './context.js';
import { ApiError } from './errors.js';
import { onInterpreter } from './explain.js';
import { boolParam } from './respond.js';

/**
 * The interpreter's evaluation of the request when ?instrument=true asks for it; undefined otherwise, or when
 * the policies or the query do not compile (the decision path then reports that error as it always does).
 */
export function instrumented(ctx: ServerContext, query: URLSearchParams, request: Omit<ExplainRequest, 'data'>): Instrumented | undefined {
  if (!boolParam(query, 'instrument')) return undefined;
  return onInterpreter(ctx, 'instrument=true', (files, data, options) => instrumentEvaluation(files, { ...request, data }, options));
}

/** The response's metrics: the decision's timers with the instrumentation's figures, in OPA's (sorted) order. */
export function withInstrumentation(metrics: Record<string, unknown> | undefined, instrumentation: Instrumented, answer: Parameters<typeof instrumentedAgrees>[1]): Record<string, unknown> {
  if (!instrumentedAgrees(instrumentation, answer)) {
    throw new ApiError(500, 'internal_error', 'instrument=true: the instrumented evaluation did not reach the policy\'s answer, so its figures would describe another evaluation');
  }
  const all: Record<string, unknown> = { ...metrics, ...instrumentation.metrics };
  return Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
}
