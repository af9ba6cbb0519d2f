// The PIP enrichment step in the server's decision path (issue 7): every decision whose path has adapters
// configured is evaluated on the enriched input, and the decision log sees that input and the PIP report. Also
// the adapters' life cycle and health as plugins. Only used when the config has a `pip` section, so servers
// without one do no extra work per decision.
import { PipDenyError, PipInputError, type Enricher, type EnrichmentReport, type EnrichmentResult } from '../pip/index.js';
import type { DecisionOrigin } from '../engine/engine.js';
import type { PluginStatus, ServerContext } from './context.js';
import { recordDecision } from './decisions.js';
import { internalError, invalidParameter } from './errors.js';
import type { Plugin } from './plugins.js';
import { writeJson } from '../json/writer.js';

export interface EnrichedDecision {
  /** What the policy evaluates: the caller's input with `pip` added (or the caller's input, untouched). */
  input: unknown;
  /** The JSON text of `input`, when the caller passed the text of its input; undefined otherwise. */
  inputText: Uint8Array | undefined;
  report: EnrichmentReport;
}

const encoder = new TextEncoder();
const closingBrace = 0x7d;

/**
 * Enriches one decision's input. Answers directly when no lookup has to wait (no adapter for the path, or cache
 * hits), with a promise otherwise. A caller-supplied `input.pip` is a 400; an `on_error: deny` adapter that fails
 * makes the decision fail closed: it is recorded with its error and the PIP report, then answered with a 500.
 */
export function enrichDecision(
  ctx: ServerContext,
  enricher: Enricher,
  path: string[],
  input: unknown,
  inputText: Uint8Array | undefined,
  requestedBy: string,
  origin: DecisionOrigin,
): EnrichedDecision | Promise<EnrichedDecision> {
  const refuse = (err: unknown): never => {
    throw refusal(ctx, path, input, requestedBy, origin, err);
  };
  let result: EnrichmentResult | Promise<EnrichmentResult>;
  try {
    result = enricher.enrich(path.join('/'), input);
  } catch (err) {
    return refuse(err);
  }
  if (result instanceof Promise) return result.then((r) => enriched(input, inputText, r), refuse);
  return enriched(input, inputText, result);
}

function enriched(callerInput: unknown, callerText: Uint8Array | undefined, result: EnrichmentResult): EnrichedDecision {
  if (result.input === callerInput || callerText === undefined) return { input: result.input, inputText: callerText, report: result.report };
  return { input: result.input, inputText: enrichedText(callerInput as Record<string, unknown>, callerText, result.input as { pip: unknown }), report: result.report };
}

/**
 * The JSON text of the enriched input. When the caller's object has no `pip` of its own, `"pip": ...` is written
 * before its closing brace, so the caller's bytes reach the policy as sent (integers beyond 2^53 stay exact, as
 * without PIP) and only the PIP results are serialised. A stripped caller `pip` means serialising it all.
 */
function enrichedText(callerInput: Record<string, unknown>, callerText: Uint8Array, enrichedInput: { pip: unknown }): Uint8Array {
  if (Object.prototype.hasOwnProperty.call(callerInput, 'pip')) return encoder.encode(writeJson(enrichedInput));
  let close = callerText.length - 1; // the object's closing brace: the last byte that is not JSON whitespace
  while (close > 0 && callerText[close] !== closingBrace) close--;
  const separator = Object.keys(callerInput).length === 0 ? '' : ',';
  const tail = encoder.encode(`${separator}"pip":${writeJson(enrichedInput.pip)}}`);
  const text = new Uint8Array(close + tail.length);
  text.set(callerText.subarray(0, close));
  text.set(tail, close);
  return text;
}

/** The API error for a failed enrichment; a fail-closed decision is recorded first, as a failed evaluation is. */
function refusal(ctx: ServerContext, path: string[], input: unknown, requestedBy: string, origin: DecisionOrigin, err: unknown): unknown {
  if (err instanceof PipInputError) return invalidParameter(err.message);
  if (!(err instanceof PipDenyError)) return err;
  recordDecision(ctx, { path, input, evaluated: { defined: false }, requestedBy, reqId: origin.reqId, trace: origin.trace, pip: err.report, error: { code: err.code, message: err.message } });
  // The adapter's own words stay in the decision log: they can name internal hosts and ports.
  return internalError(`policy information point "${err.adapter}" failed (${failureKind(err.reason)}); the decision fails closed (on_error: deny)`);
}

/** Reasons read "<kind>: <detail>" (src/pip/report.ts), e.g. "timeout: timed out after 200 ms". */
function failureKind(reason: string): string {
  return reason.slice(0, Math.max(0, reason.indexOf(':'))) || 'failed';
}

/**
 * One plugin per adapter, `pip.<adapter>`, so /health?plugins turns unhealthy while a PIP is down and an operator
 * can leave out a non-critical one with exclude-plugin. Stopping any of them closes every adapter, once.
 */
export function pipPlugins(enricher: Enricher): Plugin[] {
  let closing: Promise<void> | undefined;
  return Object.keys(enricher.status()).map((adapter) => ({
    name: `pip.${adapter}`,
    kind: 'other',
    start: async () => undefined,
    stop: () => (closing ??= enricher.close()),
    status: (): PluginStatus => {
      const s = enricher.status()[adapter];
      if (s.failing) return { state: 'ERROR', message: `last lookup failed: ${s.last_error?.reason ?? 'unknown error'}` };
      if (s.problem) return { state: 'WARN', message: s.problem };
      return { state: 'OK' };
    },
  }));
}
