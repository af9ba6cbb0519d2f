// The builtins the language itself uses: the operators `:=` and `=` and print, which the planner compiles, the
// internal calls behind `x in xs` and template strings, answered by the wasm runtime, and internal.print, which
// print() compiles to and the host answers (print.ts).
import { elements, obj } from './args.js';
import { fn, t, type BuiltinEntry } from './declarations.js';
import { compareJson } from './json-value.js';
import { isRegoSet } from './rego-value.js';
import { printHost } from './print.js';

export const languageBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'assign',
    decl: fn([t.any, t.any], t.boolean),
    infix: ':=',
    planner: true,
  },
  {
    name: 'eq',
    decl: fn([t.any, t.any], t.boolean),
    infix: '=',
    planner: true,
  },
  {
    name: 'internal.print',
    decl: fn([t.arrayOf(t.setOf(t.any))]),
    host: printHost,
  },
  {
    name: 'print',
    decl: fn([], undefined, t.any),
    planner: true,
  },
  {
    name: 'internal.member_2',
    decl: fn([t.any, t.any], t.boolean),
    infix: 'in',
    runtime: 'b_internal_member_2',
    host: (x: unknown, xs: unknown) => elements('internal.member_2', 2, xs).some((y) => compareJson(x, y) === 0),
  },
  {
    name: 'internal.member_3',
    decl: fn([t.any, t.any, t.any], t.boolean),
    infix: 'in',
    runtime: 'b_internal_member_3',
    host: (k: unknown, v: unknown, xs: unknown) => {
      if (Array.isArray(xs) && !isRegoSet(xs)) return typeof k === 'number' && compareJson(xs[k], v) === 0;
      const o = obj('internal.member_3', 3, xs);
      return typeof k === 'string' && k in o && compareJson(o[k], v) === 0;
    },
  },
  {
    name: 'internal.template_string',
    decl: fn([t.arrayOf(t.any)], t.string),
    runtime: 'b_internal_template_string',
  },
];
