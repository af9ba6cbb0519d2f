// Errors the enrichment layer hands to its callers. Each carries a code the server maps to a response in one place.

import type { EnrichmentReport } from './report.js';

/** The pip config is invalid: raised at start-up / reload, never on the request path. */
export class PipConfigError extends Error {
  readonly code = 'pip_config_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'PipConfigError';
  }
}

/** The caller supplied `input.pip`, which only the enrichment step may write. The server answers 400. */
export class PipInputError extends Error {
  readonly code = 'invalid_parameter';
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = 'PipInputError';
  }
}

/**
 * An adapter configured with `on_error: deny` failed: the decision fails closed. `reason` names the adapter and
 * what went wrong; `report` is the enrichment report to put in the decision log.
 */
export class PipDenyError extends Error {
  readonly code = 'pip_lookup_failed';
  constructor(
    readonly adapter: string,
    readonly reason: string,
    readonly report: EnrichmentReport,
  ) {
    super(`policy information point "${adapter}" failed: ${reason}`);
    this.name = 'PipDenyError';
  }
}

/** An adapter's own failure, with a short machine-readable kind for metrics and the report. */
export class PipLookupError extends Error {
  constructor(
    readonly kind: 'timeout' | 'unavailable' | 'bad_response' | 'too_large' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'PipLookupError';
  }
}

/** Describe any thrown value in one line for the report; aborts by our timeout read as timeouts. */
export function describeLookupError(err: unknown, signal?: AbortSignal): { kind: string; message: string } {
  if (err instanceof PipLookupError) return { kind: err.kind, message: err.message };
  if (signal?.aborted) return { kind: 'timeout', message: 'timed out' };
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'failed', message };
}
