// The registry of host builtins: the builtins a Rego wasm module imports from its host because they are
// not answered inside the module. Each namespace lives in its own file; this file only assembles them.
// Values cross the boundary as JSON (sets arrive as arrays). OPA's wasm target is non-strict: a builtin
// that cannot answer returns undefined rather than throwing (see ./errors.ts).
import { httpBuiltins } from './http.js';

/** A host builtin: JSON values in, a JSON value (or undefined) out. */
export type HostBuiltin = (...args: any[]) => unknown;

export const hostBuiltins: Record<string, HostBuiltin> = {
  ...httpBuiltins,
};
