// array.flatten: unpacks array items one level; other items stay as they are.
import { arr, type HostBuiltinTable } from './args.js';

export const arrayBuiltins: HostBuiltinTable = {
  'array.flatten': (v: unknown) => arr('array.flatten', 1, v).flatMap((x) => (Array.isArray(x) ? x : [x])),
};
