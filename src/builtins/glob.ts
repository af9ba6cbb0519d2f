// glob.quote_meta: escapes the characters gobwas/glob treats as syntax (`, ! -` are special only
// inside braces and brackets, which are escaped, so they stay as they are).
import { str, type HostBuiltinTable } from './args.js';

export const globBuiltins: HostBuiltinTable = {
  'glob.quote_meta': (v: unknown) => str('glob.quote_meta', 1, v).replace(/[*?\\[\]{}]/g, '\\$&'),
};
