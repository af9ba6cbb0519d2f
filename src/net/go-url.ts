// Go's net/url parsing and escaping rules (url.Parse, QueryEscape/QueryUnescape, ParseQuery). The uri.* and
// urlquery.* builtins follow them, and so does opa-envoy-plugin's parsed_path/parsed_query. JavaScript's own
// decoders differ: decodeURIComponent throws on malformed UTF-8 and keeps '+', URLSearchParams accepts stray '%'.

export type EscapeMode = 'path' | 'host' | 'userinfo' | 'query' | 'fragment';

export class URLError extends Error {}

function isAlnum(c: string): boolean {
  return /^[A-Za-z0-9]$/.test(c);
}

/** Go's shouldEscape for one ASCII character. */
function shouldEscape(c: string, mode: EscapeMode): boolean {
  if (isAlnum(c)) return false;
  if (mode === 'host' && `!$&'()*+,;=:[]<>"`.includes(c)) return false;
  if ('-_.~'.includes(c)) return false;
  if ('$&+,/:;=?@'.includes(c)) {
    switch (mode) {
      case 'path':
        return c === '?';
      case 'userinfo':
        return c === '@' || c === '/' || c === '?' || c === ':';
      case 'query':
        return true;
      case 'fragment':
        return false;
      default:
        return false;
    }
  }
  if (mode === 'fragment' && '!()*'.includes(c)) return false;
  return true;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: false });

/** Go's url.escape: UTF-8 bytes, upper-case hex, spaces as '+' in query components. */
export function escape(s: string, mode: EscapeMode): string {
  let out = '';
  for (const b of utf8.encode(s)) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && !shouldEscape(c, mode)) out += c;
    else if (c === ' ' && mode === 'query') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

/** Go's url.unescape; throws URLError on a malformed escape or a character not allowed in a host. */
export function unescape(s: string, mode: EscapeMode): string {
  if (mode !== 'host' && !s.includes('%') && !(mode === 'query' && s.includes('+'))) return s;
  const bytes: number[] = [];
  const src = utf8.encode(s);
  for (let i = 0; i < src.length; i++) {
    const c = String.fromCharCode(src[i]!);
    if (c === '%') {
      const h1 = String.fromCharCode(src[i + 1] ?? 0);
      const h2 = String.fromCharCode(src[i + 2] ?? 0);
      if (!isHex(h1) || !isHex(h2)) {
        const bad = new TextDecoder().decode(src.subarray(i, Math.min(i + 3, src.length)));
        throw new URLError(`invalid URL escape "${bad}"`);
      }
      const v = parseInt(h1 + h2, 16);
      // In a host, only non-ASCII bytes may be percent-encoded (RFC 6874 aside).
      if (mode === 'host' && v < 0x80 && `${h1}${h2}` !== '25') throw new URLError(`invalid URL escape "%${h1}${h2}"`);
      bytes.push(v);
      i += 2;
    } else if (c === '+' && mode === 'query') {
      bytes.push(0x20);
    } else {
      if (mode === 'host' && src[i]! < 0x80 && shouldEscape(c, mode)) throw new URLError(`invalid character "${c}" in host name`);
      bytes.push(src[i]!);
    }
  }
  return utf8Strict.decode(new Uint8Array(bytes));
}

export interface GoURL {
  scheme: string;
  opaque: string;
  /** Host with port, brackets kept. */
  host: string;
  path: string;
  rawPath: string;
  rawQuery: string;
  fragment: string;
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:[0-9]*$/.test(port);
}

function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const end = host.lastIndexOf(']');
    if (end < 0) throw new URLError("missing ']' in host");
    const colonPort = host.slice(end + 1);
    if (!validOptionalPort(colonPort)) throw new URLError(`invalid port "${colonPort}" after host`);
  } else {
    const i = host.lastIndexOf(':');
    if (i >= 0) {
      const colonPort = host.slice(i);
      if (!validOptionalPort(colonPort)) throw new URLError(`invalid port "${colonPort}" after host`);
    }
  }
  return unescape(host, 'host');
}

