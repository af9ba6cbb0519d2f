// Set operators and internal.member_2/3 (the `in` operator).
import { T_ARRAY, T_OBJECT, T_SET, tagOf, mkBool, arrLen, arrGet, colLen, colKey, colVal, mkCollection } from '../value';
import { colFind, colAppendNew, setAdd } from '../collection';
import { equal } from '../compare';
import { valueGet } from '../ops';
import { setDiff } from './arith';

function intersect(a: i32, b: i32): i32 {
  const r = mkCollection(T_SET, 0);
  const n = colLen(a);
  for (let i = 0; i < n; i++) {
    const k = colKey(a, i);
    if (colFind(b, k) >= 0) colAppendNew(r, k, 0);
  }
  return r;
}

function unite(a: i32, b: i32): i32 {
  const r = mkCollection(T_SET, 0);
  let n = colLen(a);
  for (let i = 0; i < n; i++) colAppendNew(r, colKey(a, i), 0);
  n = colLen(b);
  for (let i = 0; i < n; i++) setAdd(r, colKey(b, i));
  return r;
}

export function b_and(a: i32, b: i32): i32 {
  return tagOf(a) == T_SET && tagOf(b) == T_SET ? intersect(a, b) : 0;
}

export function b_or(a: i32, b: i32): i32 {
  return tagOf(a) == T_SET && tagOf(b) == T_SET ? unite(a, b) : 0;
}

export function b_set_diff(a: i32, b: i32): i32 {
  return tagOf(a) == T_SET && tagOf(b) == T_SET ? setDiff(a, b) : 0;
}

/** intersection(set of sets) */
export function b_intersection(s: i32): i32 {
  if (tagOf(s) != T_SET) return 0;
  const n = colLen(s);
  if (n == 0) return mkCollection(T_SET, 0);
  let r = colKey(s, 0);
  if (tagOf(r) != T_SET) return 0;
  for (let i = 1; i < n; i++) {
    const x = colKey(s, i);
    if (tagOf(x) != T_SET) return 0;
    r = intersect(r, x);
  }
  return r;
}

/** union(set of sets) */
export function b_union(s: i32): i32 {
  if (tagOf(s) != T_SET) return 0;
  let r = mkCollection(T_SET, 0);
  const n = colLen(s);
  for (let i = 0; i < n; i++) {
    const x = colKey(s, i);
    if (tagOf(x) != T_SET) return 0;
    r = unite(r, x);
  }
  return r;
}

/** x in coll: array elements, set members, object values. */
export function b_internal_member_2(x: i32, c: i32): i32 {
  switch (tagOf(c)) {
    case T_ARRAY: {
      const n = arrLen(c);
      for (let i = 0; i < n; i++) if (equal(arrGet(c, i), x)) return mkBool(true);
      return mkBool(false);
    }
    case T_SET: return mkBool(colFind(c, x) >= 0);
    case T_OBJECT: {
      const n = colLen(c);
      for (let i = 0; i < n; i++) if (equal(colVal(c, i), x)) return mkBool(true);
      return mkBool(false);
    }
    default: return mkBool(false);
  }
}

/** k, v in coll: coll[k] == v. */
export function b_internal_member_3(k: i32, v: i32, c: i32): i32 {
  const t = tagOf(c);
  if (t != T_ARRAY && t != T_OBJECT && t != T_SET) return mkBool(false);
  const got = valueGet(c, k);
  return mkBool(got != 0 && equal(got, v));
}
