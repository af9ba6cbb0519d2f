// String builtins over UTF-8 bytes; positions and lengths count code points as OPA (Go runes) do.
import { beyondFloat64 } from '../bigfloat';
import {
  T_NULL, T_BOOL, T_NUMBER, T_STRING, T_ARRAY, T_SET, tagOf, mkString, mkInt, mkBool, mkArray, arrAppend,
  arrLen, arrGet, colLen, colKey, strLen, strPtr, boolOf, N_INT, numKind, numInt,
} from '../value';
import { alloc, heapRelease } from '../heap';
import { LOWER_RANGES, UPPER_RANGES } from '../../../builtins/casemap-table';
import { fault, typeFault, FAULT_NUMBER_SYNTAX, WANT_NUMBER, WANT_STRING, WANT_SET_OR_ARRAY, WANT_TO_NUMBER } from '../faults';
import { ensureSorted } from '../collection';
import { parseNumber } from '../number';
import { runeCount } from '../ops';
import { templateString, writeUtf8 } from '../json';

@inline function isStr(v: i32): bool { return tagOf(v) == T_STRING; }

/** The first of the operands (0: absent) that is not a string, as a type fault. */
function notStrings(a: i32, b: i32, c: i32): i32 {
  if (!isStr(a)) return typeFault(1, WANT_STRING);
  if (b != 0 && !isStr(b)) return typeFault(2, WANT_STRING);
  return typeFault(3, WANT_STRING);
}

function find(hp: i32, hn: i32, np: i32, nn: i32, from: i32): i32 {
  if (nn == 0) return from;
  for (let i = from; i + nn <= hn; i++) {
    if (load<u8>(hp + i) == load<u8>(np) && memory.compare(hp + i, np, nn) == 0) return i;
  }
  return -1;
}

/** Byte length of the UTF-8 sequence starting with byte c. */
@inline function runeLen(c: u32): i32 {
  return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/** Byte offset of rune index r in [p, p+n), or n if past the end. */
function runeOffset(p: i32, n: i32, r: i32): i32 {
  let off = 0;
  while (r > 0 && off < n) { off += runeLen(load<u8>(p + off)); r--; }
  return off < n ? off : n;
}

export function b_concat(delim: i32, coll: i32): i32 {
  if (!isStr(delim)) return typeFault(1, WANT_STRING);
  const t = tagOf(coll);
  if (t != T_ARRAY && t != T_SET) return typeFault(2, WANT_SET_OR_ARRAY);
  if (t == T_SET) ensureSorted(coll);
  const n = t == T_ARRAY ? arrLen(coll) : colLen(coll);
  const dl = strLen(delim);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = t == T_ARRAY ? arrGet(coll, i) : colKey(coll, i);
    if (!isStr(s)) return 0;
    total += strLen(s) + (i > 0 ? dl : 0);
  }
  const out = alloc(total);
  let o = out;
  for (let i = 0; i < n; i++) {
    const s = t == T_ARRAY ? arrGet(coll, i) : colKey(coll, i);
    if (i > 0) { memory.copy(o, strPtr(delim), dl); o += dl; }
    memory.copy(o, strPtr(s), strLen(s));
    o += strLen(s);
  }
  return mkString(out, total);
}

export function b_contains(s: i32, sub: i32): i32 {
  if (!isStr(s) || !isStr(sub)) return notStrings(s, sub, 0);
  return mkBool(find(strPtr(s), strLen(s), strPtr(sub), strLen(sub), 0) >= 0);
}

export function b_startswith(s: i32, p: i32): i32 {
  if (!isStr(s) || !isStr(p)) return notStrings(s, p, 0);
  const n = strLen(p);
  return mkBool(n <= strLen(s) && memory.compare(strPtr(s), strPtr(p), n) == 0);
}

export function b_endswith(s: i32, p: i32): i32 {
  if (!isStr(s) || !isStr(p)) return notStrings(s, p, 0);
  const n = strLen(p), m = strLen(s);
  return mkBool(n <= m && memory.compare(strPtr(s) + m - n, strPtr(p), n) == 0);
}

export function b_indexof(s: i32, sub: i32): i32 {
  if (!isStr(s) || !isStr(sub)) return notStrings(s, sub, 0);
  const i = find(strPtr(s), strLen(s), strPtr(sub), strLen(sub), 0);
  return mkInt(i < 0 ? -1 : runeCount(strPtr(s), i));
}

