// Query strings read as Go's net/url reads them (OPA's handlers call r.URL.Query()): pairs are split on `&`
// only, and a pair holding `;` or a malformed %-escape is left out, so `?q=a;b` has no `q` at all there
// (OPA then answers "missing parameter 'q'"), where URLSearchParams would keep it.
import { queryPairs } from '../net/go-url.js';

export function goQueryParams(raw: string): URLSearchParams {
  return new URLSearchParams(queryPairs(raw).pairs);
}
