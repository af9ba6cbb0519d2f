// uri.parse and uri.is_valid, following Go's url.Parse.
import { hostname, parseURL, port } from '../net/go-url.js';
import { str } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

function parse(v: unknown): Record<string, string> {
  const u = parseURL(str('uri.parse', 1, v));
  const out: Record<string, string> = {};
  if (u.scheme) out.scheme = u.scheme;
  const host = hostname(u.host);
  if (host) out.hostname = host;
  const p = port(u.host);
  if (p) out.port = p;
  if (u.path) {
    out.path = u.path;
    // raw_path is always present with path so policies can normalise paths themselves.
    out.raw_path = u.rawPath || u.path;
  }
  if (u.rawQuery) out.raw_query = u.rawQuery;
  if (u.fragment) out.fragment = u.fragment;
  return out;
}

function isValid(v: unknown): boolean {
  // Empty strings are valid relative references, but OPA rejects them as surprising in policies.
  if (typeof v !== 'string' || v === '') return false;
  try {
    parseURL(v);
    return true;
  } catch {
    return false;
  }
}

export const uriBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'uri.is_valid',
    decl: fn([arg('uri', t.string)], arg('result', t.boolean)),
    host: isValid,
  },
  {
    name: 'uri.parse',
    decl: fn([arg('uri', t.string)], arg('output', t.objectOf(t.string, t.string))),
    host: parse,
  },
];
