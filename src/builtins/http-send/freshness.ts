// How long a response may be served from the inter-query cache under `cache: true` (RFC 9111 freshness,
// as OPA reads it): no-store / no-cache: not at all; max-age wins over Expires; Expires counts from Date.
import type { IncomingMessage } from 'node:http';

export function cacheLifetimeMs(headers: IncomingMessage['headers'], now = Date.now()): number {
  const cacheControl = String(headers['cache-control'] ?? '').toLowerCase();
  const directives = new Map(
    cacheControl
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [k, v] = d.split('=', 2);
        return [k!.trim(), v?.trim().replace(/^"|"$/g, '')] as const;
      }),
  );
  if (directives.has('no-store') || directives.has('no-cache')) return 0;
  const maxAge = directives.get('max-age');
  if (maxAge !== undefined) {
    const seconds = Number(maxAge);
    const age = Number(headers.age ?? 0);
    return Number.isFinite(seconds) ? Math.max(0, (seconds - (Number.isFinite(age) ? age : 0)) * 1000) : 0;
  }
  if (headers.expires !== undefined) {
    const expires = Date.parse(String(headers.expires));
    const date = headers.date === undefined ? now : Date.parse(String(headers.date));
    return Number.isFinite(expires) && Number.isFinite(date) ? Math.max(0, expires - date) : 0;
  }
  return 0;
}
