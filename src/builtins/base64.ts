// base64.* and base64url.*: answered by the wasm runtime (src/wasm/runtime/builtins/bits.ts);
// base64url.encode_no_pad also on the host, for modules compiled elsewhere.
import { str } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const base64Builtins: readonly BuiltinEntry[] = [
  {
    name: 'base64.decode',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['encoding'],
    runtime: 'b_base64_decode',
  },
  {
    name: 'base64.encode',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['encoding'],
    runtime: 'b_base64_encode',
  },
  {
    name: 'base64.is_valid',
    decl: fn([arg('x', t.string)], arg('result', t.boolean)),
    categories: ['encoding'],
    runtime: 'b_base64_is_valid',
  },
  {
    name: 'base64url.decode',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['encoding'],
    runtime: 'b_base64url_decode',
  },
  {
    name: 'base64url.encode',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['encoding'],
    runtime: 'b_base64url_encode',
  },
  {
    name: 'base64url.encode_no_pad',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['encoding'],
    runtime: 'b_base64url_encode_no_pad',
    host: (v: unknown) => Buffer.from(str('base64url.encode_no_pad', 1, v), 'utf8').toString('base64url'),
  },
];
