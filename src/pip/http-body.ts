// Reading an HTTP response body with a hard size limit, for the http adapter's lookups and its OAuth2 token requests.

import type { JsonValue } from './adapter.js';
import { PipLookupError } from './errors.js';

/** Reads at most `limit` bytes; a bigger body (declared or streamed) fails as too_large without buffering it. */
export async function readBody(res: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await res.body?.cancel();
    throw new PipLookupError('too_large', `${what} declares ${declared} bytes, over the ${limit}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw new PipLookupError('too_large', `${what} is over the ${limit}-byte limit`);
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks);
}

/** readBody, parsed as JSON. */
export async function readJsonBody(res: Response, limit: number, what: string): Promise<JsonValue> {
  const text = (await readBody(res, limit, what)).toString('utf8');
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new PipLookupError('bad_response', `${what} is not JSON`);
  }
}

/** Turns fetch's generic "fetch failed" into the network cause (ECONNREFUSED, ...), or a timeout when aborted. */
export function fetchFailure(err: unknown, signal: AbortSignal, what: string): PipLookupError {
  if (err instanceof PipLookupError) return err;
  if (signal.aborted) return new PipLookupError('timeout', `${what} timed out`);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error).message;
  return new PipLookupError('unavailable', `${what} failed: ${detail}`);
}
