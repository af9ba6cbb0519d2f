// hex.*: byte encodings of a string's UTF-8 bytes.
import { BuiltinError, str } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

function decodeHex(v: unknown): string {
  const s = str('hex.decode', 1, v);
  const bad = /[^0-9a-fA-F]/.exec(s);
  if (bad) throw new BuiltinError('hex.decode', `encoding/hex: invalid byte: U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${bad[0]}'`);
  if (s.length % 2 !== 0) throw new BuiltinError('hex.decode', 'encoding/hex: odd length hex string');
  const bytes = Buffer.from(s, 'hex');
  return new TextDecoder().decode(bytes);
}

export const hexBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'hex.decode',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['encoding'],
    host: decodeHex,
  },
  {
    name: 'hex.encode',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['encoding'],
    host: (v: unknown) => Buffer.from(str('hex.encode', 1, v), 'utf8').toString('hex'),
  },
];
