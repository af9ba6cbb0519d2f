// count, sum, product, max, min, sort.
import {
  T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET, tagOf, mkInt, arrLen, arrGet, colLen, colKey,
  mkArray, strLen, strPtr,
} from '../value';
import { ensureSorted, sortValues } from '../collection';
import { compare } from '../compare';
import { runeCount } from '../ops';
import { b_plus, b_mul } from './arith';
import { isIntegral } from '../bigint';
import { productStart, productTimes, productValue } from '../bigfloat';

export function b_count(v: i32): i32 {
  switch (tagOf(v)) {
    case T_ARRAY: return mkInt(arrLen(v));
    case T_OBJECT: case T_SET: return mkInt(colLen(v));
    case T_STRING: return mkInt(runeCount(strPtr(v), strLen(v)));
    default: return 0;
  }
}

/** Elements of an array or set (set in sorted order) for aggregation; -1 length if neither. */
function elemCount(v: i32): i32 {
  const t = tagOf(v);
  if (t == T_ARRAY) return arrLen(v);
  if (t == T_SET) { ensureSorted(v); return colLen(v); }
  return -1;
}

@inline function elemAt(v: i32, i: i32): i32 {
  return tagOf(v) == T_ARRAY ? arrGet(v, i) : colKey(v, i);
}

function fold(v: i32, start: i64, mul: bool): i32 {
  const n = elemCount(v);
  if (n < 0) return 0;
  let acc = mkInt(start);
  for (let i = 0; i < n; i++) {
    const x = elemAt(v, i);
    if (tagOf(x) != T_NUMBER) return 0;
    acc = mul ? b_mul(acc, x) : b_plus(acc, x);
  }
  return acc;
}

export function b_sum(v: i32): i32 { return fold(v, 0, false); }
/** Integers multiply exactly; with any other number the product is OPA's float one (bigfloat.ts). */
export function b_product(v: i32): i32 {
  const n = elemCount(v);
  for (let i = 0; i < n; i++) {
    const x = elemAt(v, i);
    if (tagOf(x) == T_NUMBER && !isIntegral(x)) return floatProduct(v, n);
  }
  return fold(v, 1, true);
}

function floatProduct(v: i32, n: i32): i32 {
  productStart();
  for (let i = 0; i < n; i++) {
    const x = elemAt(v, i);
    if (tagOf(x) != T_NUMBER) return 0;
    productTimes(x);
  }
  return productValue();
}

function extreme(v: i32, sign: i32): i32 {
  const n = elemCount(v);
  if (n <= 0) return 0;
  let best = elemAt(v, 0);
  for (let i = 1; i < n; i++) {
    const x = elemAt(v, i);
    if (compare(x, best) * sign > 0) best = x;
  }
  return best;
}

export function b_max(v: i32): i32 { return extreme(v, 1); }
export function b_min(v: i32): i32 { return extreme(v, -1); }

export function b_sort(v: i32): i32 {
  const n = elemCount(v);
  if (n < 0) return 0;
  const r = mkArray(n);
  for (let i = 0; i < n; i++) store<i32>(load<i32>(r, 12) + (i << 2), elemAt(v, i));
  store<i32>(r, n, 4);
  if (tagOf(v) == T_ARRAY) sortValues(load<i32>(r, 12), n);
  return r;
}
