// Value operations the generated code calls for IR statements.
import { alloc, allocZeroed } from './heap';
import {
  T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET, N_INT, F_SMALL, F_NOTEXT, tagOf, isInline, mkInt, arrLen, arrGet,
  arrElems, colLen, colKey, colKeys, colVal, colVals, mkCollection, mkArray, strLen, strPtr,
} from './value';
import { objGet, objInsert, colFind, ensureSorted, colAppendNew, indexFor } from './collection';
import { numIsInt, numAsI64 } from './number';

/** DotStmt: object member, array element by integer index, or set member; 0 when absent. */
export function valueGet(v: i32, key: i32): i32 {
  if (v == 0 || key == 0) return 0;
  switch (tagOf(v)) {
    case T_OBJECT: return objGet(v, key);
    case T_ARRAY: {
      if (tagOf(key) != T_NUMBER || !numIsInt(key)) return 0;
      const i = numAsI64(key);
      if (i < 0 || i >= <i64>arrLen(v)) return 0;
      return arrGet(v, <i32>i);
    }
    case T_SET: {
      const i = colFind(v, key);
      return i < 0 ? 0 : colKey(v, i);
    }
    default: return 0;
  }
}

@inline function cont(p: i32, i: i32, n: i32, lo: u32, hi: u32): bool {
  if (i >= n) return false;
  const b = <u32>load<u8>(p + i);
  return b >= lo && b <= hi;
}

/** Byte length of the UTF-8 sequence at p+i, 1 for an invalid byte (Go decodes it as U+FFFD). */
export function utf8Width(p: i32, i: i32, n: i32): i32 {
  const c = <u32>load<u8>(p + i);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(p, i + 1, n, 0x80, 0xbf) ? 2 : 1;
  if (c >= 0xe0 && c <= 0xef) {
    const lo: u32 = c == 0xe0 ? 0xa0 : 0x80, hi: u32 = c == 0xed ? 0x9f : 0xbf;
    return cont(p, i + 1, n, lo, hi) && cont(p, i + 2, n, 0x80, 0xbf) ? 3 : 1;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo: u32 = c == 0xf0 ? 0x90 : 0x80, hi: u32 = c == 0xf4 ? 0x8f : 0xbf;
    return cont(p, i + 1, n, lo, hi) && cont(p, i + 2, n, 0x80, 0xbf) && cont(p, i + 3, n, 0x80, 0xbf) ? 4 : 1;
  }
  return 1;
}

/** Number of code points in [p, p+n), counting invalid bytes one each as Go does. */
export function runeCount(p: i32, n: i32): i32 {
  let c = 0;
  let i = 0;
  while (i < n) {
    i += utf8Width(p, i, n);
    c++;
  }
  return c;
}

/** Length of a collection or string (in code points), or -1 for other values. */
export function lengthOf(v: i32): i32 {
  switch (tagOf(v)) {
    case T_ARRAY: return arrLen(v);
    case T_OBJECT: case T_SET: return colLen(v);
    case T_STRING: return runeCount(strPtr(v), strLen(v));
    default: return -1;
  }
}

/** LenStmt. */
export function valueLength(v: i32): i32 {
  if (v == 0) return 0;
  const n = lengthOf(v);
  return n < 0 ? 0 : mkInt(n);
}

/** ScanStmt iterates by position: count, then the key and value at each position. */
export function scanLength(v: i32): i32 {
  if (v == 0) return 0;
  const t = tagOf(v);
  if (t == T_ARRAY) return arrLen(v);
  if (t == T_OBJECT || t == T_SET) {
    ensureSorted(v);
    return colLen(v);
  }
  return 0;
}

export function scanKey(v: i32, i: i32): i32 {
  return tagOf(v) == T_ARRAY ? mkInt(i) : colKey(v, i);
}

export function scanValue(v: i32, i: i32): i32 {
  switch (tagOf(v)) {
    case T_ARRAY: return arrGet(v, i);
    case T_OBJECT: return colVal(v, i);
    default: return colKey(v, i);
  }
}

export function valueType(v: i32): i32 {
  return v == 0 ? 0 : tagOf(v);
}

/** AssignIntStmt overwrites a number in place (one the plan made: loaded data's compact numbers are never targets). */
export function numberSetInt(v: i32, n: i64): void {
  if (v == 0 || tagOf(v) != T_NUMBER) return;
  if ((load<i32>(v) & (F_SMALL | F_NOTEXT)) != 0) unreachable();
  store<i32>(v, N_INT, 4);
  store<i64>(v, n, 8);
  store<i32>(v, 0, 16);
  store<i32>(v, 0, 20);
}

