// regex.globs_match: do two "regex-like globs" (characters, '.', '[...]' sets with ranges, each
// optionally followed by '*' or '+', '\' escaping) match at least one common string? Decided by
// searching the product of the two patterns' automata for a pair of accepting states.
import { BuiltinError } from './args.js';

/** A token: the runes it accepts ('any' for '.') and its repetition flag. */
interface GlobToken {
  accepts: 'any' | Set<string>;
  flag: '' | '*' | '+';
}

function tokenize(builtin: string, pattern: string): GlobToken[] {
  const runes = Array.from(pattern);
  const fail = (i: number, why: string): never => {
    throw new BuiltinError(builtin, `input:${pattern}, pos:${i}, ${why}: the input provided is invalid`);
  };
  /** The rune at i, with whether it was escaped, and the index after it. */
  const next = (i: number): [string, boolean, number] => {
    if (runes[i] === '\\') {
      if (i === runes.length - 1) fail(i, 'input ends with a \\ (escape) character');
      return [runes[i + 1]!, true, i + 2];
    }
    return [runes[i]!, false, i + 1];
  };
  const tokens: GlobToken[] = [];
  for (let i = 0; i < runes.length; ) {
    const [r, escaped, after] = next(i);
    i = after;
    let accepts: GlobToken['accepts'];
    if (!escaped && r === '.') accepts = 'any';
    else if (!escaped && r === ']') fail(i, "set-close ']' with no preceding '['");
    else if (!escaped && (r === '*' || r === '+')) fail(i, `flag '${r}' must be preceded by a non-flag`);
    if (!escaped && r === '[') {
      const set = new Set<string>();
      let prev: string | undefined;
      let complete = false;
      while (i < runes.length) {
        const [c, esc, at] = next(i);
        i = at;
        if (!esc && c === ']') {
          complete = true;
          break;
        }
        if (!esc && c === '-') {
          if (prev === undefined) fail(i, "range character '-' must be preceded by a Unicode character");
          if (i >= runes.length) fail(i, "range character '-' must be followed by a Unicode character");
          const [to, toEsc, toAt] = next(i);
          i = toAt;
          if (!toEsc && (to === ']' || to === '-')) fail(i, "range character '-' cannot be followed by a special symbol");
          if (to.codePointAt(0)! < prev!.codePointAt(0)!) fail(i, `range is out of order: '${to}' comes before '${prev}' in Unicode`);
          for (let cp = prev!.codePointAt(0)!; cp <= to.codePointAt(0)!; cp++) set.add(String.fromCodePoint(cp));
          prev = undefined;
          continue;
        }
        set.add(c);
        prev = c;
      }
      if (!complete) fail(i, 'found [ without matching ]');
      accepts = set;
    }
    accepts ??= new Set([r]);
    let flag: GlobToken['flag'] = '';
    if (runes[i] === '*' || runes[i] === '+') {
      flag = runes[i] as '*' | '+';
      i++;
    }
    tokens.push({ accepts, flag });
  }
  return tokens;
}

function overlap(a: GlobToken['accepts'], b: GlobToken['accepts']): boolean {
  if (a === 'any' || b === 'any') return a === 'any' ? b === 'any' || b.size > 0 : a.size > 0;
  for (const r of a) if (b.has(r)) return true;
  return false;
}

/**
 * NFA over token positions: state i means tokens before i are done. A starred token may be skipped;
 * a token with a flag may loop after consuming.
 */
function closure(tokens: GlobToken[], i: number): number[] {
  const out = [i];
  while (i < tokens.length && tokens[i]!.flag === '*') out.push(++i);
  return out;
}

function moves(tokens: GlobToken[], i: number): Array<{ accepts: GlobToken['accepts']; to: number[] }> {
  if (i >= tokens.length) return [];
  const t = tokens[i]!;
  const to = t.flag === '' ? [i + 1] : [i, i + 1];
  return [{ accepts: t.accepts, to }];
}

export function globsIntersect(builtin: string, a: string, b: string): boolean {
  const ta = tokenize(builtin, a);
  const tb = tokenize(builtin, b);
  const seen = new Set<string>();
  const queue: Array<[number, number]> = [];
  const push = (i: number, j: number) => {
    for (const x of closure(ta, i)) {
      for (const y of closure(tb, j)) {
        const key = `${x},${y}`;
        if (!seen.has(key)) {
          seen.add(key);
          queue.push([x, y]);
        }
      }
    }
  };
  push(0, 0);
  while (queue.length > 0) {
    const [i, j] = queue.shift()!;
    if (i === ta.length && j === tb.length) return true;
    for (const ma of moves(ta, i)) {
      for (const mb of moves(tb, j)) {
        if (!overlap(ma.accepts, mb.accepts)) continue;
        for (const x of ma.to) for (const y of mb.to) push(x, y);
      }
    }
  }
  return false;
}
