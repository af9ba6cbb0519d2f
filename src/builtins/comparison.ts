// The comparison operators (==, !=, <, <=, >, >=), answered by the wasm runtime
// (src/wasm/runtime/builtins/compare.ts).
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const comparisonBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'equal',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '==',
    categories: ['comparison'],
    runtime: 'b_equal',
  },
  {
    name: 'gt',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '>',
    categories: ['comparison'],
    runtime: 'b_gt',
  },
  {
    name: 'gte',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '>=',
    categories: ['comparison'],
    runtime: 'b_gte',
  },
  {
    name: 'lt',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '<',
    categories: ['comparison'],
    runtime: 'b_lt',
  },
  {
    name: 'lte',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '<=',
    categories: ['comparison'],
    runtime: 'b_lte',
  },
  {
    name: 'neq',
    decl: fn([arg('x', t.any), arg('y', t.any)], arg('result', t.boolean)),
    infix: '!=',
    categories: ['comparison'],
    runtime: 'b_neq',
  },
];
