// The http adapter's reading of an answer from the services' HTTP client (src/bundle/service.ts): the body as
// JSON, and the client's failures as lookup failures of the kind the PIP report names.

import type { JsonValue } from './adapter.js';
import { PipLookupError } from './errors.js';
import { HttpRequestError } from '../net/http-client.js';

/** A body the client already read under the size limit, parsed as JSON. */
export function parseJsonBody(body: Buffer, what: string): JsonValue {
  try {
    return JSON.parse(body.toString('utf8')) as JsonValue;
  } catch {
    throw new PipLookupError('bad_response', `${what} is not JSON`);
  }
}

/** A failed request as a lookup failure: the network cause (ECONNREFUSED, ...), a timeout, or an oversized body. */
export function lookupFailure(err: unknown, signal: AbortSignal, what: string, limit: number): PipLookupError {
  if (err instanceof PipLookupError) return err;
  if (signal.aborted) return new PipLookupError('timeout', `${what} timed out`);
  if (!(err instanceof HttpRequestError)) return new PipLookupError('unavailable', `${what} failed: ${(err as Error).message}`);
  switch (err.failure) {
    case 'too_large':
      return new PipLookupError('too_large', `response of ${what} is over the ${limit}-byte limit`);
    case 'timeout':
      return new PipLookupError('timeout', `${what} timed out`);
    default:
      return new PipLookupError('unavailable', `${what} failed: ${err.code ?? err.message}`);
  }
}