export function b_substring(s: i32, start: i32, length: i32): i32 {
  if (!isStr(s)) return typeFault(1, WANT_STRING);
  if (tagOf(start) != T_NUMBER) return typeFault(2, WANT_NUMBER);
  if (tagOf(length) != T_NUMBER) return typeFault(3, WANT_NUMBER);
  const st = <i32>numInt(start), ln = <i32>numInt(length);
  if (numKind(start) != N_INT || numKind(length) != N_INT || st < 0) return 0;
  const p = strPtr(s), n = strLen(s);
  const a = runeOffset(p, n, st);
  const b = ln < 0 ? n : runeOffset(p + a, n - a, ln) + a;
  return mkString(p + a, b - a);
}

/** The rune c maps to under a (lo, hi, stride, delta) range table (src/builtins/casemap-table.ts), c itself if none. */
function caseMapped(c: i32, table: Array<i32>): i32 {
  let a = 0, b = table.length >> 2;
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (unchecked(table[m << 2]) <= c) a = m; else b = m;
  }
  const r = a << 2;
  const lo = unchecked(table[r]);
  if (c < lo || c > unchecked(table[r + 1]) || (c - lo) % unchecked(table[r + 2]) != 0) return c;
  return c + unchecked(table[r + 3]);
}

/** Go's strings.ToLower/ToUpper: per-rune simple case mapping, ASCII bytes mapped inline. */
function mapCase(s: i32, upper: bool): i32 {
  if (!isStr(s)) return typeFault(1, WANT_STRING);
  const n = strLen(s), p = strPtr(s);
  const table = upper ? UPPER_RANGES : LOWER_RANGES;
  // No rune's mapping is more than twice its UTF-8 length (the table's generator checks it).
  const out = alloc(n << 1);
  let i = 0, o = 0;
  while (i < n) {
    let c = <i32>load<u8>(p + i);
    if (c < 0x80) {
      if (upper && c >= 0x61 && c <= 0x7a) c -= 32;
      else if (!upper && c >= 0x41 && c <= 0x5a) c += 32;
      store<u8>(out + o, c);
      i++; o++;
      continue;
    }
    const r = decode(p + i, n - i);
    const l = lastLen;
    const m = caseMapped(r, table);
    if (m == r) memory.copy(out + o, p + i, l);
    o += m == r ? l : writeUtf8(out + o, m);
    i += l;
  }
  heapRelease(out + o);
  return mkString(out, o);
}

export function b_lower(s: i32): i32 { return mapCase(s, false); }
export function b_upper(s: i32): i32 { return mapCase(s, true); }

/** Decodes the rune at p (n bytes available); the rune length is left in lastLen. */
let lastLen: i32 = 1;
function decode(p: i32, n: i32): i32 {
  const c = <i32>load<u8>(p);
  const l = runeLen(c);
  lastLen = l > n ? 1 : l;
  if (l == 1 || l > n) return c;
  if (l == 2) return ((c & 0x1f) << 6) | (load<u8>(p + 1) & 0x3f);
  if (l == 3) return ((c & 0x0f) << 12) | ((load<u8>(p + 1) & 0x3f) << 6) | (load<u8>(p + 2) & 0x3f);
  return ((c & 0x07) << 18) | ((load<u8>(p + 1) & 0x3f) << 12) | ((load<u8>(p + 2) & 0x3f) << 6) | (load<u8>(p + 3) & 0x3f);
}

function inCutset(r: i32, cut: i32): bool {
  const p = strPtr(cut), n = strLen(cut);
  let i = 0;
  while (i < n) {
    if (decode(p + i, n - i) == r) return true;
    i += lastLen;
  }
  return false;
}

/** Byte offset of the last rune start before end. */
function prevRune(p: i32, end: i32): i32 {
  let i = end - 1;
  while (i > 0 && (load<u8>(p + i) & 0xc0) == 0x80) i--;
  return i;
}

function trimWith(s: i32, cut: i32, left: bool, right: bool): i32 {
  if (!isStr(s) || !isStr(cut)) return notStrings(s, cut, 0);
  const p = strPtr(s);
  let a = 0, b = strLen(s);
  if (left) while (a < b) {
    const r = decode(p + a, b - a);
    if (!inCutset(r, cut)) break;
    a += lastLen;
  }
  if (right) while (b > a) {
    const q = prevRune(p, b);
    if (q < a) break;
    if (!inCutset(decode(p + q, b - q), cut)) break;
    b = q;
  }
  return mkString(p + a, b - a);
}

export function b_trim(s: i32, c: i32): i32 { return trimWith(s, c, true, true); }
export function b_trim_left(s: i32, c: i32): i32 { return trimWith(s, c, true, false); }
export function b_trim_right(s: i32, c: i32): i32 { return trimWith(s, c, false, true); }

@inline function isSpace(r: i32): bool {
  return r == 0x20 || (r >= 0x09 && r <= 0x0d) || r == 0x85 || r == 0xa0 || r == 0x1680 ||
    (r >= 0x2000 && r <= 0x200a) || r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000;
}

