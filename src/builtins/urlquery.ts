// urlquery.* with Go's QueryEscape/QueryUnescape/ParseQuery/Values.Encode rules.
import { BuiltinError, obj, str } from './args.js';
import { escape, parseQuery, unescape } from '../net/go-url.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

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

export const urlqueryBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'urlquery.decode',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['encoding'],
    host: (v: unknown) => unescape(str('urlquery.decode', 1, v), 'query'),
  },
  {
    name: 'urlquery.decode_object',
    decl: fn([arg('x', t.string)], arg('object', t.objectOf(t.string, t.arrayOf(t.string)))),
    categories: ['encoding'],
    host: (v: unknown) => parseQuery(str('urlquery.decode_object', 1, v)),
  },
  {
    name: 'urlquery.encode',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['encoding'],
    host: (v: unknown) => escape(str('urlquery.encode', 1, v), 'query'),
  },
  {
    name: 'urlquery.encode_object',
    decl: fn([arg('object', t.objectOf(t.string, t.anyOf(t.string, t.arrayOf(t.string), t.setOf(t.string))))], arg('y', t.string)),
    categories: ['encoding'],
    host: encodeObject,
  },
];
