// The comparison operators (==, !=, <, <=, >, >=), answered by the wasm runtime
// (src/wasm/runtime/builtins/compare.ts).
import { arg, fn, t, type BuiltinEntry } from './declarations.js';
import { compareJson } from './json-value.js';

export const comparisonBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'equal',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '==',
    categories: ['comparison'],
    runtime: 'b_equal',
    host: (a: unknown, b: unknown) => compareJson(a, b) === 0,
  },
  {
    name: 'gt',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '>',
    categories: ['comparison'],
    runtime: 'b_gt',
    host: (a: unknown, b: unknown) => compareJson(a, b) > 0,
  },
  {
    name: 'gte',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '>=',
    categories: ['comparison'],
    runtime: 'b_gte',
    host: (a: unknown, b: unknown) => compareJson(a, b) >= 0,
  },
  {
    name: 'lt',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '<',
    categories: ['comparison'],
    runtime: 'b_lt',
    host: (a: unknown, b: unknown) => compareJson(a, b) < 0,
  },
  {
    name: 'lte',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '<=',
    categories: ['comparison'],
    runtime: 'b_lte',
    host: (a: unknown, b: unknown) => compareJson(a, b) <= 0,
  },
  {
    name: 'neq',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '!=',
    categories: ['comparison'],
    runtime: 'b_neq',
    host: (a: unknown, b: unknown) => compareJson(a, b) !== 0,
  },
];
