// Arithmetic as OPA's topdown does it: integers are exact (int64, then decimal digits beyond it); any other
// operands go through binary floats with a 64-bit mantissa (bigfloat.ts), except small dyadic values such as
// 0.5 or 2.75, whose float64 result is already that exact answer. Integral results print as integers.
// Errors (division by zero, wrong types) give undefined, as in OPA's wasm target.
import { T_NUMBER, T_SET, N_INT, tagOf, mkInt, mkFloat, numKind, numInt, numF64, numTextPtr, numTextLen, colLen, colKey, mkCollection } from '../value';
import { colFind, colAppendNew } from '../collection';
import { numIsInt, numAsI64, numIsZero } from '../number';
import { bigAdd, bigMul, bigRem } from '../bigint';
import { floatArith, floatAbs, floatToInteger, OP_ADD, OP_SUB, OP_MUL, OP_DIV, TO_ROUND, TO_CEIL, TO_FLOOR } from '../bigfloat';
import { fault, typeFault, FAULT_DIV_ZERO, FAULT_REM_ZERO, FAULT_REM_NOT_INT, WANT_NUMBER, WANT_SET, WANT_NUMBER_OR_SET } from '../faults';

@inline function bothInt(a: i32, b: i32): bool { return numKind(a) == N_INT && numKind(b) == N_INT; }
@inline function isNum(v: i32): bool { return tagOf(v) == T_NUMBER; }

/**
 * A nonzero multiple of 2^-10 below 2^16 in magnitude: its decimal form has at most 15 significant digits, so
 * float64 and a 64-bit mantissa both hold it exactly and print it the same, shortest, way.
 */
@inline function smallDyadic(x: f64): bool {
  const s = x * 1024;
  return x != 0 && Math.abs(x) < 65536 && s == Math.floor(s);
}

/**
 * The number's float64 is its exact value and small dyadic. A text of at most 15 characters that rounds to such
 * a float64 is that float64 exactly (decimals that short lie further apart than float64's rounding).
 */
@inline function smallExact(v: i32): bool {
  if (numTextPtr(v) != 0 && numTextLen(v) > 15) return false;
  if (numKind(v) == N_INT) {
    const i = numInt(v);
    return i > -65536 && i < 65536;
  }
  return smallDyadic(numF64(v));
}

/** The float64 result r of an operation on two smallExact operands, when it is exact and small dyadic; else 0. */
@inline function exactResult(r: f64): i32 {
  return smallDyadic(r) ? mkFloat(r) : 0;
}

export function b_plus(a: i32, b: i32): i32 {
  if (!isNum(a) || !isNum(b)) return numbersFault(a, b);
  if (bothInt(a, b)) {
    const x = numInt(a), y = numInt(b);
    const r = x + y;
    if (((x ^ r) & (y ^ r)) >= 0) return mkInt(r);
  }
  const big = bigAdd(a, b, false);
  if (big != 0) return big;
  if (smallExact(a) && smallExact(b)) {
    const r = exactResult(numF64(a) + numF64(b));
    if (r != 0) return r;
  }
  return floatArith(a, b, OP_ADD, 64);
}

/** Set difference for sets, subtraction for numbers. */
export function b_minus(a: i32, b: i32): i32 {
  if (tagOf(a) == T_SET && tagOf(b) == T_SET) return setDiff(a, b);
  if (!isNum(a) || !isNum(b)) {
    // The first operand decides what the second must be.
    if (isNum(a)) return typeFault(2, WANT_NUMBER);
    return tagOf(a) == T_SET ? typeFault(2, WANT_SET) : typeFault(1, WANT_NUMBER_OR_SET);
  }
  if (bothInt(a, b)) {
    const x = numInt(a), y = numInt(b);
    const r = x - y;
    if (((x ^ y) & (x ^ r)) >= 0) return mkInt(r);
  }
  const big = bigAdd(a, b, true);
  if (big != 0) return big;
  if (smallExact(a) && smallExact(b)) {
    const r = exactResult(numF64(a) - numF64(b));
    if (r != 0) return r;
  }
  return floatArith(a, b, OP_SUB, 64);
}