function parseAuthority(authority: string): string {
  const at = authority.lastIndexOf('@');
  if (at >= 0 && !validUserinfo(authority.slice(0, at))) throw new URLError('net/url: invalid userinfo');
  return parseHost(authority.slice(at + 1));
}

/** Go's url.Parse (not the request-URI variant). */
export function parseURL(raw: string): GoURL {
  const u: GoURL = { scheme: '', opaque: '', host: '', path: '', rawPath: '', rawQuery: '', fragment: '' };
  const hash = raw.indexOf('#');
  let rest = raw;
  if (hash >= 0) {
    u.fragment = unescape(raw.slice(hash + 1), 'fragment');
    rest = raw.slice(0, hash);
  }
  if ([...rest].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new URLError('net/url: invalid control character in URL');
  }
  if (rest === '*') {
    u.path = '*';
    return u;
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(rest);
  if (rest.startsWith(':')) throw new URLError('missing protocol scheme');
  if (scheme) {
    u.scheme = scheme[1]!.toLowerCase();
    rest = rest.slice(scheme[0].length);
  }
  if (rest.endsWith('?') && rest.split('?').length === 2) rest = rest.slice(0, -1);
  else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') {
      u.opaque = rest;
      return u;
    }
    const slash = rest.indexOf('/');
    const segment = slash < 0 ? rest : rest.slice(0, slash);
    if (segment.includes(':')) throw new URLError('first path segment in URL cannot contain colon');
  }
  if ((u.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    const after = rest.slice(2);
    const slash = after.indexOf('/');
    const authority = slash < 0 ? after : after.slice(0, slash);
    rest = slash < 0 ? '' : after.slice(slash);
    u.host = parseAuthority(authority);
  }
  u.path = unescape(rest, 'path');
  u.rawPath = escape(u.path, 'path') === rest ? '' : rest;
  return u;
}

/** Host without port and brackets (Go's URL.Hostname). */
export function hostname(host: string): string {
  const [name] = splitHostPort(host);
  return name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
}

/** Port after the host (Go's URL.Port), "" when absent or not numeric. */
export function port(host: string): string {
  return splitHostPort(host)[1];
}

function splitHostPort(host: string): [string, string] {
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && /^[0-9]*$/.test(host.slice(colon + 1)) && (!host.startsWith('[') || host.slice(0, colon).endsWith(']'))) {
    return [host.slice(0, colon), host.slice(colon + 1)];
  }
  return [host, ''];
}

/**
 * The pairs of a query string as Go's url.ParseQuery reads them, in order, and its first error: a pair holding `;`
 * or a malformed escape is left out. (r.URL.Query() in Go's handlers keeps the pairs and drops the error.)
 */
export function queryPairs(query: string): { pairs: [string, string][]; error?: Error } {
  const pairs: [string, string][] = [];
  let error: Error | undefined;
  for (const part of query.split('&')) {
    if (part === '') continue;
    if (part.includes(';')) {
      error ??= new URLError('invalid semicolon separator in query');
      continue;
    }
    const eq = part.indexOf('=');
    try {
      pairs.push([unescape(eq < 0 ? part : part.slice(0, eq), 'query'), unescape(eq < 0 ? '' : part.slice(eq + 1), 'query')]);
    } catch (e) {
      error ??= e as Error;
    }
  }
  return error ? { pairs, error } : { pairs };
}

/** Go's url.ParseQuery: key order kept, every value a list; the first error wins. */
export function parseQuery(query: string): Record<string, string[]> {
  const { pairs, error } = queryPairs(query);
  if (error) throw error;
  const out: Record<string, string[]> = {};
  for (const [key, value] of pairs) (out[key] ??= []).push(value);
  return out;
}
