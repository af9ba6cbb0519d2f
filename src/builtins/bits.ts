// bits.*: bitwise operations on integers, answered by the wasm runtime (src/wasm/runtime/builtins/bits.ts).
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const bitsBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'bits.and',
    decl: fn([arg('x', t.number), arg('y', t.number)], arg('z', t.number)),
    runtime: 'b_bits_and',
  },
  {
    name: 'bits.lsh',
    decl: fn([arg('x', t.number), arg('s', t.number)], arg('z', t.number)),
    runtime: 'b_bits_lsh',
  },
  {
    name: 'bits.negate',
    decl: fn([arg('x', t.number)], arg('z', t.number)),
    runtime: 'b_bits_negate',
  },
  {
    name: 'bits.or',
    decl: fn([arg('x', t.number), arg('y', t.number)], arg('z', t.number)),
    runtime: 'b_bits_or',
  },
  {
    name: 'bits.rsh',
    decl: fn([arg('x', t.number), arg('s', t.number)], arg('z', t.number)),
    runtime: 'b_bits_rsh',
  },
  {
    name: 'bits.xor',
    decl: fn([arg('x', t.number), arg('y', t.number)], arg('z', t.number)),
    runtime: 'b_bits_xor',
  },
];
