// The deprecated v0 cast_* builtins (Rego v0 policies still call them): type assertions that pass the
// value through, plus cast_array/cast_set conversions between arrays and sets.
import { BuiltinError } from './args.js';
import { asSet, jsonTypeName } from './json-value.js';
import { fn, t, type BuiltinEntry } from './declarations.js';

function assertType(name: string, want: string) {
  return (v: unknown) => {
    if (jsonTypeName(v) !== want) throw new BuiltinError(name, `operand 1 must be ${want} but got ${jsonTypeName(v)}`);
    return v;
  };
}

export const castBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'cast_array',
    decl: fn([t.any], t.arrayOf(t.any)),
    deprecated: true,
    host: (v: unknown) => {
      if (!Array.isArray(v)) throw new BuiltinError('cast_array', `operand 1 must be one of {array, set} but got ${jsonTypeName(v)}`);
      // A set arrives as a RegoSet; a plain copy goes back as an array, in the set's order as OPA gives it.
      return [...v];
    },
  },
  {
    name: 'cast_boolean',
    decl: fn([t.any], t.boolean),
    deprecated: true,
    host: assertType('cast_boolean', 'boolean'),
  },
  {
    name: 'cast_null',
    decl: fn([t.any], t.null),
    deprecated: true,
    host: assertType('cast_null', 'null'),
  },
  {
    name: 'cast_object',
    decl: fn([t.any], t.objectOf(t.any, t.any)),
    deprecated: true,
    host: assertType('cast_object', 'object'),
  },
  {
    name: 'cast_set',
    decl: fn([t.any], t.setOf(t.any)),
    deprecated: true,
    host: (v: unknown) => {
      if (!Array.isArray(v)) throw new BuiltinError('cast_set', `operand 1 must be one of {array, set} but got ${jsonTypeName(v)}`);
      return asSet(v);
    },
  },
  {
    name: 'cast_string',
    decl: fn([t.any], t.string),
    deprecated: true,
    host: assertType('cast_string', 'string'),
  },
];
