// The deprecated v0 cast_* builtins (Rego v0 policies still call them): type assertions that pass the
// value through, plus cast_array/cast_set conversions between arrays and sets.
import { BuiltinError, type HostBuiltinTable } from './args.js';
import { asSet, jsonTypeName } from './json-value.js';

function assertType(name: string, want: string) {
  return (v: unknown) => {
    if (jsonTypeName(v) !== want) throw new BuiltinError(name, `operand 1 must be ${want} but got ${jsonTypeName(v)}`);
    return v;
  };
}

export const castBuiltins: HostBuiltinTable = {
  cast_array: (v: unknown) => {
    if (!Array.isArray(v)) throw new BuiltinError('cast_array', `operand 1 must be one of {array, set} but got ${jsonTypeName(v)}`);
    // A set arrives as a RegoSet; a plain copy goes back as an array, in the set's order as OPA gives it.
    return [...v];
  },
  cast_set: (v: unknown) => {
    if (!Array.isArray(v)) throw new BuiltinError('cast_set', `operand 1 must be one of {array, set} but got ${jsonTypeName(v)}`);
    return asSet(v);
  },
  cast_null: assertType('cast_null', 'null'),
  cast_boolean: assertType('cast_boolean', 'boolean'),
  cast_string: assertType('cast_string', 'string'),
  cast_object: assertType('cast_object', 'object'),
};
