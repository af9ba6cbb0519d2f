// array.*: concat, slice and reverse are answered by the wasm runtime (src/wasm/runtime/builtins/collections.ts);
// array.flatten (also native) unpacks array items one level; other items stay as they are. all and any (deprecated, Rego
// v0): whether every / some element of an array or set is true.
import { arr } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const arrayBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'all',
    decl: fn([t.anyOf(t.arrayOf(t.any), t.setOf(t.any))], t.boolean),
    deprecated: true,
    host: (v: unknown) => arr('all', 1, v).every((x) => x === true),
  },
  {
    name: 'any',
    decl: fn([t.anyOf(t.arrayOf(t.any), t.setOf(t.any))], t.boolean),
    deprecated: true,
    host: (v: unknown) => arr('any', 1, v).some((x) => x === true),
  },
  {
    name: 'array.concat',
    decl: fn([arg('x', t.arrayOf(t.any)), arg('y', t.arrayOf(t.any))], arg('z', t.arrayOf(t.any))),
    runtime: 'b_array_concat',
  },
  {
    name: 'array.flatten',
    decl: fn([arg('arr', t.arrayOf(t.any))], arg('flattened', t.arrayOf(t.any))),
    runtime: 'b_array_flatten',
    host: (v: unknown) => arr('array.flatten', 1, v).flatMap((x) => (Array.isArray(x) ? x : [x])),
  },
  {
    name: 'array.reverse',
    decl: fn([arg('arr', t.arrayOf(t.any))], arg('rev', t.arrayOf(t.any))),
    runtime: 'b_array_reverse',
  },
  {
    name: 'array.slice',
    decl: fn([arg('arr', t.arrayOf(t.any)), arg('start', t.number), arg('stop', t.number)], arg('slice', t.arrayOf(t.any))),
    runtime: 'b_array_slice',
  },
];