export function b_trim_space(s: i32): i32 {
  if (!isStr(s)) return typeFault(1, WANT_STRING);
  const p = strPtr(s);
  let a = 0, b = strLen(s);
  while (a < b) {
    const r = decode(p + a, b - a);
    if (!isSpace(r)) break;
    a += lastLen;
  }
  while (b > a) {
    const q = prevRune(p, b);
    if (!isSpace(decode(p + q, b - q))) break;
    b = q;
  }
  return mkString(p + a, b - a);
}

export function b_trim_prefix(s: i32, pre: i32): i32 {
  if (!isStr(s) || !isStr(pre)) return notStrings(s, pre, 0);
  const n = strLen(pre);
  if (n <= strLen(s) && memory.compare(strPtr(s), strPtr(pre), n) == 0) return mkString(strPtr(s) + n, strLen(s) - n);
  return s;
}

export function b_trim_suffix(s: i32, suf: i32): i32 {
  if (!isStr(s) || !isStr(suf)) return notStrings(s, suf, 0);
  const n = strLen(suf), m = strLen(s);
  if (n <= m && memory.compare(strPtr(s) + m - n, strPtr(suf), n) == 0) return mkString(strPtr(s), m - n);
  return s;
}

export function b_split(s: i32, d: i32): i32 {
  if (!isStr(s) || !isStr(d)) return notStrings(s, d, 0);
  const p = strPtr(s), n = strLen(s), dp = strPtr(d), dn = strLen(d);
  const r = mkArray(0);
  if (dn == 0) {
    let i = 0;
    while (i < n) {
      const l = runeLen(load<u8>(p + i));
      arrAppend(r, mkString(p + i, l));
      i += l;
    }
    return r;
  }
  let start = 0;
  while (true) {
    const i = find(p, n, dp, dn, start);
    if (i < 0) break;
    arrAppend(r, mkString(p + start, i - start));
    start = i + dn;
  }
  arrAppend(r, mkString(p + start, n - start));
  return r;
}

function replaceAll(s: i32, old: i32, nw: i32, limit: i32): i32 {
  const p = strPtr(s), n = strLen(s), op = strPtr(old), on = strLen(old), np = strPtr(nw), nn = strLen(nw);
  // Upper bound: every position replaced (an empty `old` matches between every byte).
  const cap = on == 0 ? n + (n + 1) * nn : n + (n / on + 1) * nn;
  const out = alloc(cap);
  let o = 0, i = 0, count = 0;
  if (on == 0) {
    while (true) {
      if (limit < 0 || count < limit) { memory.copy(out + o, np, nn); o += nn; count++; }
      if (i >= n) break;
      const l = runeLen(load<u8>(p + i));
      memory.copy(out + o, p + i, l);
      o += l;
      i += l;
    }
    return mkString(out, o);
  }
  while (i < n) {
    const j = (limit < 0 || count < limit) ? find(p, n, op, on, i) : -1;
    if (j < 0) break;
    memory.copy(out + o, p + i, j - i); o += j - i;
    memory.copy(out + o, np, nn); o += nn;
    i = j + on;
    count++;
  }
  memory.copy(out + o, p + i, n - i);
  o += n - i;
  return mkString(out, o);
}

export function b_replace(s: i32, old: i32, nw: i32): i32 {
  if (!isStr(s) || !isStr(old) || !isStr(nw)) return notStrings(s, old, nw);
  return replaceAll(s, old, nw, -1);
}

export function b_strings_reverse(s: i32): i32 {
  if (!isStr(s)) return typeFault(1, WANT_STRING);
  const p = strPtr(s), n = strLen(s);
  const out = alloc(n);
  let i = 0;
  while (i < n) {
    const l = runeLen(load<u8>(p + i));
    const ll = i + l > n ? n - i : l;
    memory.copy(out + n - i - ll, p + i, ll);
    i += ll;
  }
  return mkString(out, n);
}

export function b_to_number(v: i32): i32 {
  switch (tagOf(v)) {
    case T_NUMBER: return v;
    case T_NULL: return mkInt(0);
    case T_BOOL: return mkInt(boolOf(v) ? 1 : 0);
    case T_STRING: {
      // OPA reads the string with Go's ParseFloat first, which refuses what float64 cannot reach (1e400).
      const n = parseNumber(strPtr(v), strLen(v), true);
      return n != 0 && !beyondFloat64(n) ? n : fault(FAULT_NUMBER_SYNTAX);
    }
    default: return typeFault(1, WANT_TO_NUMBER);
  }
}

export function b_internal_template_string(parts: i32): i32 { return templateString(parts); }
