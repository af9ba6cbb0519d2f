// Comparison builtins: equal, neq, lt, lte, gt, gte over OPA's total order.
import { compare, equal } from '../compare';
import { mkBool } from '../value';

export function b_equal(a: i32, b: i32): i32 { return mkBool(equal(a, b)); }
export function b_neq(a: i32, b: i32): i32 { return mkBool(!equal(a, b)); }
export function b_lt(a: i32, b: i32): i32 { return mkBool(compare(a, b) < 0); }
export function b_lte(a: i32, b: i32): i32 { return mkBool(compare(a, b) <= 0); }
export function b_gt(a: i32, b: i32): i32 { return mkBool(compare(a, b) > 0); }
export function b_gte(a: i32, b: i32): i32 { return mkBool(compare(a, b) >= 0); }
