// OPA's total order over values (null < boolean < number < string < array < object < set),
// equality and hashing consistent with it (1 == 1.0, so numbers hash by numeric value).
import {
  T_NULL, T_BOOL, T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET, N_INT,
  tagOf, isInline, numKind, numInt, numF64, numTextPtr, strLen, strPtr, arrLen, arrGet, colLen, colKey, colVal,
} from './value';
import { ensureSorted, colFind } from './collection';
import { compareDecimal } from './number';
import { STATIC_FRAMES, enter, push, pop, popTo, topFrame, depthOf } from './frames';
import { allocZeroed } from './heap';

export function compareNumbers(a: i32, b: i32): i32 {
  if (numKind(a) == N_INT && numKind(b) == N_INT) {
    const x = numInt(a), y = numInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = numF64(a), y = numF64(b);
  if (x < y && y - x != Infinity) return -1;
  if (x > y && x - y != Infinity) return 1;
  // Equal (or infinite / underflowed) as float64: literals may still differ beyond its precision.
  if (x == y && x - x == 0 && numTextPtr(a) == 0 && numTextPtr(b) == 0) return 0;
  return compareDecimal(a, b);
}

export function compareBytes(pa: i32, la: i32, pb: i32, lb: i32): i32 {
  const n = la < lb ? la : lb;
  let i = 0;
  // Eight bytes at a time while both have them: read big-endian, their order is the bytes' order.
  for (; i + 8 <= n; i += 8) {
    const x = load<u64>(pa + i), y = load<u64>(pb + i);
    if (x != y) return bswap<u64>(x) < bswap<u64>(y) ? -1 : 1;
  }
  for (; i < n; i++) {
    const x = load<u8>(pa + i), y = load<u8>(pb + i);
    if (x != y) return x < y ? -1 : 1;
  }
  return la < lb ? -1 : la > lb ? 1 : 0;
}

// compare, equal and hash walk collections with explicit stacks (frames.ts), never recursing per level: values
// nest as deep as inputs and data may. A collection's children are numbered as the walks visit them: array
// elements, set keys, and for objects key then value of each entry (child 2e is entry e's key, 2e+1 its value).

@inline function childCount(c: i32, t: i32): i32 {
  return t == T_ARRAY ? arrLen(c) : t == T_OBJECT ? colLen(c) << 1 : colLen(c);
}

@inline function child(c: i32, t: i32, i: i32): i32 {
  if (t == T_ARRAY) return arrGet(c, i);
  if (t == T_OBJECT) return (i & 1) != 0 ? colVal(c, i >> 1) : colKey(c, i >> 1);
  return colKey(c, i);
}

@inline function isCollection(t: i32): bool { return t == T_ARRAY || t == T_OBJECT || t == T_SET; }

let CMP: i32 = 0;
let CMP_FRAMES: i32 = 0;

/** Orders two scalars; for two collections of one kind, pushes a frame (a, b, next child) and answers 0. */
function compareOpen(a: i32, b: i32): i32 {
  if (a == b) return 0;
  if (a == 0) return -1;
  if (b == 0) return 1;
  const ta = tagOf(a), tb = tagOf(b);
  if (ta != tb) return ta < tb ? -1 : 1;
  switch (ta) {
    case T_NULL: return 0;
    case T_BOOL: {
      const x = load<i32>(a, 4), y = load<i32>(b, 4);
      return x == y ? 0 : x < y ? -1 : 1;
    }
    case T_NUMBER: return compareNumbers(a, b);
    case T_STRING: return compareBytes(strPtr(a), strLen(a), strPtr(b), strLen(b));
  }
  if (ta != T_ARRAY) {
    ensureSorted(a);
    ensureSorted(b);
  }
  const f = push(CMP);
  store<i32>(f, a);
  store<i32>(f, b, 4);
  store<i32>(f, 0, 8);
  return 0;
}

/** Children pairwise in order; the first difference decides, then the shorter collection comes first. */
export function compare(a: i32, b: i32): i32 {
  const base = enter(CMP, CMP_FRAMES, 12);
  let x = a, y = b;
  while (true) {
    const r = compareOpen(x, y);
    if (r != 0) {
      popTo(CMP, base);
      return r;
    }
    let more = false;
    while (depthOf(CMP) > base) {
      const f = topFrame(CMP);
      const ca = load<i32>(f), cb = load<i32>(f, 4), i = load<i32>(f, 8);
      const t = tagOf(ca);
      const na = childCount(ca, t), nb = childCount(cb, t);
      if (i == (na < nb ? na : nb)) {
        pop(CMP);
        if (na != nb) {
          popTo(CMP, base);
          return na < nb ? -1 : 1;
        }
        continue;
      }
      store<i32>(f, i + 1, 8);
      x = child(ca, t, i);
      y = child(cb, t, i);
      more = true;
      break;
    }
    if (!more) return 0;
  }
  return 0;
}

let EQ: i32 = 0;
let EQ_FRAMES: i32 = 0;

/** Whether two scalars are equal; two collections of one kind and size push a frame and answer true. */
function equalOpen(a: i32, b: i32): bool {
  if (a == b) return true;
  if (a == 0 || b == 0) return false;
  const ta = tagOf(a);
  if (ta != tagOf(b)) return false;
  switch (ta) {
    case T_NULL: return true;
    case T_BOOL: return load<i32>(a, 4) == load<i32>(b, 4);
    case T_NUMBER: return compareNumbers(a, b) == 0;
    case T_STRING: {
      const n = strLen(a);
      if (n != strLen(b)) return false;
      return memory.compare(strPtr(a), strPtr(b), n) == 0;
    }
  }
  const n = ta == T_ARRAY ? arrLen(a) : colLen(a);
  if (n != (ta == T_ARRAY ? arrLen(b) : colLen(b))) return false;
  if (n == 0) return true;
  const f = push(EQ);
  store<i32>(f, a);
  store<i32>(f, b, 4);
  store<i32>(f, 0, 8);
  return true;
}

/** Arrays element by element; objects and sets by looking each key of one up in the other. */
export function equal(a: i32, b: i32): bool {
  const base = enter(EQ, EQ_FRAMES, 12);
  let x = a, y = b;
  while (true) {
    if (!equalOpen(x, y)) {
      popTo(EQ, base);
      return false;
    }
    let more = false;
    while (depthOf(EQ) > base) {
      const f = topFrame(EQ);
      const ca = load<i32>(f), cb = load<i32>(f, 4), i = load<i32>(f, 8);
      const t = tagOf(ca);
      if (i == (t == T_ARRAY ? arrLen(ca) : colLen(ca))) {
        pop(EQ);
        continue;
      }
      store<i32>(f, i + 1, 8);
      if (t == T_ARRAY) {
        x = arrGet(ca, i);
        y = arrGet(cb, i);
      } else {
        const j = colFind(cb, colKey(ca, i));
        if (j < 0) {
          popTo(EQ, base);
          return false;
        }
        if (t == T_SET) continue;
        x = colVal(ca, i);
        y = colVal(cb, j);
      }
      more = true;
      break;
    }
    if (!more) return true;
  }
  return true;
}

@inline function mix(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}

export function hashBytes(p: i32, n: i32): u32 {
  let h: u32 = 2166136261;
  for (let i = 0; i < n; i++) {
    h = (h ^ load<u8>(p + i)) * 16777619;
  }
  return h;
}

let HASH: i32 = 0;
let HASH_FRAMES: i32 = 0;

function scalarHash(v: i32): u32 {
  switch (tagOf(v)) {
    case T_NULL: return 0x9e3779b9;
    case T_BOOL: return load<i32>(v, 4) != 0 ? 0x12345 : 0x54321;
    case T_NUMBER: {
      let f = numF64(v);
      if (f == 0) f = 0; // -0 and 0 are equal
      const bits = reinterpret<u64>(f);
      return mix(<u32>bits ^ <u32>(bits >>> 32));
    }
    default: {
      // Loaded data's strings (F_INLINE) are read-only: their hash is computed anew, never cached in them.
      if (isInline(v)) return hashBytes(strPtr(v), strLen(v)) | 1;
      let h = load<u32>(v, 12);
      if (h == 0) {
        h = hashBytes(strPtr(v), strLen(v)) | 1;
        store<u32>(v, h, 12);
      }
      return h;
    }
  }
}

@inline function hashSeed(t: i32): u32 { return t == T_ARRAY ? 0x811c : t == T_OBJECT ? 0x0b1ec7 : 0x5e7; }

/**
 * Arrays fold their elements in order; objects and sets sum their entries, so the order of entries (sorted
 * or not) does not matter. Frames: (collection, next child, hash so far, the pending key's hash).
 */
export function hash(v: i32): u32 {
  const base = enter(HASH, HASH_FRAMES, 16);
  let x = v;
  while (true) {
    const t = tagOf(x);
    let h: u32;
    if (isCollection(t) && childCount(x, t) > 0) {
      const f = push(HASH);
      store<i32>(f, x);
      store<i32>(f, 0, 4);
      store<u32>(f, hashSeed(t), 8);
      x = child(x, t, 0);
      continue;
    }
    h = isCollection(t) ? hashSeed(t) : scalarHash(x);
    // Fold h, the hash of the top frame's current child, into it; a finished collection folds into its parent.
    let more = false;
    while (depthOf(HASH) > base) {
      const f = topFrame(HASH);
      const c = load<i32>(f), i = load<i32>(f, 4);
      let acc = load<u32>(f, 8);
      const ct = tagOf(c);
      if (ct == T_ARRAY) acc = mix(acc * 31 + h);
      else if (ct == T_SET) acc += mix(h);
      else if ((i & 1) == 0) store<u32>(f, h, 12);
      else acc += mix(load<u32>(f, 12) * 31 + h);
      if (i + 1 == childCount(c, ct)) {
        pop(HASH);
        h = acc;
        continue;
      }
      store<i32>(f, i + 1, 4);
      store<u32>(f, acc, 8);
      x = child(c, ct, i + 1);
      more = true;
      break;
    }
    if (!more) return h;
  }
  return 0;
}

/** Allocates this module's scratch space, one per instance (region.ts). */
export function compareStaticsInit(): void {
  CMP = allocZeroed(16);
  CMP_FRAMES = allocZeroed(STATIC_FRAMES * 12);
  EQ = allocZeroed(16);
  EQ_FRAMES = allocZeroed(STATIC_FRAMES * 12);
  HASH = allocZeroed(16);
  HASH_FRAMES = allocZeroed(STATIC_FRAMES * 16);
}
