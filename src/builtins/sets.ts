// Set operators and functions (`&`, `|`, intersection, union, set_diff), answered by the wasm runtime
// (src/wasm/runtime/builtins/sets.ts).
import { elements } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';
import { asSet, compareJson } from './json-value.js';
import { regoSet } from './rego-value.js';

export const setsBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'and',
    decl: fn([arg('x', t.setOf(t.any)), arg('y', t.setOf(t.any))], arg('z', t.setOf(t.any))),
    infix: '&',
    categories: ['sets'],
    runtime: 'b_and',
    host: (a: unknown, b: unknown) => asSet(elements('and', 1, a).filter((x) => elements('and', 2, b).some((y) => compareJson(x, y) === 0))),
  },
  {
    name: 'intersection',
    decl: fn([arg('xs', t.setOf(t.setOf(t.any)))], arg('y', t.setOf(t.any))),
    categories: ['sets'],
    runtime: 'b_intersection',
    host: (xs: unknown) => {
      const sets = elements('intersection', 1, xs).map((x) => elements('intersection', 1, x));
      return sets.length === 0 ? regoSet([]) : asSet(sets[0]!.filter((x) => sets.every((s) => s.some((y) => compareJson(x, y) === 0))));
    },
  },
  {
    name: 'or',
    decl: fn([arg('x', t.setOf(t.any)), arg('y', t.setOf(t.any))], arg('z', t.setOf(t.any))),
    infix: '|',
    categories: ['sets'],
    runtime: 'b_or',
    host: (a: unknown, b: unknown) => asSet([...elements('or', 1, a), ...elements('or', 2, b)]),
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
    host: (xs: unknown) => asSet(elements('union', 1, xs).flatMap((x) => elements('union', 1, x))),
  },
];
