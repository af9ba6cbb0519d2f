// The builtins the language itself uses: the operators `:=` and `=` and print, which the planner compiles, the
// internal calls behind `x in xs` and template strings, answered by the wasm runtime, and internal.print, which
// print() compiles to and the host answers (print.ts).
import { fn, t, type BuiltinEntry } from './declarations.js';
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
  },
  {
    name: 'internal.member_3',
    decl: fn([t.any, t.any, t.any], t.boolean),
    infix: 'in',
    runtime: 'b_internal_member_3',
  },
  {
    name: 'internal.template_string',
    decl: fn([t.arrayOf(t.any)], t.string),
    runtime: 'b_internal_template_string',
  },
];
