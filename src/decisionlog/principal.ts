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
  // The defaults, which most servers use, are read by a function of their own (defaultPrincipal).
  if (JSON.stringify(sources) === JSON.stringify(defaultPrincipalSources)) return defaultPrincipal;
  const readers = sources.map((source) => {
    if ('jwt' in source) {
      const at = parseFieldPath(source.jwt, 'input');
      return (input: unknown) => jwtSubject(valueAt(input, at));
    }
    const at = parseFieldPath(source.path, 'input');
    return (input: unknown) => named(valueAt(input, at));
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

/** A path source's principal: a non-empty string, or a finite number as text. */
function named(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

type Members = Record<string, unknown>;

/**
 * The extractor of defaultPrincipalSources, each path read member by member by its name written out, as valueAt reads
 * it (own members of objects; no path of them has a digit segment, so arrays have none of them): a read by a key held
 * in a variable goes through V8's generic lookup for every object of every event, where a read by name is answered
 * by the site's cache of the inputs' few shapes.
 */
function defaultPrincipal(event: DecisionEvent): string | undefined {
  const input = objectOf(event.input);
  if (input === undefined) return undefined;
  const subject = objectOf(own(input, input.subject, 'subject'));
  const user = own(input, input.user, 'user');
  const userObject = objectOf(user);
  return (
    named(own(subject, subject?.id, 'id')) ??
    named(own(userObject, userObject?.id, 'id')) ??
    named(user) ??
    named(own(input, input.principal, 'principal')) ??
    jwtSubject(envoyAuthorization(input))
  );
}

/** input.attributes.request.http.headers.authorization. */
function envoyAuthorization(input: Members): unknown {
  const attributes = objectOf(own(input, input.attributes, 'attributes'));
  const request = objectOf(own(attributes, attributes?.request, 'request'));
  const http = objectOf(own(request, request?.http, 'http'));
  const headers = objectOf(own(http, http?.headers, 'headers'));
  return own(headers, headers?.authorization, 'authorization');
}

/** `value`, read from `holder` by the name `key`, when it is holder's own member, as valueAt reads; else undefined. */
function own(holder: Members | undefined, value: unknown, key: string): unknown {
  return value !== undefined && Object.prototype.hasOwnProperty.call(holder, key) ? value : undefined;
}

/** An object other than an array (valueAt reads no named member of an array), else undefined. */
function objectOf(value: unknown): Members | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Members) : undefined;
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
