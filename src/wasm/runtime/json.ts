// JSON text <-> values. Parsing points strings without escapes and number literals straight into
// the source text (it stays below the heap pointer for the whole evaluation), so parsing input
// costs little more than one pass. Printing follows OPA: sorted object keys, sets as sorted
// arrays, non-string object keys printed as JSON strings of their text.
import { alloc, allocZeroed, heapLimitSet, heapRelease } from './heap';
import { STATIC_FRAMES, enter, push, pop, popTo, topFrame, depthOf, frameAt } from './frames';
import {
  T_NULL, T_BOOL, T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET,
  tagOf, mkNull, mkBool, mkString, mkStringCopy, mkArray, arrAppend, arrLen, arrGet, mkCollection,
  colLen, colKey, colVal, strLen, strPtr, numTextLen,
} from './value';
import { parseNumber, writeNumber } from './number';
import { objInsert, setAdd, ensureSorted } from './collection';
import { dataParseStart, sharedArray, sharedString, objectFromPairs } from './data';

// ---- parsing ----
let src: i32 = 0;
let end: i32 = 0;
let pos: i32 = 0;
let allowSets: bool = false;
/** Strings and number texts are copied out of the source, which may then be dropped (parseDetached). */
let detached: bool = false;

/** A string of the source's bytes at [start, start+len): pointing into the source, or copied when detached. */
@inline function sourceString(start: i32, len: i32): i32 {
  return detached ? mkStringCopy(start, len) : mkString(start, len);
}

@inline function ws(): void {
  while (pos < end) {
    const c = load<u8>(pos);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    pos++;
  }
}

function hex4(p: i32): i32 {
  let r = 0;
  for (let i = 0; i < 4; i++) {
    const c = <i32>load<u8>(p + i);
    let d: i32;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x61 + 10;
    else return -1;
    r = (r << 4) | d;
  }
  return r;
}

