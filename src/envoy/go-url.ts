// opa-envoy-plugin decodes parsed_path and parsed_query with Go's net/url; a malformed escape fails the request
// as a request_parse_error.
import { parseQuery, unescape, URLError } from '../net/go-url.js';

export class InputParseError extends Error {
  readonly code = 'request_parse_error';
}

function asInputError<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof URLError) throw new InputParseError(err.message);
    throw err;
  }
}

/** url.PathUnescape (plus=false) and url.QueryUnescape (plus=true). */
export function goUnescape(s: string, plus: boolean): string {
  return asInputError(() => unescape(s, plus ? 'query' : 'path'));
}

/** url.ParseQuery: '&'-separated pairs, ';' rejected, every value kept in order; the first error wins. */
export function goParseQuery(query: string): Record<string, string[]> {
  return asInputError(() => parseQuery(query));
}
