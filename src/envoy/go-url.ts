// Go's net/url decoding rules, which decide what opa-envoy-plugin puts into parsed_path and
// parsed_query (and which inputs it rejects). JavaScript's decodeURIComponent differs: it throws on
// malformed UTF-8, keeps '+', and URLSearchParams accepts stray '%' and ';'.

export class InputParseError extends Error {
  readonly code = 'request_parse_error';
}

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

// url.PathUnescape (plus=false) and url.QueryUnescape (plus=true).
export function goUnescape(s: string, plus: boolean): string {
  if (!s.includes('%') && !(plus && s.includes('+'))) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === 0x25) {
      if (i + 2 >= raw.length || !isHex(raw[i + 1]) || !isHex(raw[i + 2])) {
        throw new InputParseError(`invalid URL escape ${JSON.stringify(raw.subarray(i, i + 3).toString('utf8'))}`);
      }
      bytes.push(parseInt(String.fromCharCode(raw[i + 1], raw[i + 2]), 16));
      i += 2;
    } else if (plus && c === 0x2b) {
      bytes.push(0x20);
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// url.ParseQuery: '&'-separated pairs, ';' rejected, every value kept in order. Go keeps parsing
// after a bad pair and reports the first error; the plugin then fails the whole request.
export function goParseQuery(query: string): Record<string, string[]> {
  const values: Record<string, string[]> = {};
  let firstError: InputParseError | undefined;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) {
      firstError ??= new InputParseError('invalid semicolon separator in query');
      continue;
    }
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      const key = goUnescape(rawKey, true);
      const value = goUnescape(rawValue, true);
      (values[key] ??= []).push(value);
    } catch (err) {
      firstError ??= err as InputParseError;
    }
  }
  if (firstError) throw firstError;
  return values;
}
