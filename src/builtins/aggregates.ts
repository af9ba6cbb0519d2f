// count, sum, product, max, min and sort, answered by the wasm runtime (src/wasm/runtime/builtins/aggregates.ts).
import { elements, num } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';
import { compareJson } from './json-value.js';

export const aggregatesBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'count',
    decl: fn([arg('collection', t.anyOf(t.string, t.arrayOf(t.any), t.objectOf(t.any, t.any), t.setOf(t.any)))], arg('n', t.number)),
    categories: ['aggregates'],
    runtime: 'b_count',
    host: (a: unknown) => (typeof a === 'string' ? [...a].length : elements('count', 1, a).length),
  },
  {
    name: 'max',
    decl: fn([arg('collection', t.anyOf(t.arrayOf(t.any), t.setOf(t.any)))], arg('n', t.any)),
    categories: ['aggregates'],
    runtime: 'b_max',
    host: (a: unknown) => {
      const xs = elements('max', 1, a);
      return xs.length === 0 ? undefined : xs.reduce((m, x) => (compareJson(x, m) > 0 ? x : m));
    },
  },
  {
    name: 'min',
    decl: fn([arg('collection', t.anyOf(t.arrayOf(t.any), t.setOf(t.any)))], arg('n', t.any)),
    categories: ['aggregates'],
    runtime: 'b_min',
    host: (a: unknown) => {
      const xs = elements('min', 1, a);
      return xs.length === 0 ? undefined : xs.reduce((m, x) => (compareJson(x, m) < 0 ? x : m));
    },
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
    host: (a: unknown) => elements('sum', 1, a).reduce((s: number, x) => s + num('sum', 1, x), 0),
  },
];
