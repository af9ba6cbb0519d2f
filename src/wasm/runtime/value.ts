// Value layout in linear memory. Every value is a pointer to a record whose first word is its tag.
//   null    [tag]
//   boolean [tag, b]
//   number  [tag, kind, payload:i64|f64 @8, textPtr @16, textLen @20]   kind 0 = int64, 1 = float64
//           textPtr != 0: the literal's original text, printed verbatim (as OPA keeps json.Number text)
//   string  [tag, len, bytesPtr, hash(0 = not computed)]
//   array   [tag, len, cap, elemsPtr]
//   object  [tag, len, cap, keysPtr, valsPtr, slotsPtr, slotCap, flags]   (flags bit 0: entries sorted)
//   set     same as object with valsPtr = 0
// 0 stands for "undefined" everywhere.
import { alloc } from './heap';

export const T_NULL: i32 = 1;
export const T_BOOL: i32 = 2;
export const T_NUMBER: i32 = 3;
export const T_STRING: i32 = 4;
export const T_ARRAY: i32 = 5;
export const T_OBJECT: i32 = 6;
export const T_SET: i32 = 7;

export const N_INT: i32 = 0;
export const N_FLOAT: i32 = 1;

// Static singletons live in the runtime's data section, below the heap.
const NULL_VAL: i32 = <i32>memory.data<i32>([T_NULL, 0]);
const TRUE_VAL: i32 = <i32>memory.data<i32>([T_BOOL, 1]);
const FALSE_VAL: i32 = <i32>memory.data<i32>([T_BOOL, 0]);

@inline export function tagOf(v: i32): i32 { return load<i32>(v); }

export function mkNull(): i32 { return NULL_VAL; }
export function mkTrue(): i32 { return TRUE_VAL; }
export function mkFalse(): i32 { return FALSE_VAL; }
export function mkBool(b: bool): i32 { return b ? TRUE_VAL : FALSE_VAL; }
@inline export function boolOf(v: i32): bool { return load<i32>(v, 4) != 0; }

export function mkInt(n: i64): i32 {
  const v = alloc(24);
  store<i32>(v, T_NUMBER);
  store<i32>(v, N_INT, 4);
  store<i64>(v, n, 8);
  store<i32>(v, 0, 16);
  store<i32>(v, 0, 20);
  return v;
}

export function mkFloat(f: f64): i32 {
  // Integral results print and compare as integers, as OPA's big-number arithmetic does.
  if (f == Math.floor(f) && Math.abs(f) < 9.007199254740992e15) return mkInt(<i64>f);
  const v = alloc(24);
  store<i32>(v, T_NUMBER);
  store<i32>(v, N_FLOAT, 4);
  store<f64>(v, f, 8);
  store<i32>(v, 0, 16);
  store<i32>(v, 0, 20);
  return v;
}

@inline export function numKind(v: i32): i32 { return load<i32>(v, 4); }
@inline export function numInt(v: i32): i64 { return load<i64>(v, 8); }
@inline export function numF64(v: i32): f64 {
  return load<i32>(v, 4) == N_INT ? <f64>load<i64>(v, 8) : load<f64>(v, 8);
}
@inline export function numTextPtr(v: i32): i32 { return load<i32>(v, 16); }
@inline export function numTextLen(v: i32): i32 { return load<i32>(v, 20); }

export function mkString(ptr: i32, len: i32): i32 {
  const v = alloc(16);
  store<i32>(v, T_STRING);
  store<i32>(v, len, 4);
  store<i32>(v, ptr, 8);
  store<i32>(v, 0, 12);
  return v;
}

/** A new string whose bytes are copied into the heap. */
export function mkStringCopy(ptr: i32, len: i32): i32 {
  const b = alloc(len);
  memory.copy(b, ptr, len);
  return mkString(b, len);
}

@inline export function strLen(v: i32): i32 { return load<i32>(v, 4); }
@inline export function strPtr(v: i32): i32 { return load<i32>(v, 8); }

export function mkArray(cap: i32): i32 {
  const v = alloc(16);
  if (cap < 0) cap = 0;
  store<i32>(v, T_ARRAY);
  store<i32>(v, 0, 4);
  store<i32>(v, cap, 8);
  store<i32>(v, cap > 0 ? alloc(cap << 2) : 0, 12);
  return v;
}

@inline export function arrLen(v: i32): i32 { return load<i32>(v, 4); }
@inline export function arrGet(v: i32, i: i32): i32 { return load<i32>(load<i32>(v, 12) + (i << 2)); }
@inline export function arrSet(v: i32, i: i32, x: i32): void { store<i32>(load<i32>(v, 12) + (i << 2), x); }

export function arrAppend(v: i32, x: i32): void {
  const len = load<i32>(v, 4);
  let cap = load<i32>(v, 8);
  if (len == cap) {
    const ncap = cap < 4 ? 4 : cap << 1;
    const ne = alloc(ncap << 2);
    if (len > 0) memory.copy(ne, load<i32>(v, 12), len << 2);
    store<i32>(v, ne, 12);
    store<i32>(v, ncap, 8);
  }
  store<i32>(load<i32>(v, 12) + (len << 2), x);
  store<i32>(v, len + 1, 4);
}

export function mkObject(): i32 { return mkCollection(T_OBJECT, 0); }
export function mkSet(): i32 { return mkCollection(T_SET, 0); }

export function mkCollection(tag: i32, cap: i32): i32 {
  const v = alloc(32);
  store<i32>(v, tag);
  store<i32>(v, 0, 4);
  store<i32>(v, cap, 8);
  store<i32>(v, cap > 0 ? alloc(cap << 2) : 0, 12);
  store<i32>(v, cap > 0 && tag == T_OBJECT ? alloc(cap << 2) : 0, 16);
  store<i32>(v, 0, 20);
  store<i32>(v, 0, 24);
  store<i32>(v, 1, 28);
  return v;
}

@inline export function colLen(v: i32): i32 { return load<i32>(v, 4); }
@inline export function colKey(v: i32, i: i32): i32 { return load<i32>(load<i32>(v, 12) + (i << 2)); }
@inline export function colVal(v: i32, i: i32): i32 { return load<i32>(load<i32>(v, 16) + (i << 2)); }
