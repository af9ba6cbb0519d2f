// Set operators and functions (`&`, `|`, intersection, union, set_diff), answered by the wasm runtime
// (src/wasm/runtime/builtins/sets.ts).
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const setsBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'and',
    decl: fn([arg('x', t.setOf(t.any)), arg('y', t.setOf(t.any))], arg('z', t.setOf(t.any))),
    infix: '&',
    categories: ['sets'],
    runtime: 'b_and',
  },
  {
    name: 'intersection',
    decl: fn([arg('xs', t.setOf(t.setOf(t.any)))], arg('y', t.setOf(t.any))),
    categories: ['sets'],
    runtime: 'b_intersection',
  },
  {
    name: 'or',
    decl: fn([arg('x', t.setOf(t.any)), arg('y', t.setOf(t.any))], arg('z', t.setOf(t.any))),
    infix: '|',
    categories: ['sets'],
    runtime: 'b_or',
  },
  {
    name: 'set_diff',
    decl: fn([t.setOf(t.any), t.setOf(t.any)], t.setOf(t.any)),
    deprecated: true,
    runtime: 'b_set_diff',
  },
  {
    name: 'union',
    decl: fn([arg('xs', t.setOf(t.setOf(t.any)))], arg('y', t.setOf(t.any))),
    categories: ['sets'],
    runtime: 'b_union',
  },
];
