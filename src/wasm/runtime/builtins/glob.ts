// glob.match(pattern, delimiters, subject) with the gobwas/glob syntax OPA uses: `*` (no
// delimiter), `**` (anything), `?`, `[...]`/`[!...]` classes with ranges, `{a,b}` alternatives and
// `\` escapes. Matching backtracks over code points.
import { T_STRING, T_ARRAY, T_NULL, tagOf, mkBool, arrLen, arrGet, strLen, strPtr } from '../value';

// Delimiters for the current match: an array value of strings, or 0 for the default ".";
// `noDelims` when the caller passed null.
let delims: i32 = 0;
let noDelims: bool = false;

function decodeAt(p: i32, n: i32, i: i32): i32 {
  const c = <i32>load<u8>(p + i);
  if (c < 0x80 || i + 1 >= n) return c;
  if (c < 0xe0) return ((c & 0x1f) << 6) | (load<u8>(p + i + 1) & 0x3f);
  if (c < 0xf0 || i + 3 >= n) return ((c & 0x0f) << 12) | ((load<u8>(p + i + 1) & 0x3f) << 6) | (load<u8>(p + i + 2) & 0x3f);
  return ((c & 0x07) << 18) | ((load<u8>(p + i + 1) & 0x3f) << 12) | ((load<u8>(p + i + 2) & 0x3f) << 6) | (load<u8>(p + i + 3) & 0x3f);
}

@inline function width(p: i32, i: i32): i32 {
  const c = load<u8>(p + i);
  return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

function isDelim(r: i32): bool {
  if (noDelims) return false;
  if (delims == 0) return r == 0x2e;
  const n = arrLen(delims);
  for (let i = 0; i < n; i++) {
    const d = arrGet(delims, i);
    if (strLen(d) > 0 && decodeAt(strPtr(d), strLen(d), 0) == r) return true;
  }
  return false;
}

/** End (exclusive) of the group starting at pattern index i with opener `open`, or -1. */
function groupEnd(pp: i32, pe: i32, i: i32, open: u8, close: u8): i32 {
  let depth = 0;
  while (i < pe) {
    const c = load<u8>(pp + i);
    if (c == 0x5c) { i += 2; continue; }
    if (c == open) depth++;
    else if (c == close) { depth--; if (depth == 0) return i + 1; }
    i++;
  }
  return -1;
}

function classMatches(pp: i32, a: i32, b: i32, r: i32): bool {
  // [a..b) is the inside of the brackets
  let neg = false;
  if (a < b && load<u8>(pp + a) == 0x21) { neg = true; a++; }
  let hit = false;
  let i = a;
  while (i < b) {
    let lo = decodeAt(pp, b, i);
    i += width(pp, i);
    if (lo == 0x5c && i < b) { lo = decodeAt(pp, b, i); i += width(pp, i); }
    let hi = lo;
    if (i + 1 < b && load<u8>(pp + i) == 0x2d) {
      i++;
      hi = decodeAt(pp, b, i);
      i += width(pp, i);
    }
    if (r >= lo && r <= hi) hit = true;
  }
  return hit != neg;
}

/** Matches pattern [pi, pe) followed by the continuation pattern [ci, ce) against subject [si, se). */
function matchAt(pp: i32, pi: i32, pe: i32, sp: i32, si: i32, se: i32, cp: i32, ci: i32, ce: i32): bool {
  while (true) {
    if (pi >= pe) {
      if (ci < ce) return matchAt(cp, ci, ce, sp, si, se, 0, 0, 0);
      return si == se;
    }
    const c = load<u8>(pp + pi);
    if (c == 0x2a) { // * or **
      const sup = pi + 1 < pe && load<u8>(pp + pi + 1) == 0x2a;
      const next = pi + (sup ? 2 : 1);
      let s = si;
      while (true) {
        if (matchAt(pp, next, pe, sp, s, se, cp, ci, ce)) return true;
        if (s >= se) return false;
        const r = decodeAt(sp, se, s);
        if (!sup && isDelim(r)) return false;
        s += width(sp, s);
      }
    }
    if (c == 0x7b) { // {alt,alt}
      const end = groupEnd(pp, pe, pi, 0x7b, 0x7d);
      if (end < 0) return false;
      // The rest after the group becomes the continuation of each alternative.
      let start = pi + 1;
      let i = start;
      let depth = 0;
      while (i < end) {
        const d = load<u8>(pp + i);
        if (d == 0x5c) { i += 2; continue; }
        if (d == 0x7b || d == 0x5b) depth++;
        else if (d == 0x7d || d == 0x5d) {
          if (depth == 0) break;
          depth--;
        }
        if (d == 0x2c && depth == 0) {
          if (matchAlt(pp, start, i, end, pe, sp, si, se, cp, ci, ce)) return true;
          start = i + 1;
        }
        i++;
      }
      return matchAlt(pp, start, end - 1, end, pe, sp, si, se, cp, ci, ce);
    }
    if (si >= se) return false;
    const r = decodeAt(sp, se, si);
    if (c == 0x3f) { // ?
      if (isDelim(r)) return false;
    } else if (c == 0x5b) { // [class]
      const end = groupEnd(pp, pe, pi, 0x5b, 0x5d);
      if (end < 0) return false;
      if (!classMatches(pp, pi + 1, end - 1, r)) return false;
      si += width(sp, si);
      pi = end;
      continue;
    } else {
      let pr: i32;
      if (c == 0x5c && pi + 1 < pe) { pi++; pr = decodeAt(pp, pe, pi); }
      else pr = decodeAt(pp, pe, pi);
      if (pr != r) return false;
    }
    pi += width(pp, pi);
    si += width(sp, si);
  }
  return false;
}

/** One alternative [a, b) then the pattern after the group [rest, pe), then the outer continuation. */
function matchAlt(pp: i32, a: i32, b: i32, rest: i32, pe: i32, sp: i32, si: i32, se: i32, cp: i32, ci: i32, ce: i32): bool {
  if (ce > ci) {
    // Nested continuation: fold the rest of this pattern and the outer continuation by matching
    // every split point of the subject (rare: alternatives inside alternatives).
    for (let s = si; s <= se; s++) {
      if (matchAt(pp, a, b, sp, si, s, 0, 0, 0) && matchAt(pp, rest, pe, sp, s, se, cp, ci, ce)) return true;
    }
    return false;
  }
  return matchAt(pp, a, b, sp, si, se, pp, rest, pe);
}

export function b_glob_match(pattern: i32, delimiters: i32, subject: i32): i32 {
  if (tagOf(pattern) != T_STRING || tagOf(subject) != T_STRING) return 0;
  const t = tagOf(delimiters);
  noDelims = t == T_NULL;
  if (t == T_ARRAY) {
    for (let i = 0; i < arrLen(delimiters); i++) if (tagOf(arrGet(delimiters, i)) != T_STRING) return 0;
    delims = arrLen(delimiters) == 0 ? 0 : delimiters;
  } else if (t != T_NULL) return 0;
  const ok = matchAt(strPtr(pattern), 0, strLen(pattern), strPtr(subject), 0, strLen(subject), 0, 0, 0);
  delims = 0;
  return mkBool(ok);
}
