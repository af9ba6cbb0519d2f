// OPA's total order over values (null < boolean < number < string < array < object < set),
// equality and hashing consistent with it (1 == 1.0, so numbers hash by numeric value).
import {
  T_NULL, T_BOOL, T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET, N_INT,
  tagOf, numKind, numInt, numF64, strLen, strPtr, arrLen, arrGet, colLen, colKey, colVal,
} from './value';
import { ensureSorted, colFind } from './collection';

export function compareNumbers(a: i32, b: i32): i32 {
  if (numKind(a) == N_INT && numKind(b) == N_INT) {
    const x = numInt(a), y = numInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = numF64(a), y = numF64(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function compareBytes(pa: i32, la: i32, pb: i32, lb: i32): i32 {
  const n = la < lb ? la : lb;
  for (let i = 0; i < n; i++) {
    const x = load<u8>(pa + i), y = load<u8>(pb + i);
    if (x != y) return x < y ? -1 : 1;
  }
  return la < lb ? -1 : la > lb ? 1 : 0;
}

export function compare(a: i32, b: i32): i32 {
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
    case T_ARRAY: {
      const la = arrLen(a), lb = arrLen(b);
      const n = la < lb ? la : lb;
      for (let i = 0; i < n; i++) {
        const c = compare(arrGet(a, i), arrGet(b, i));
        if (c != 0) return c;
      }
      return la < lb ? -1 : la > lb ? 1 : 0;
    }
    default: {
      ensureSorted(a);
      ensureSorted(b);
      const la = colLen(a), lb = colLen(b);
      const n = la < lb ? la : lb;
      for (let i = 0; i < n; i++) {
        let c = compare(colKey(a, i), colKey(b, i));
        if (c != 0) return c;
        if (ta == T_OBJECT) {
          c = compare(colVal(a, i), colVal(b, i));
          if (c != 0) return c;
        }
      }
      return la < lb ? -1 : la > lb ? 1 : 0;
    }
  }
}

export function equal(a: i32, b: i32): bool {
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
    case T_ARRAY: {
      const n = arrLen(a);
      if (n != arrLen(b)) return false;
      for (let i = 0; i < n; i++) if (!equal(arrGet(a, i), arrGet(b, i))) return false;
      return true;
    }
    default: {
      const n = colLen(a);
      if (n != colLen(b)) return false;
      for (let i = 0; i < n; i++) {
        const j = colFind(b, colKey(a, i));
        if (j < 0) return false;
        if (ta == T_OBJECT && !equal(colVal(a, i), colVal(b, j))) return false;
      }
      return true;
    }
  }
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

export function hash(v: i32): u32 {
  switch (tagOf(v)) {
    case T_NULL: return 0x9e3779b9;
    case T_BOOL: return load<i32>(v, 4) != 0 ? 0x12345 : 0x54321;
    case T_NUMBER: {
      let f = numF64(v);
      if (f == 0) f = 0; // -0 and 0 are equal
      const bits = reinterpret<u64>(f);
      return mix(<u32>bits ^ <u32>(bits >>> 32));
    }
    case T_STRING: {
      let h = load<u32>(v, 12);
      if (h == 0) {
        h = hashBytes(strPtr(v), strLen(v)) | 1;
        store<u32>(v, h, 12);
      }
      return h;
    }
    case T_ARRAY: {
      let h: u32 = 0x811c;
      const n = arrLen(v);
      for (let i = 0; i < n; i++) h = mix(h * 31 + hash(arrGet(v, i)));
      return h;
    }
    case T_OBJECT: {
      let h: u32 = 0x0b1ec7;
      const n = colLen(v);
      for (let i = 0; i < n; i++) h += mix(hash(colKey(v, i)) * 31 + hash(colVal(v, i)));
      return h;
    }
    default: {
      let h: u32 = 0x5e7;
      const n = colLen(v);
      for (let i = 0; i < n; i++) h += mix(hash(colKey(v, i)));
      return h;
    }
  }
}
