// Array and object builtins, numbers.range, json.*.
import {
  T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET, tagOf, mkArray, arrAppend, arrLen, arrGet, colLen, colKey,
  colVal, mkCollection, mkInt, mkBool, strLen, strPtr,
} from '../value';
import { colFind, colAppendNew, objInsert, objGet, setAdd } from '../collection';
import { numIsInt, numAsI64, compareDecimal } from '../number';
import { bigAdd, isIntegral } from '../bigint';
import { valueGet, shallowCopy } from '../ops';
import { parseJSON, dumpToString } from '../json';
import { fault, typeFault, FAULT_JSON_SYNTAX, WANT_STRING } from '../faults';

export function b_array_concat(a: i32, b: i32): i32 {
  if (tagOf(a) != T_ARRAY || tagOf(b) != T_ARRAY) return 0;
  const na = arrLen(a), nb = arrLen(b);
  const r = mkArray(na + nb);
  for (let i = 0; i < na; i++) arrAppend(r, arrGet(a, i));
  for (let i = 0; i < nb; i++) arrAppend(r, arrGet(b, i));
  return r;
}

export function b_array_slice(a: i32, start: i32, stop: i32): i32 {
  if (tagOf(a) != T_ARRAY || tagOf(start) != T_NUMBER || tagOf(stop) != T_NUMBER) return 0;
  if (!numIsInt(start) || !numIsInt(stop)) return 0;
  const n = <i64>arrLen(a);
  let s = numAsI64(start), e = numAsI64(stop);
  if (s < 0) s = 0;
  if (e > n) e = n;
  const r = mkArray(0);
  for (let i = s; i < e; i++) arrAppend(r, arrGet(a, <i32>i));
  return r;
}

export function b_array_reverse(a: i32): i32 {
  if (tagOf(a) != T_ARRAY) return 0;
  const n = arrLen(a);
  const r = mkArray(n);
  for (let i = n - 1; i >= 0; i--) arrAppend(r, arrGet(a, i));
  return r;
}

export function b_numbers_range(a: i32, b: i32): i32 {
  if (tagOf(a) != T_NUMBER || tagOf(b) != T_NUMBER) return 0;
  if (!numIsInt(a) || !numIsInt(b)) return isIntegral(a) && isIntegral(b) ? bigRange(a, b) : 0;
  const x = numAsI64(a), y = numAsI64(b);
  const r = mkArray(0);
  if (x <= y) for (let i = x; i <= y; i++) arrAppend(r, mkInt(i));
  else for (let i = x; i >= y; i--) arrAppend(r, mkInt(i));
  return r;
}

/** numbers.range beyond int64: each step exact by its digits (bigint.ts). */
function bigRange(a: i32, b: i32): i32 {
  const down = compareDecimal(a, b) > 0;
  const one = mkInt(1);
  const r = mkArray(0);
  let i = bigAdd(a, mkInt(0), false); // 1e20 is written out as 100000000000000000000
  arrAppend(r, i);
  while (compareDecimal(i, b) != 0) {
    i = bigAdd(i, one, down);
    arrAppend(r, i);
  }
  return r;
}

export function b_object_get(o: i32, key: i32, dflt: i32): i32 {
  if (tagOf(o) != T_OBJECT) return 0;
  if (tagOf(key) != T_ARRAY) {
    const v = objGet(o, key);
    return v != 0 ? v : dflt;
  }
  let v = o;
  const n = arrLen(key);
  for (let i = 0; i < n; i++) {
    v = valueGet(v, arrGet(key, i));
    if (v == 0) return dflt;
  }
  return v;
}

export function b_object_keys(o: i32): i32 {
  if (tagOf(o) != T_OBJECT) return 0;
  const n = colLen(o);
  const r = mkCollection(T_SET, n);
  for (let i = 0; i < n; i++) colAppendNew(r, colKey(o, i), 0);
  return r;
}

/** Keys given as an array, set or object (its keys) to object.remove / object.filter. */
function keySet(k: i32): i32 {
  switch (tagOf(k)) {
    case T_SET: return k;
    case T_OBJECT: return b_object_keys(k);
    case T_ARRAY: {
      const r = mkCollection(T_SET, 0);
      const n = arrLen(k);
      for (let i = 0; i < n; i++) setAdd(r, arrGet(k, i));
      return r;
    }
    default: return 0;
  }
}

function filterKeys(o: i32, keys: i32, keep: bool): i32 {
  if (tagOf(o) != T_OBJECT) return 0;
  const ks = keySet(keys);
  if (ks == 0) return 0;
  const r = mkCollection(T_OBJECT, 0);
  const n = colLen(o);
  for (let i = 0; i < n; i++) {
    const k = colKey(o, i);
    if ((colFind(ks, k) >= 0) == keep) colAppendNew(r, k, colVal(o, i));
  }
  return r;
}

export function b_object_remove(o: i32, keys: i32): i32 { return filterKeys(o, keys, false); }
export function b_object_filter(o: i32, keys: i32): i32 { return filterKeys(o, keys, true); }

function unionObjects(a: i32, b: i32): i32 {
  const r = shallowCopy(a);
  const n = colLen(b);
  for (let i = 0; i < n; i++) {
    const k = colKey(b, i), vb = colVal(b, i);
    const va = objGet(r, k);
    if (va != 0 && tagOf(va) == T_OBJECT && tagOf(vb) == T_OBJECT) objInsert(r, k, unionObjects(va, vb));
    else objInsert(r, k, vb);
  }
  return r;
}

export function b_object_union(a: i32, b: i32): i32 {
  if (tagOf(a) != T_OBJECT || tagOf(b) != T_OBJECT) return 0;
  return unionObjects(a, b);
}

export function b_object_union_n(arr: i32): i32 {
  if (tagOf(arr) != T_ARRAY) return 0;
  let r = mkCollection(T_OBJECT, 0);
  const n = arrLen(arr);
  for (let i = 0; i < n; i++) {
    const x = arrGet(arr, i);
    if (tagOf(x) != T_OBJECT) return 0;
    r = unionObjects(r, x);
  }
  return r;
}

export function b_json_marshal(v: i32): i32 { return dumpToString(v); }

export function b_json_unmarshal(s: i32): i32 {
  if (tagOf(s) != T_STRING) return typeFault(1, WANT_STRING);
  const v = parseJSON(strPtr(s), strLen(s), false);
  return v != 0 ? v : fault(FAULT_JSON_SYNTAX);
}

export function b_json_is_valid(s: i32): i32 {
  if (tagOf(s) != T_STRING) return mkBool(false);
  return mkBool(parseJSON(strPtr(s), strLen(s), false) != 0);
}

/** array.flatten(arr): one level of nested arrays spliced in place. */
export function b_array_flatten(a: i32): i32 {
  if (tagOf(a) != T_ARRAY) return 0;
  const r = mkArray(arrLen(a));
  for (let i = 0; i < arrLen(a); i++) {
    const x = arrGet(a, i);
    if (tagOf(x) == T_ARRAY) for (let j = 0; j < arrLen(x); j++) arrAppend(r, arrGet(x, j));
    else arrAppend(r, x);
  }
  return r;
}
