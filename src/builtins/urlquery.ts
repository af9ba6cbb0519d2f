// urlquery.* with Go's QueryEscape/QueryUnescape/ParseQuery/Values.Encode rules.
import { BuiltinError, obj, str, type HostBuiltinTable } from './args.js';
import { escape, parseQuery, unescape } from '../net/go-url.js';

function encodeObject(v: unknown): string {
  const name = 'urlquery.encode_object';
  const params = obj(name, 1, v);
  const pairs: string[] = [];
  // url.Values.Encode sorts by key and keeps each key's values in order.
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
    if (!values || values.some((x) => typeof x !== 'string')) {
      throw new BuiltinError(name, 'operand 1 values must be string, array[string], or set[string]');
    }
    for (const x of values as string[]) pairs.push(`${escape(key, 'query')}=${escape(x, 'query')}`);
  }
  return pairs.join('&');
}

export const urlqueryBuiltins: HostBuiltinTable = {
  'urlquery.encode': (v: unknown) => escape(str('urlquery.encode', 1, v), 'query'),
  'urlquery.decode': (v: unknown) => unescape(str('urlquery.decode', 1, v), 'query'),
  'urlquery.encode_object': encodeObject,
  'urlquery.decode_object': (v: unknown) => parseQuery(str('urlquery.decode_object', 1, v)),
};
