// Value layout in linear memory. Every value is a pointer to a record whose first word holds its tag in the
// low byte and layout flags above it; 0 stands for "undefined" everywhere.
//   null    [tag]
//   boolean [tag, b]
//   number  [tag, kind, payload:i64|f64 @8, textPtr @16, textLen @20]   kind 0 = int64, 1 = float64
//           textPtr != 0: the literal's original text, printed verbatim (as OPA keeps json.Number text)
//           F_SMALL:  [tag, i32 payload]            an integer that fits 32 bits, no text (8 bytes)
//           F_NOTEXT: [tag, kind, payload @8]        no text (16 bytes)
//   string  [tag, len, bytesPtr, hash(0 = not computed)]
//           F_INLINE: [tag, len, bytes...]           no cached hash
//   array   [tag, len, cap, elemsPtr]
//           F_INLINE: [tag, len, elems...]           fixed size
//   object  [tag, len, cap, keysPtr, valsPtr, slotsPtr, slotCap, flags]   (flags bit 0: entries sorted)
//           F_INLINE: [tag, len, indexPtr, keysPtr, vals...]   fixed, sorted by key; indexPtr 0 or [slotCap, slots...]
//   set     same as object with valsPtr = 0
// The compact forms (F_*) are what loaded data is parsed into (json.ts parseDetached): records at their exact size,
// key lists and small arrays shared between equal ones, and nothing written into them after the load (no sort
// flag to set, no hash to cache), so data is read-only. Everything else is built by the forms that grow.
import { alloc, allocData } from './heap';

export const T_NULL: i32 = 1;
export const T_BOOL: i32 = 2;
export const T_NUMBER: i32 = 3;
export const T_STRING: i32 = 4;
export const T_ARRAY: i32 = 5;
export const T_OBJECT: i32 = 6;
export const T_SET: i32 = 7;

export const F_INLINE: i32 = 0x100;
export const F_SMALL: i32 = 0x200;
export const F_NOTEXT: i32 = 0x400;

export const N_INT: i32 = 0;
export const N_FLOAT: i32 = 1;

// Static singletons live in the runtime's data section, below the heap.
const NULL_VAL: i32 = <i32>memory.data<i32>([T_NULL, 0]);
const TRUE_VAL: i32 = <i32>memory.data<i32>([T_BOOL, 1]);
const FALSE_VAL: i32 = <i32>memory.data<i32>([T_BOOL, 0]);

@inline export function tagOf(v: i32): i32 { return load<u8>(v); }
@inline export function isInline(v: i32): bool { return (load<i32>(v) & F_INLINE) != 0; }

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

/** A loaded number without text: 8 bytes for an integer that fits 32 bits, else 16. */
export function mkDataNumber(kind: i32, bits: i64): i32 {
  if (kind == N_INT && bits == <i64><i32>bits) {
    const v = allocData(8);
    store<i32>(v, T_NUMBER | F_SMALL);
    store<i32>(v, <i32>bits, 4);
    return v;
  }
  const v = allocData(16);
  store<i32>(v, T_NUMBER | F_NOTEXT);
  store<i32>(v, kind, 4);
  store<i64>(v, bits, 8);
  return v;
}

@inline export function numKind(v: i32): i32 { return (load<i32>(v) & F_SMALL) != 0 ? N_INT : load<i32>(v, 4); }
@inline export function numInt(v: i32): i64 { return (load<i32>(v) & F_SMALL) != 0 ? <i64>load<i32>(v, 4) : load<i64>(v, 8); }
@inline export function numF64(v: i32): f64 {
  const w = load<i32>(v);
  if ((w & F_SMALL) != 0) return <f64>load<i32>(v, 4);
  return load<i32>(v, 4) == N_INT ? <f64>load<i64>(v, 8) : load<f64>(v, 8);
}
@inline export function numTextPtr(v: i32): i32 { return (load<i32>(v) & (F_SMALL | F_NOTEXT)) != 0 ? 0 : load<i32>(v, 16); }
@inline export function numTextLen(v: i32): i32 { return (load<i32>(v) & (F_SMALL | F_NOTEXT)) != 0 ? 0 : load<i32>(v, 20); }

export function mkString(ptr: i32, len: i32): i32 {
  const v = alloc(16);
  store<i32>(v, T_STRING);
  store<i32>(v, len, 4);
  store<i32>(v, ptr, 8);
  store<i32>(v, 0, 12);
  return v;
}

/** A new string holding a copy of the bytes (F_INLINE), `len` bytes of which the caller may fill itself. */
export function mkStringCopy(ptr: i32, len: i32): i32 {
  const v = allocData(8 + len);
  store<i32>(v, T_STRING | F_INLINE);
  store<i32>(v, len, 4);
  if (ptr != 0) memory.copy(v + 8, ptr, len);
  return v;
}

@inline export function strLen(v: i32): i32 { return load<i32>(v, 4); }
@inline export function strPtr(v: i32): i32 { return (load<i32>(v) & F_INLINE) != 0 ? v + 8 : load<i32>(v, 8); }

export function mkArray(cap: i32): i32 {
  const v = alloc(16);
  if (cap < 0) cap = 0;
  store<i32>(v, T_ARRAY);
  store<i32>(v, 0, 4);
  store<i32>(v, cap, 8);
  store<i32>(v, cap > 0 ? alloc(cap << 2) : 0, 12);
  return v;
}

/** A fixed-size array (F_INLINE) of the n element pointers at p. */
export function mkArrayCopy(p: i32, n: i32): i32 {
  const v = allocData(8 + (n << 2));
  store<i32>(v, T_ARRAY | F_INLINE);
  store<i32>(v, n, 4);
  memory.copy(v + 8, p, n << 2);
  return v;
}

@inline export function arrLen(v: i32): i32 { return load<i32>(v, 4); }
/** Where an array's element pointers are. */
@inline export function arrElems(v: i32): i32 { return (load<i32>(v) & F_INLINE) != 0 ? v + 8 : load<i32>(v, 12); }
@inline export function arrGet(v: i32, i: i32): i32 { return load<i32>(arrElems(v) + (i << 2)); }
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

/** A fixed object (F_INLINE) over the sorted, distinct key list `keys` (shared), with room for its values. */
export function mkObjectInline(n: i32, keys: i32): i32 {
  const v = allocData(16 + (n << 2));
  store<i32>(v, T_OBJECT | F_INLINE);
  store<i32>(v, n, 4);
  store<i32>(v, 0, 8);
  store<i32>(v, keys, 12);
  return v;
}

@inline export function colLen(v: i32): i32 { return load<i32>(v, 4); }
/** Where a collection's key pointers are (the same field in both object forms). */
@inline export function colKeys(v: i32): i32 { return load<i32>(v, 12); }
/** Where an object's value pointers are. */
@inline export function colVals(v: i32): i32 { return (load<i32>(v) & F_INLINE) != 0 ? v + 16 : load<i32>(v, 16); }
@inline export function colKey(v: i32, i: i32): i32 { return load<i32>(load<i32>(v, 12) + (i << 2)); }
@inline export function colVal(v: i32, i: i32): i32 { return load<i32>(colVals(v) + (i << 2)); }
