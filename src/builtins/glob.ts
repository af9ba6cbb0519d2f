// glob.match is answered by the wasm runtime (src/wasm/runtime/builtins/glob.ts); glob.quote_meta by the host:
// glob.quote_meta: escapes the characters gobwas/glob treats as syntax (`, ! -` are special only
// inside braces and brackets, which are escaped, so they stay as they are).
import { str } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const globBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'glob.match',
    decl: fn([arg('pattern', t.string), arg('delimiters', t.anyOf(t.null, t.arrayOf(t.string))), arg('match', t.string)], arg('result', t.boolean)),
    runtime: 'b_glob_match',
  },
  {
    name: 'glob.quote_meta',
    decl: fn([arg('pattern', t.string)], arg('output', t.string)),
    host: (v: unknown) => str('glob.quote_meta', 1, v).replace(/[*?\\[\]{}]/g, '\\$&'),
  },
];