export function shallowCopy(v: i32): i32 {
  const t = tagOf(v);
  if (t == T_ARRAY) {
    const n = arrLen(v);
    const a = mkArray(n);
    if (n > 0) memory.copy(load<i32>(a, 12), arrElems(v), n << 2);
    store<i32>(a, n, 4);
    return a;
  }
  if (t == T_OBJECT || t == T_SET) {
    const n = colLen(v);
    const c = mkCollection(t, n);
    if (n > 0) {
      memory.copy(load<i32>(c, 12), colKeys(v), n << 2);
      if (t == T_OBJECT) memory.copy(load<i32>(c, 16), colVals(v), n << 2);
    }
    store<i32>(c, n, 4);
    if (isInline(v)) {
      // A fixed object is sorted; the copy, which may grow, gets an index of its own kind.
      store<i32>(c, 1, 28);
      indexFor(c);
      return c;
    }
    store<i32>(c, load<i32>(v, 28), 28);
    const slots = load<i32>(v, 20);
    if (slots != 0) {
      const cap = load<i32>(v, 24);
      const ns = alloc(cap << 2);
      memory.copy(ns, slots, cap << 2);
      store<i32>(c, ns, 20);
      store<i32>(c, cap, 24);
    }
    return c;
  }
  return v;
}

/**
 * ObjectMergeStmt: the union of two objects where keys present in both merge recursively when
 * both values are objects and otherwise keep a's value. Non-object operands yield 0.
 */
export function objectMerge(a: i32, b: i32): i32 {
  if (a == 0 || b == 0 || tagOf(a) != T_OBJECT || tagOf(b) != T_OBJECT) return 0;
  const r = shallowCopy(a);
  const n = colLen(b);
  for (let i = 0; i < n; i++) {
    const k = colKey(b, i);
    const j = colFind(r, k);
    if (j < 0) {
      colAppendNew(r, k, colVal(b, i));
      continue;
    }
    const va = colVal(r, j), vb = colVal(b, i);
    if (tagOf(va) == T_OBJECT && tagOf(vb) == T_OBJECT) {
      objInsert(r, k, objectMerge(va, vb));
    }
  }
  return r;
}

// ---- memoisation of rule functions (functions taking only input and data) ----
// A frame is [prev, count, slots...]; WithStmt pushes a fresh frame and pops it afterwards.
let memoFrame: i32 = 0;
let memoCount: i32 = 0;

export function memoInit(count: i32): void {
  memoCount = count;
  memoFrame = 0;
  memoPush();
}

export function memoPush(): void {
  const f = allocZeroed(8 + (memoCount << 2));
  store<i32>(f, memoFrame);
  store<i32>(f, memoCount, 4);
  memoFrame = f;
}

export function memoPop(): void {
  memoFrame = load<i32>(memoFrame);
}

export function memoGet(i: i32): i32 {
  return load<i32>(memoFrame + 8 + (i << 2));
}

export function memoSet(i: i32, v: i32): void {
  store<i32>(memoFrame + 8 + (i << 2), v);
}

/** CallDynamicStmt: walks the function mapping {seg: {seg: tableIndex}} along a path array. */
export function mappingLookup(mapping: i32, path: i32): i32 {
  let v = mapping;
  const n = arrLen(path);
  for (let i = 0; i < n; i++) {
    if (v == 0 || tagOf(v) != T_OBJECT) return 0;
    v = objGet(v, arrGet(path, i));
  }
  if (v == 0 || tagOf(v) != T_NUMBER) return 0;
  return <i32>numAsI64(v);
}

/**
 * WithStmt on a path: a copy of base with path set to value, copying each object on the way and
 * replacing missing or non-object nodes with objects.
 */
export function upsert(base: i32, path: i32, value: i32): i32 {
  return upsertAt(base, path, 0, value);
}

function upsertAt(node: i32, path: i32, i: i32, value: i32): i32 {
  if (i == arrLen(path)) return value;
  const isObj = node != 0 && tagOf(node) == T_OBJECT;
  const copy = isObj ? shallowCopy(node) : mkCollection(T_OBJECT, 0);
  const key = arrGet(path, i);
  objInsert(copy, key, upsertAt(isObj ? objGet(node, key) : 0, path, i + 1, value));
  return copy;
}