/** Writes code point cp as UTF-8 at out; returns bytes written. */
export function writeUtf8(out: i32, cp: i32): i32 {
  if (cp < 0x80) { store<u8>(out, <u8>cp); return 1; }
  if (cp < 0x800) {
    store<u8>(out, <u8>(0xc0 | (cp >> 6)));
    store<u8>(out + 1, <u8>(0x80 | (cp & 0x3f)));
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(out, <u8>(0xe0 | (cp >> 12)));
    store<u8>(out + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(out + 2, <u8>(0x80 | (cp & 0x3f)));
    return 3;
  }
  store<u8>(out, <u8>(0xf0 | (cp >> 18)));
  store<u8>(out + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(out + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(out + 3, <u8>(0x80 | (cp & 0x3f)));
  return 4;
}

function parseString(): i32 {
  pos++; // opening quote
  const start = pos;
  let escaped = false;
  while (pos < end) {
    const c = load<u8>(pos);
    if (c == 0x22) break;
    if (c == 0x5c) { escaped = true; pos += 2; continue; }
    if (c < 0x20) return 0;
    pos++;
  }
  if (pos >= end) return 0;
  const stop = pos;
  pos++;
  if (!escaped) return sourceString(start, stop - start);
  // Decoded text is never longer than the escaped text: detached, into a string of that room, then trimmed.
  const copy = detached ? mkStringCopy(0, stop - start) : 0;
  const buf = detached ? strPtr(copy) : alloc(stop - start);
  let o = buf;
  let i = start;
  while (i < stop) {
    const c = load<u8>(i);
    if (c != 0x5c) { store<u8>(o++, c); i++; continue; }
    const e = load<u8>(i + 1);
    i += 2;
    switch (e) {
      case 0x22: store<u8>(o++, 0x22); break;
      case 0x5c: store<u8>(o++, 0x5c); break;
      case 0x2f: store<u8>(o++, 0x2f); break;
      case 0x62: store<u8>(o++, 0x08); break;
      case 0x66: store<u8>(o++, 0x0c); break;
      case 0x6e: store<u8>(o++, 0x0a); break;
      case 0x72: store<u8>(o++, 0x0d); break;
      case 0x74: store<u8>(o++, 0x09); break;
      case 0x75: {
        if (i + 4 > stop) return 0;
        let cp = hex4(i);
        if (cp < 0) return 0;
        i += 4;
        if (cp >= 0xd800 && cp < 0xdc00) {
          // A high surrogate pairs with a following \uDC00-\uDFFF; alone it becomes U+FFFD as in Go.
          if (i + 6 <= stop && load<u8>(i) == 0x5c && load<u8>(i + 1) == 0x75) {
            const lo = hex4(i + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              i += 6;
            } else cp = 0xfffd;
          } else cp = 0xfffd;
        } else if (cp >= 0xdc00 && cp < 0xe000) cp = 0xfffd;
        o += writeUtf8(o, cp);
        break;
      }
      default: return 0;
    }
  }
  if (copy == 0) return mkString(buf, o - buf);
  store<i32>(copy, o - buf, 4);
  heapRelease(o);
  return copy;
}

// Collections are parsed with an explicit stack (frames.ts) of (collection, kind, pending object key, first
// member) frames, never by recursion, so nesting up to the limit never meets the engine's call-stack limit.
let PARSE: i32 = 0;
let PARSE_FRAMES: i32 = 0;
// A detached parse (loaded data, kept for long) collects each collection's members on a stack of (key, value)
// frames and makes the collection when it closes, in its fixed form (data.ts): grown member by member, every
// collection left behind the arrays and indexes it outgrew (a tenth of the memory of records grouped a hundred
// to an object).
let MEMBERS: i32 = 0;
let MEMBER_FRAMES: i32 = 0;
const MAX_DEPTH: i32 = 10000;
const IN_ARRAY: i32 = 0;
/** `{`: an object, or with sets allowed a set; the collection is made at its first member, when that is known. */
const IN_BRACE: i32 = 1;

/** A scalar at pos (string, true, false, null, set(), number), or 0 when the text is not one. */
function parseScalar(): i32 {
  const c = load<u8>(pos);
  switch (c) {
    case 0x22: return parseString();
    case 0x74: return lit(0x65757274, 4) ? mkBool(true) : 0; // true
    case 0x66: // false
      if (pos + 5 <= end && load<u32>(pos + 1) == 0x65736c61) { pos += 5; return mkBool(false); }
      return 0;
    case 0x6e: return lit(0x6c6c756e, 4) ? mkNull() : 0; // null
    case 0x73: // set()
      if (allowSets && pos + 5 <= end && load<u32>(pos) == 0x28746573 && load<u8>(pos + 4) == 0x29) {
        pos += 5;
        return mkCollection(T_SET, 0);
      }
      return 0;
    default: {
      const start = pos;
      while (pos < end) {
        const d = load<u8>(pos);
        if ((d >= 0x30 && d <= 0x39) || d == 0x2d || d == 0x2b || d == 0x2e || d == 0x65 || d == 0x45) pos++;
        else break;
      }
      if (pos == start) return 0;
      return parseNumber(start, pos - start, true, true, detached);
    }
  }
}

// Short strings repeat: object keys (every record of a list has the same field names) and enumerations among
// values (roles, kinds, states). Within one parse a short string seen before is the same string value again,
// not a new record: strings are immutable, and loaded data is mostly such strings. A direct-mapped table of
// short strings, cleared at each parse (the records it points at may since be freed).
const KEY_SLOTS: i32 = 1024;
const LONGEST_SHARED_KEY: i32 = 32;
let keyTable: i32 = 0;

/** A string at pos, shared with an earlier equal string of this parse where the table has it. */
function parseSharedString(): i32 {
  const start = pos + 1;
  let p = start;
  let h: u32 = 2166136261;
  while (p < end && p - start <= LONGEST_SHARED_KEY) {
    const c = load<u8>(p);
    if (c == 0x22) break;
    if (c == 0x5c || c < 0x20) return parseString();
    h = (h ^ c) * 16777619;
    p++;
  }
  if (p >= end || load<u8>(p) != 0x22) return parseString();
  const len = p - start;
  if (detached) {
    pos = p + 1;
    return sharedString(start, len, h);
  }
  const slot = keyTable + ((<i32>(h ^ (h >> 15)) & (KEY_SLOTS - 1)) << 2);
  const known = load<i32>(slot);
  pos = p + 1;
  if (known != 0 && strLen(known) == len && memory.compare(strPtr(known), start, len) == 0) return known;
  const v = sourceString(start, len);
  store<i32>(slot, v);
  return v;
}

/** The separator after a member: 1 after `,` (another member follows), 2 after `close`, 0 otherwise. */
function separator(close: u8): i32 {
  ws();
  if (pos >= end) return 0;
  const d = load<u8>(pos++);
  if (d == close) return 2;
  return d == 0x2c ? 1 : 0;
}

let membersBase: i32 = 0;

function parseFailed(base: i32): i32 {
  popTo(PARSE, base);
  popTo(MEMBERS, membersBase);
  return 0;
}

function pushMember(key: i32, val: i32): void {
  const m = push(MEMBERS);
  store<i32>(m, key);
  store<i32>(m, val, 4);
}

/** The array or object of the members collected since `from`, in its fixed form; the members are popped. */
function collected(isArray: bool, from: i32): i32 {
  const n = depthOf(MEMBERS) - from;
  const first = frameAt(MEMBERS, from);
  let v: i32;
  if (isArray) {
    // The elements close up into a list of pointers, each moving to a place already read.
    for (let i = 0; i < n; i++) store<i32>(first + (i << 2), load<i32>(first + (i << 3), 4));
    v = sharedArray(first, n);
  } else {
    v = objectFromPairs(first, n);
  }
  popTo(MEMBERS, from);
  return v;
}

function parseValue(): i32 {
  const base = enter(PARSE, PARSE_FRAMES, 16);
  membersBase = enter(MEMBERS, MEMBER_FRAMES, 8);
  while (true) {
    // The start of a value: a scalar is complete at once, a non-empty collection opens a frame.
    if (depthOf(PARSE) - base > MAX_DEPTH) return parseFailed(base);
    ws();
    if (pos >= end) return parseFailed(base);
    const c = load<u8>(pos);
    let v = 0;
    if (c == 0x5b || c == 0x7b) { // [ {
      pos++;
      ws();
      const close: u8 = c == 0x5b ? 0x5d : 0x7d;
      if (pos < end && load<u8>(pos) == close) {
        pos++;
        v = c == 0x5b ? mkArray(0) : mkCollection(T_OBJECT, 0);
      } else {
        const f = push(PARSE);
        store<i32>(f, c == 0x5b && !detached ? mkArray(0) : 0);
        store<i32>(f, c == 0x5b ? IN_ARRAY : IN_BRACE, 4);
        store<i32>(f, 0, 8);
        store<i32>(f, depthOf(MEMBERS), 12);
        continue;
      }
    } else {
      v = c == 0x22 ? parseSharedString() : parseScalar();
      if (v == 0) return parseFailed(base);
    }
    // v is complete: it becomes a member of the collection around it, which may complete in turn.
    let more = false;
    while (depthOf(PARSE) > base) {
      const f = topFrame(PARSE);
      let coll = load<i32>(f);
      let sep = 0;
      if (load<i32>(f, 4) == IN_ARRAY) {
        if (detached) pushMember(0, v);
        else arrAppend(coll, v);
        sep = separator(0x5d);
      } else if (load<i32>(f, 8) != 0) {
        if (detached) pushMember(load<i32>(f, 8), v);
        else objInsert(coll, load<i32>(f, 8), v);
        store<i32>(f, 0, 8);
        sep = separator(0x7d);
      } else {
        ws();
        if (pos < end && load<u8>(pos) == 0x3a) { // key: value
          if (coll == 0) {
            if (!detached) coll = mkCollection(T_OBJECT, 0);
          } else if (tagOf(coll) != T_OBJECT) return parseFailed(base);
          if (!allowSets && tagOf(v) != T_STRING) return parseFailed(base);
          pos++;
          store<i32>(f, coll);
          store<i32>(f, v, 8);
          more = true;
          break;
        }
        if (!allowSets) return parseFailed(base);
        if (coll == 0) coll = mkCollection(T_SET, 0);
        else if (tagOf(coll) != T_SET) return parseFailed(base);
        store<i32>(f, coll);
        setAdd(coll, v);
        sep = separator(0x7d);
      }
      if (sep == 0) return parseFailed(base);
      if (sep == 1) {
        more = true;
        break;
      }
      if (detached) coll = collected(load<i32>(f, 4) == IN_ARRAY, load<i32>(f, 12));
      pop(PARSE);
      v = coll;
    }
    if (!more) return v;
  }
  return 0;
}

@inline function lit(word: u32, n: i32): bool {
  if (pos + n <= end && load<u32>(pos) == word) { pos += n; return true; }
  return false;
}

/** Parses JSON (or, with sets, OPA's value syntax) at [p, p+n); returns 0 on malformed text. */
export function parseJSON(p: i32, n: i32, sets: bool, copy: bool = false): i32 {
  src = p; end = p + n; pos = p; allowSets = sets; detached = copy;
  if (copy) dataParseStart();
  else memory.fill(keyTable, 0, KEY_SLOTS << 2);
  const v = parseValue();
  detached = false;
  if (v == 0) return 0;
  ws();
  return pos == end ? v : 0;
}

/**
 * Parses JSON at [p, p+n) into values that keep nothing of the text (strings and number texts are copied, and
 * canonical integers keep none), all allocated below `limit`, where the host puts the text: once parsed it
 * can be dropped, or overwritten by later allocations. Parsing past `limit` traps; the host then sets the
 * heap pointer back (which lifts the limit) and parses again with more room.
 */
export function parseDetached(p: i32, n: i32, limit: i32): i32 {
  heapLimitSet(limit);
  const v = parseJSON(p, n, false, true);
  heapLimitSet(0);
  return v;
}

// ---- printing ----
// `spaced` prints ", " and ": " between elements, as OPA's Rego term printer does.
let spaced: bool = false;
let out: i32 = 0;
let outLen: i32 = 0;
let outCap: i32 = 0;

function reserve(n: i32): void {
  if (outLen + n <= outCap) return;
  let ncap = outCap << 1;
  if (ncap < outLen + n) ncap = outLen + n + 64;
  const nb = alloc(ncap);
  if (outLen > 0) memory.copy(nb, out, outLen);
  out = nb;
  outCap = ncap;
}

@inline function put(c: u8): void {
  reserve(1);
  store<u8>(out + outLen++, c);
}

const HEX: i32 = <i32>memory.data<u8>([0x30,0x31,0x32,0x33,0x34,0x35,0x36,0x37,0x38,0x39,0x61,0x62,0x63,0x64,0x65,0x66]);

function putStringBody(p: i32, n: i32, html: bool): void {
  reserve(n + 2);
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c && (!html || (c != 0x3c && c != 0x3e && c != 0x26))) {
      put(c);
      continue;
    }
    put(0x5c);
    switch (c) {
      case 0x22: put(0x22); break;
      case 0x5c: put(0x5c); break;
      case 0x0a: put(0x6e); break;
      case 0x0d: put(0x72); break;
      case 0x09: put(0x74); break;
      default:
        // Go's encoding/json escapes <, > and & as \u003c, \u003e, \u0026, and other controls as \u00XX.
        put(0x75); put(0x30); put(0x30);
        put(load<u8>(HEX + (c >> 4)));
        put(load<u8>(HEX + (c & 15)));
    }
  }
}

function putString(p: i32, n: i32, html: bool = true): void {
  put(0x22);
  putStringBody(p, n, html);
  put(0x22);
}

function putNumber(v: i32): void {
  const tl = numTextLen(v);
  reserve(tl > 32 ? tl : 32);
  outLen += writeNumber(out + outLen, v);
}

/** Object keys that are not strings print as the JSON string of their own printed form. */
function putKey(k: i32, rego: bool): void {
  if (tagOf(k) == T_STRING || rego) { putValue(k, rego); return; }
  const save = outLen;
  putValue(k, rego);
  const n = outLen - save;
  const tmp = alloc(n);
  memory.copy(tmp, out + save, n);
  outLen = save;
  putString(tmp, n);
}

// Printing walks collections with an explicit stack of (collection, next index) frames (frames.ts) instead of
// recursing, so the depth of a value never meets the engine's call-stack limit.
let PRINT: i32 = 0;
let PRINT_FRAMES: i32 = 0;

@inline function isCollection(t: i32): bool { return t == T_ARRAY || t == T_OBJECT || t == T_SET; }

@inline function entries(c: i32, t: i32): i32 { return t == T_ARRAY ? arrLen(c) : colLen(c); }

function putClose(t: i32, rego: bool): void {
  put(t == T_OBJECT || (t == T_SET && rego) ? 0x7d : 0x5d);
}

/** Prints a scalar, or opens a collection (an empty one is printed whole; others get a frame). */
function putOpen(v: i32, rego: bool): void {
  const t = tagOf(v);
  switch (t) {
    case T_NULL: reserve(4); store<u32>(out + outLen, 0x6c6c756e); outLen += 4; return;
    case T_BOOL:
      if (load<i32>(v, 4) != 0) { reserve(4); store<u32>(out + outLen, 0x65757274); outLen += 4; }
      else { reserve(5); store<u32>(out + outLen, 0x736c6166); store<u8>(out + outLen + 4, 0x65); outLen += 5; }
      return;
    case T_NUMBER: putNumber(v); return;
    case T_STRING: putString(strPtr(v), strLen(v), !rego); return;
  }
  if (!isCollection(t)) unreachable();
  if (t != T_ARRAY) ensureSorted(v);
  const n = entries(v, t);
  if (t == T_SET && rego && n == 0) {
    reserve(5); store<u32>(out + outLen, 0x28746573); store<u8>(out + outLen + 4, 0x29); outLen += 5;
    return;
  }
  put(t == T_OBJECT || (t == T_SET && rego) ? 0x7b : 0x5b);
  if (n == 0) {
    putClose(t, rego);
    return;
  }
  const f = push(PRINT);
  store<i32>(f, v);
  store<i32>(f, 0, 4);
}

function putValue(root: i32, rego: bool): void {
  const base = enter(PRINT, PRINT_FRAMES, 8);
  let v = root;
  while (v != 0) {
    putOpen(v, rego);
    v = 0;
    while (depthOf(PRINT) > base) {
      const f = topFrame(PRINT);
      const c = load<i32>(f);
      const i = load<i32>(f, 4);
      const t = tagOf(c);
      if (i == entries(c, t)) {
        putClose(t, rego);
        pop(PRINT);
        continue;
      }
      store<i32>(f, i + 1, 4);
      if (i > 0) { put(0x2c); if (spaced) put(0x20); }
      if (t == T_OBJECT) {
        putKey(colKey(c, i), rego);
        put(0x3a);
        if (spaced) put(0x20);
        v = colVal(c, i);
      } else {
        v = t == T_ARRAY ? arrGet(c, i) : colKey(c, i);
      }
      break;
    }
  }
}

/** Prints v as JSON (or Rego value syntax); returns the address of a NUL-terminated string. */
export function dump(v: i32, rego: bool): i32 {
  outCap = 64;
  out = alloc(outCap);
  outLen = 0;
  putValue(v, rego);
  put(0);
  return out;
}

/** Like dump but without the NUL; the bytes are at dumpOut(), length dumpLen(). */
export function dumpToString(v: i32): i32 {
  outCap = 64;
  out = alloc(outCap);
  outLen = 0;
  putValue(v, false);
  return mkString(out, outLen);
}

const UNDEFINED_TEXT: i32 = <i32>memory.data<u8>([0x3c,0x75,0x6e,0x64,0x65,0x66,0x69,0x6e,0x65,0x64,0x3e]); // <undefined>

/**
 * internal.template_string(parts), as OPA's print does: strings print raw and other scalars as
 * Rego text; each set part holds the values of one template expression: none prints
 * "<undefined>", a string prints raw, anything else in Rego syntax. More than one value is an
 * error (undefined here).
 */
export function templateString(parts: i32): i32 {
  if (tagOf(parts) != T_ARRAY) return 0;
  outCap = 64;
  out = alloc(outCap);
  outLen = 0;
  const n = arrLen(parts);
  for (let i = 0; i < n; i++) {
    const p = arrGet(parts, i);
    const t = tagOf(p);
    if (t == T_STRING) {
      reserve(strLen(p));
      memory.copy(out + outLen, strPtr(p), strLen(p));
      outLen += strLen(p);
      continue;
    }
    if (t == T_NUMBER || t == T_BOOL || t == T_NULL) {
      spaced = true;
      putValue(p, true);
      spaced = false;
      continue;
    }
    if (t != T_SET) return 0;
    const m = colLen(p);
    if (m == 0) {
      reserve(11);
      memory.copy(out + outLen, UNDEFINED_TEXT, 11);
      outLen += 11;
      continue;
    }
    if (m > 1) return 0;
    const v = colKey(p, 0);
    if (tagOf(v) == T_STRING) {
      reserve(strLen(v));
      memory.copy(out + outLen, strPtr(v), strLen(v));
      outLen += strLen(v);
      continue;
    }
    spaced = true;
    putValue(v, true);
    spaced = false;
  }
  return mkString(out, outLen);
}

/** A value's Rego text (", " separators, strings quoted), as OPA's Value.String() prints it. */
export function regoText(v: i32): i32 {
  const saveOut = out, saveLen = outLen, saveCap = outCap;
  outCap = 64;
  out = alloc(outCap);
  outLen = 0;
  spaced = true;
  putValue(v, true);
  spaced = false;
  const s = mkString(out, outLen);
  out = saveOut; outLen = saveLen; outCap = saveCap;
  return s;
}

/** Allocates this module's scratch space, one per instance (region.ts). */
export function jsonStaticsInit(): void {
  PARSE = allocZeroed(16);
  PARSE_FRAMES = allocZeroed(STATIC_FRAMES * 16);
  MEMBERS = allocZeroed(16);
  MEMBER_FRAMES = allocZeroed(STATIC_FRAMES * 8);
  keyTable = allocZeroed(KEY_SLOTS << 2);
  PRINT = allocZeroed(16);
  PRINT_FRAMES = allocZeroed(STATIC_FRAMES * 8);
}
