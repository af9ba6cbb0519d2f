// is_* and type_name, answered by the wasm runtime (src/wasm/runtime/builtins/types.ts).
import { arg, fn, t, type BuiltinEntry } from './declarations.js';
import { jsonTypeName } from './json-value.js';
import { isRegoSet } from './rego-value.js';

export const typesBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'is_array',
    decl: fn([arg('x', t.any)], arg('result', t.boolean)),
    categories: ['types'],
    runtime: 'b_is_array',
    host: (v: unknown) => Array.isArray(v) && !isRegoSet(v),
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
    host: (v: unknown) => v === null,
  },
  {
    name: 'is_number',
    decl: fn([arg('x', t.any)], arg('result', t.boolean)),
    categories: ['types'],
    runtime: 'b_is_number',
    host: (v: unknown) => typeof v === 'number',
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
    host: (v: unknown) => typeof v === 'string',
  },
  {
    name: 'type_name',
    decl: fn([arg('x', t.any)], arg('type', t.string)),
    categories: ['types'],
    runtime: 'b_type_name',
    host: (v: unknown) => (isRegoSet(v) ? 'set' : jsonTypeName(v)),
  },
];
