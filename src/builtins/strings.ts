// The string builtins. concat, contains, indexof, split, trim*, ... are answered by the wasm runtime
// (src/wasm/runtime/builtins/strings.ts); strings.* and indexof_n here on the host, with Go's strings-package
// semantics (rune-based indexes, empty-separator rules).
import { BuiltinError, elements, int, str, strings } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';
import { LOWER_RANGES, UPPER_RANGES } from './casemap-table.js';

/** Go's strings.Split: an empty separator splits into runes. */
export function goSplit(s: string, sep: string): string[] {
  return sep === '' ? Array.from(s) : s.split(sep);
}

/** The code point c maps to under a (lo, hi, stride, delta) range table (casemap-table.ts), c itself if none. */
function caseMapped(c: number, table: readonly number[]): number {
  let a = 0;
  let b = table.length / 4;
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (table[m * 4] <= c) a = m;
    else b = m;
  }
  const [lo, hi, stride, delta] = table.slice(a * 4, a * 4 + 4);
  return c < lo || c > hi || (c - lo) % stride !== 0 ? c : c + delta;
}

/**
 * Go's strings.ToLower/ToUpper: simple per-code-point case mapping, unlike JavaScript's toLowerCase and
 * toUpperCase, which apply Unicode's special casing (final sigma, İ, ß to SS, ...).
 */
function goMapCase(s: string, table: readonly number[]): string {
  let out = '';
  for (const ch of s) out += String.fromCodePoint(caseMapped(ch.codePointAt(0)!, table));
  return out;
}

