// count, sum, product, max, min and sort, answered by the wasm runtime (src/wasm/runtime/builtins/aggregates.ts),
// in compiled modules and, through src/wasm/runtime-calls.ts, in the partial evaluator alike.
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const aggregatesBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'count',
    decl: fn([arg('collection', t.anyOf(t.string, t.arrayOf(t.any), t.objectOf(t.any, t.any), t.setOf(t.any)))], arg('n', t.number)),
    categories: ['aggregates'],
    runtime: 'b_count',
  },
  {
    name: 'max',
    decl: fn([arg('collection', t.anyOf(t.arrayOf(t.any), t.setOf(t.any)))], arg('n', t.any)),
    categories: ['aggregates'],
    runtime: 'b_max',
  },
  {
    name: 'min',
    decl: fn([arg('collection', t.anyOf(t.arrayOf(t.any), t.setOf(t.any)))], arg('n', t.any)),
    categories: ['aggregates'],
    runtime: 'b_min',
  },
  {
    name: 'product',
    decl: fn([arg('collection', t.anyOf(t.arrayOf(t.number), t.setOf(t.number)))], arg('n', t.number)),
    categories: ['aggregates'],
    runtime: 'b_product',
  },
  {
    name: 'sort',
    decl: fn([arg('collection', t.anyOf(t.arrayOf(t.any), t.setOf(t.any)))], arg('n', t.arrayOf(t.any))),
    categories: ['aggregates'],
    runtime: 'b_sort',
  },
  {
    name: 'sum',
    decl: fn([arg('collection', t.anyOf(t.arrayOf(t.number), t.setOf(t.number)))], arg('n', t.number)),
    categories: ['aggregates'],
    runtime: 'b_sum',
  },
];
