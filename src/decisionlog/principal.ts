// Who a decision was about, stored in an indexed column so audits can ask "every decision for alice".
// Sources are tried in order; the first that yields a non-empty string wins.
import type { DecisionEvent } from './event.js';
import { parseFieldPath, valueAt } from './fieldpath.js';

export type PrincipalSource =
  /** A string or number at this input path, e.g. "input.subject.id". */
  | { path: string }
  /**
   * A JWT (optionally "Bearer "-prefixed) at this input path whose `sub` claim names the principal. The
   * token is decoded WITHOUT verifying its signature: this only labels the log row for searching, it
   * grants nothing. The policy is what must verify tokens.
   */
  | { jwt: string };

export const defaultPrincipalSources: PrincipalSource[] = [
  { path: 'input.subject.id' },
  { path: 'input.user.id' },
  { path: 'input.user' },
  { path: 'input.principal' },
  { jwt: 'input.attributes.request.http.headers.authorization' },
];

export type PrincipalExtractor = (event: DecisionEvent) => string | undefined;

export function principalExtractor(sources: readonly PrincipalSource[] = defaultPrincipalSources): PrincipalExtractor {
  const readers = sources.map((source) => {
    if ('jwt' in source) {
      const at = parseFieldPath(source.jwt, 'input');
      return (input: unknown) => jwtSubject(valueAt(input, at));
    }
    const at = parseFieldPath(source.path, 'input');
    return (input: unknown) => {
      const value = valueAt(input, at);
      if (typeof value === 'string' && value !== '') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      return undefined;
    };
  });
  return (event) => {
    if (event.input === undefined) return undefined;
    for (const read of readers) {
      const principal = read(event.input);
      if (principal !== undefined) return principal;
    }
    return undefined;
  };
}

// Clients send the same token with many requests; remembering recent answers saves decoding each time.
const recentSubjects = new Map<string, string | undefined>();
const recentLimit = 1024;

/** The `sub` claim of an unverified compact JWS, or undefined when the value is not one. */
export function jwtSubject(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (recentSubjects.has(value)) return recentSubjects.get(value);
  const subject = decodeSubject(value);
  if (recentSubjects.size >= recentLimit) recentSubjects.clear();
  recentSubjects.set(value, subject);
  return subject;
}

function decodeSubject(value: string): string | undefined {
  const token = value.replace(/^bearer\s+/i, '').trim();
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (claims !== null && typeof claims === 'object' && 'sub' in claims) {
      const sub = (claims as { sub: unknown }).sub;
      if (typeof sub === 'string' && sub !== '') return sub;
    }
  } catch {
    // not JSON: not a JWT, so no principal from this source
  }
  return undefined;
}
