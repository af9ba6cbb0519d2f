// strings.* host builtins with Go's strings-package semantics (rune-based indexes, empty-separator rules).
import { BuiltinError, int, str, strings, type HostBuiltinTable } from './args.js';

/** Go's strings.Split: an empty separator splits into runes. */
export function goSplit(s: string, sep: string): string[] {
  return sep === '' ? Array.from(s) : s.split(sep);
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

export const stringsBuiltins: HostBuiltinTable = {
  'strings.any_prefix_match': (search: unknown, base: unknown) => anyAffixMatch('strings.any_prefix_match', search, base, false),
  'strings.any_suffix_match': (search: unknown, base: unknown) => anyAffixMatch('strings.any_suffix_match', search, base, true),
  'strings.split_n': splitN,
  'strings.count': (s: unknown, sub: unknown) => goCount(str('strings.count', 1, s), str('strings.count', 2, sub)),
  indexof_n: indexOfN,
};