/** Go's strings.Count: non-overlapping matches; an empty substring counts rune boundaries. */
function goCount(s: string, sub: string): number {
  if (sub === '') return Array.from(s).length + 1;
  let n = 0;
  for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

function anyAffixMatch(name: string, search: unknown, base: unknown, suffix: boolean): boolean {
  const haystack = strings(name, 1, search);
  const affixes = strings(name, 2, base);
  return haystack.some((s) => affixes.some((a) => (suffix ? s.endsWith(a) : s.startsWith(a))));
}

function splitN(s: unknown, delimiter: unknown, n: unknown): string[] {
  const name = 'strings.split_n';
  const text = str(name, 1, s);
  const delim = str(name, 2, delimiter);
  const count = int(name, 3, n);
  const parts = goSplit(text, delim);
  if (count >= 0) {
    // Go's SplitN(text, delim, n+1) then the first n parts: the unsplit remainder is dropped.
    return parts.slice(0, count);
  }
  return parts.slice(Math.max(parts.length + count, 0));
}

/** Rune offsets of every (overlapping) occurrence. */
function indexOfN(base: unknown, search: unknown): number[] {
  const name = 'indexof_n';
  const runes = Array.from(str(name, 1, base));
  const needle = Array.from(str(name, 2, search));
  if (needle.length === 0) throw new BuiltinError(name, 'empty search character');
  const found: number[] = [];
  for (let i = 0; i + needle.length <= runes.length; i++) {
    if (needle.every((r, j) => runes[i + j] === r)) found.push(i);
  }
  return found;
}

export const stringsBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'concat',
    decl: fn([arg('delimiter', t.string), arg('collection', t.anyOf(t.arrayOf(t.string), t.setOf(t.string)))], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_concat',
    host: (sep: unknown, xs: unknown) => elements('concat', 2, xs).map((x) => str('concat', 2, x)).join(str('concat', 1, sep)),
  },
  {
    name: 'contains',
    decl: fn([arg('haystack', t.string), arg('needle', t.string)], arg('result', t.boolean)),
    categories: ['strings'],
    runtime: 'b_contains',
    host: (s: unknown, p: unknown) => str('contains', 1, s).includes(str('contains', 2, p)),
  },
  {
    name: 'endswith',
    decl: fn([arg('search', t.string), arg('base', t.string)], arg('result', t.boolean)),
    categories: ['strings'],
    runtime: 'b_endswith',
    host: (s: unknown, p: unknown) => str('endswith', 1, s).endsWith(str('endswith', 2, p)),
  },
  {
    name: 'format_int',
    decl: fn([arg('number', t.number), arg('base', t.number)], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_format_int',
  },
  {
    name: 'indexof',
    decl: fn([arg('haystack', t.string), arg('needle', t.string)], arg('output', t.number)),
    categories: ['strings'],
    runtime: 'b_indexof',
    host: (s: unknown, p: unknown) => {
      const hay = str('indexof', 1, s);
      const at = hay.indexOf(str('indexof', 2, p));
      return at < 0 ? -1 : [...hay.slice(0, at)].length;
    },
  },
  {
    name: 'indexof_n',
    decl: fn([arg('haystack', t.string), arg('needle', t.string)], arg('output', t.arrayOf(t.number))),
    categories: ['strings'],
    host: indexOfN,
  },
  {
    name: 'lower',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['strings'],
    runtime: 'b_lower',
    host: (s: unknown) => goMapCase(str('lower', 1, s), LOWER_RANGES),
  },
  {
    name: 'replace',
    decl: fn([arg('x', t.string), arg('old', t.string), arg('new', t.string)], arg('y', t.string)),
    categories: ['strings'],
    runtime: 'b_replace',
  },
  {
    name: 'split',
    decl: fn([arg('x', t.string), arg('delimiter', t.string)], arg('ys', t.arrayOf(t.string))),
    categories: ['strings'],
    runtime: 'b_split',
    host: (s: unknown, sep: unknown) => str('split', 1, s).split(str('split', 2, sep)),
  },
  {
    name: 'startswith',
    decl: fn([arg('search', t.string), arg('base', t.string)], arg('result', t.boolean)),
    categories: ['strings'],
    runtime: 'b_startswith',
    host: (s: unknown, p: unknown) => str('startswith', 1, s).startsWith(str('startswith', 2, p)),
  },
  {
    name: 'strings.any_prefix_match',
    decl: fn([arg('search', t.anyOf(t.string, t.arrayOf(t.string), t.setOf(t.string))), arg('base', t.anyOf(t.string, t.arrayOf(t.string), t.setOf(t.string)))], arg('result', t.boolean)),
    categories: ['strings'],
    host: (search: unknown, base: unknown) => anyAffixMatch('strings.any_prefix_match', search, base, false),
  },
  {
    name: 'strings.any_suffix_match',
    decl: fn([arg('search', t.anyOf(t.string, t.arrayOf(t.string), t.setOf(t.string))), arg('base', t.anyOf(t.string, t.arrayOf(t.string), t.setOf(t.string)))], arg('result', t.boolean)),
    categories: ['strings'],
    host: (search: unknown, base: unknown) => anyAffixMatch('strings.any_suffix_match', search, base, true),
  },
  {
    name: 'strings.count',
    decl: fn([arg('search', t.string), arg('substring', t.string)], arg('output', t.number)),
    categories: ['strings'],
    host: (s: unknown, sub: unknown) => goCount(str('strings.count', 1, s), str('strings.count', 2, sub)),
  },
  {
    name: 'strings.replace_n',
    decl: fn([arg('patterns', t.objectOf(t.string, t.string)), arg('value', t.string)], arg('output', t.string)),
    runtime: 'b_strings_replace_n',
  },
  {
    name: 'strings.reverse',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['strings'],
    runtime: 'b_strings_reverse',
  },
  {
    name: 'strings.split_n',
    decl: fn([arg('x', t.string), arg('delimiter', t.string), arg('n', t.number)], arg('ys', t.arrayOf(t.string))),
    categories: ['strings'],
    host: splitN,
  },
  {
    name: 'substring',
    decl: fn([arg('value', t.string), arg('offset', t.number), arg('length', t.number)], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_substring',
  },
  {
    name: 'trim',
    decl: fn([arg('value', t.string), arg('cutset', t.string)], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_trim',
  },
  {
    name: 'trim_left',
    decl: fn([arg('value', t.string), arg('cutset', t.string)], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_trim_left',
  },
  {
    name: 'trim_prefix',
    decl: fn([arg('value', t.string), arg('prefix', t.string)], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_trim_prefix',
  },
  {
    name: 'trim_right',
    decl: fn([arg('value', t.string), arg('cutset', t.string)], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_trim_right',
  },
  {
    name: 'trim_space',
    decl: fn([arg('value', t.string)], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_trim_space',
    host: (s: unknown) => str('trim_space', 1, s).trim(),
  },
  {
    name: 'trim_suffix',
    decl: fn([arg('value', t.string), arg('suffix', t.string)], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_trim_suffix',
  },
  {
    name: 'upper',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    categories: ['strings'],
    runtime: 'b_upper',
    host: (s: unknown) => goMapCase(str('upper', 1, s), UPPER_RANGES),
  },
];
