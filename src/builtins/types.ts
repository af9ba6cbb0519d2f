// is_* and type_name, answered by the wasm runtime (src/wasm/runtime/builtins/types.ts).
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const typesBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'is_array',
    decl: fn([arg('x', t.any)], arg('result', t.boolean)),
    categories: ['types'],
    runtime: 'b_is_array',
  },
  {
    name: 'is_boolean',
    decl: fn([arg('x', t.any)], arg('result', t.boolean)),
    categories: ['types'],
    runtime: 'b_is_boolean',
  },
  {
    name: 'is_null',
    decl: fn([arg('x', t.any)], arg('result', t.boolean)),
    categories: ['types'],
    runtime: 'b_is_null',
  },
  {
    name: 'is_number',
    decl: fn([arg('x', t.any)], arg('result', t.boolean)),
    categories: ['types'],
    runtime: 'b_is_number',
  },
  {
    name: 'is_object',
    decl: fn([arg('x', t.any)], arg('result', t.boolean)),
    categories: ['types'],
    runtime: 'b_is_object',
  },
  {
    name: 'is_set',
    decl: fn([arg('x', t.any)], arg('result', t.boolean)),
    categories: ['types'],
    runtime: 'b_is_set',
  },
  {
    name: 'is_string',
    decl: fn([arg('x', t.any)], arg('result', t.boolean)),
    categories: ['types'],
    runtime: 'b_is_string',
  },
  {
    name: 'type_name',
    decl: fn([arg('x', t.any)], arg('type', t.string)),
    categories: ['types'],
    runtime: 'b_type_name',
  },
];