export function setDiff(a: i32, b: i32): i32 {
  const r = mkCollection(T_SET, 0);
  const n = colLen(a);
  for (let i = 0; i < n; i++) {
    const k = colKey(a, i);
    if (colFind(b, k) < 0) colAppendNew(r, k, 0);
  }
  return r;
}

export function b_mul(a: i32, b: i32): i32 {
  if (!isNum(a) || !isNum(b)) return numbersFault(a, b);
  if (bothInt(a, b)) {
    const x = numInt(a), y = numInt(b);
    const fx = <f64>x * <f64>y;
    if (Math.abs(fx) < 9.0e18) return mkInt(x * y);
  }
  const big = bigMul(a, b);
  if (big != 0) return big;
  if (smallExact(a) && smallExact(b)) {
    // Both are below 2^26 units of 2^-10, so the float64 product is exact.
    const r = exactResult(numF64(a) * numF64(b));
    if (r != 0) return r;
  }
  return floatArith(a, b, OP_MUL, 64);
}

/** Operand 1 or 2 is not a number: a type fault (0 when both are numbers). */
function numbersFault(a: i32, b: i32): i32 {
  return !isNum(a) ? typeFault(1, WANT_NUMBER) : typeFault(2, WANT_NUMBER);
}

export function b_div(a: i32, b: i32): i32 {
  if (!isNum(a) || !isNum(b)) return numbersFault(a, b);
  if (numIsZero(b)) return fault(FAULT_DIV_ZERO);
  if (bothInt(a, b)) {
    const x = numInt(a), y = numInt(b);
    // 0 / y goes on: 0 / -5 is -0, as OPA's float quotient gives it.
    if (y != -1 && x != 0 && x % y == 0) return mkInt(x / y);
  }
  if (smallExact(a) && smallExact(b)) {
    // The quotient is exact when multiplying back (exact for two small dyadics) gives the dividend.
    const q = numF64(a) / numF64(b);
    if (smallDyadic(q) && q * numF64(b) == numF64(a)) return mkFloat(q);
  }
  return floatArith(a, b, OP_DIV, 64);
}

export function b_rem(a: i32, b: i32): i32 {
  if (!isNum(a) || !isNum(b)) return numbersFault(a, b);
  if (!bothInt(a, b)) {
    // Operands beyond int64 (or written as decimals) divide exactly by their digits.
    if (numIsZero(b)) return fault(FAULT_REM_ZERO);
    const big = bigRem(a, b);
    if (big != 0) return big;
  }
  if (!numIsInt(a) || !numIsInt(b)) return fault(FAULT_REM_NOT_INT);
  const y = numAsI64(b);
  if (y == 0) return fault(FAULT_REM_ZERO);
  if (y == -1) return mkInt(0);
  return mkInt(numAsI64(a) % y);
}

/** Beyond int64, |a| is OPA's 64-bit float one (abs(-18446744073709551617) is 18446744073709551616). */
export function b_abs(a: i32): i32 {
  if (!isNum(a)) return 0;
  if (numKind(a) == N_INT && numInt(a) != i64.MIN_VALUE) {
    const x = numInt(a);
    return mkInt(x < 0 ? -x : x);
  }
  if (smallExact(a)) return mkFloat(Math.abs(numF64(a)));
  return floatAbs(a);
}

// An int64 is exact at 64 bits, so it is its own round, ceil and floor; any other number goes through bigfloat.
export function b_round(a: i32): i32 {
  if (!isNum(a)) return 0;
  return numKind(a) == N_INT ? mkInt(numInt(a)) : floatToInteger(a, TO_ROUND);
}

export function b_ceil(a: i32): i32 {
  if (!isNum(a)) return 0;
  return numKind(a) == N_INT ? mkInt(numInt(a)) : floatToInteger(a, TO_CEIL);
}

export function b_floor(a: i32): i32 {
  if (!isNum(a)) return 0;
  return numKind(a) == N_INT ? mkInt(numInt(a)) : floatToInteger(a, TO_FLOOR);
}
