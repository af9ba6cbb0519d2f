// array.flatten: unpacks array items one level; other items stay as they are. all and any (deprecated, Rego
// v0): whether every / some element of an array or set is true.
import { arr, type HostBuiltinTable } from './args.js';

export const arrayBuiltins: HostBuiltinTable = {
  'array.flatten': (v: unknown) => arr('array.flatten', 1, v).flatMap((x) => (Array.isArray(x) ? x : [x])),
  all: (v: unknown) => arr('all', 1, v).every((x) => x === true),
  any: (v: unknown) => arr('any', 1, v).some((x) => x === true),
};
