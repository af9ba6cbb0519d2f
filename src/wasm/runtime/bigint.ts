// Exact integer arithmetic on decimal digit strings, for results beyond int64 (OPA's numbers are
// arbitrary precision). Operands are integral numbers: int64 values or literals such as
// 28857836529306024611913 or 1e30. Results keep their digits as the number's text.
import { alloc } from './heap';
import { numKind, numInt, numF64, numTextPtr, numTextLen, N_INT } from './value';
import { writeI64, parseNumber, normaliseText, normSign, normDigits, normLen, normExp } from './number';

// Operand digits: most significant first, no leading zeros ("0" is the empty string).
let sign: i32 = 0;
let digits: i32 = 0;
let len: i32 = 0;

// OPA's numbers stop below 2^100000, about 30103 digits.
const MAX_DIGITS: i32 = 30103;

/**
 * Loads v's integer value into (sign, digits, len); false if v is not an integer we can hold. As in OPA, an
 * integral value is an integer however it is written (1e30 + 1 is exact).
 */
function loadInteger(v: i32): bool {
  if (numTextPtr(v) == 0) {
    if (numKind(v) != N_INT) return false;
    const buf = alloc(24);
    const x = numInt(v);
    const n = writeI64(buf, x);
    sign = x < 0 ? -1 : x > 0 ? 1 : 0;
    digits = x < 0 ? buf + 1 : buf;
    len = x == 0 ? 0 : (x < 0 ? n - 1 : n);
    return true;
  }
  normaliseText(numTextPtr(v), numTextLen(v));
  if (normSign == 0) { sign = 0; len = 0; digits = 0; return true; }
  if (normExp < normLen || normExp > MAX_DIGITS) return false; // fractional, or absurdly large
  const buf = alloc(normExp);
  memory.copy(buf, normDigits, normLen);
  memory.fill(buf + normLen, 0x30, normExp - normLen);
  sign = normSign; digits = buf; len = normExp;
  return true;
}

/** The number is an integer (2.0 and 1e30 are), beyond int64 too. */
export function isIntegral(v: i32): bool {
  if (numKind(v) == N_INT) return true;
  if (numTextPtr(v) == 0) {
    const f = numF64(v);
    return f == Math.floor(f);
  }
  normaliseText(numTextPtr(v), numTextLen(v));
  return normSign == 0 || normExp >= normLen;
}

function cmpMag(a: i32, la: i32, b: i32, lb: i32): i32 {
  if (la != lb) return la < lb ? -1 : 1;
  for (let i = 0; i < la; i++) {
    const x = load<u8>(a + i), y = load<u8>(b + i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

// Result buffer, written from the least significant digit backwards.
function addMag(a: i32, la: i32, b: i32, lb: i32, out: i32, cap: i32): i32 {
  let carry = 0, o = cap;
  for (let i = 0; i < la || i < lb || carry != 0; i++) {
    const x = i < la ? load<u8>(a + la - 1 - i) - 0x30 : 0;
    const y = i < lb ? load<u8>(b + lb - 1 - i) - 0x30 : 0;
    const s = x + y + carry;
    store<u8>(out + --o, <u8>(0x30 + s % 10));
    carry = s / 10;
  }
  return o;
}

/** |a| - |b| with |a| >= |b|. */
function subMag(a: i32, la: i32, b: i32, lb: i32, out: i32, cap: i32): i32 {
  let borrow = 0, o = cap;
  for (let i = 0; i < la; i++) {
    // In i32: u8 arithmetic would wrap below zero and hide the borrow.
    let d = (<i32>load<u8>(a + la - 1 - i) - 0x30) - (i < lb ? <i32>load<u8>(b + lb - 1 - i) - 0x30 : 0) - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 10;
    store<u8>(out + --o, <u8>(0x30 + d));
  }
  while (o < cap - 1 && load<u8>(out + o) == 0x30) o++;
  return o;
}

/** Builds the number value for sign and digits [p, p+n). */
function result(s: i32, p: i32, n: i32): i32 {
  if (n == 0 || s == 0 || (n == 1 && load<u8>(p) == 0x30)) return parseNumber(ZERO, 1, false);
  const t = alloc(n + 1);
  let o = 0;
  if (s < 0) store<u8>(t + o++, 0x2d);
  memory.copy(t + o, p, n);
  return parseNumber(t, n + o, true);
}

const ZERO: i32 = <i32>memory.data<u8>([0x30]);

function addSigned(sa: i32, a: i32, la: i32, sb: i32, b: i32, lb: i32): i32 {
  const cap = (la > lb ? la : lb) + 2;
  const out = alloc(cap);
  if (sa == 0) return result(sb, b, lb);
  if (sb == 0) return result(sa, a, la);
  if (sa == sb) {
    const o = addMag(a, la, b, lb, out, cap);
    return result(sa, out + o, cap - o);
  }
  const c = cmpMag(a, la, b, lb);
  if (c == 0) return result(0, 0, 0);
  const o = c > 0 ? subMag(a, la, b, lb, out, cap) : subMag(b, lb, a, la, out, cap);
  return result(c > 0 ? sa : sb, out + o, cap - o);
}

/** x + y, x - y, x * y exactly; 0 when an operand is not an integer this can hold. */
export function bigAdd(x: i32, y: i32, negateY: bool): i32 {
  if (!loadInteger(x)) return 0;
  const sa = sign, a = digits, la = len;
  if (!loadInteger(y)) return 0;
  return addSigned(sa, a, la, negateY ? -sign : sign, digits, len);
}

export function bigMul(x: i32, y: i32): i32 {
  if (!loadInteger(x)) return 0;
  const sa = sign, a = digits, la = len;
  if (!loadInteger(y)) return 0;
  if (sa == 0 || sign == 0) return result(0, 0, 0);
  if (la + len > MAX_DIGITS + 1) return 0; // beyond OPA's range: not worth the quadratic work
  const n = la + len;
  const acc = alloc(n << 2);
  memory.fill(acc, 0, n << 2);
  for (let i = la - 1; i >= 0; i--) {
    const x1 = load<u8>(a + i) - 0x30;
    for (let j = len - 1; j >= 0; j--) {
      const at = acc + ((i + j + 1) << 2);
      store<i32>(at, load<i32>(at) + x1 * (load<u8>(digits + j) - 0x30));
    }
  }
  for (let k = n - 1; k > 0; k--) {
    const at = acc + (k << 2);
    const v = load<i32>(at);
    store<i32>(at, v % 10);
    store<i32>(acc + ((k - 1) << 2), load<i32>(acc + ((k - 1) << 2)) + v / 10);
  }
  const out = alloc(n);
  for (let k = 0; k < n; k++) store<u8>(out + k, <u8>(0x30 + load<i32>(acc + (k << 2))));
  let o = 0;
  while (o < n - 1 && load<u8>(out + o) == 0x30) o++;
  return result(sa * sign, out + o, n - o);
}

/** Digits [p, p+n) without leading zeros ("0" becomes the empty string). */
function trimmed(p: i32, n: i32): i32 {
  let o = 0;
  while (o < n && load<u8>(p + o) == 0x30) o++;
  return o;
}

/**
 * x % y with the sign of x (Go's big.Int Rem, as OPA's modulo); 0 when an operand is not an integer this can
 * hold or y is zero. Long division, one decimal digit of the quotient at a time.
 */
export function bigRem(x: i32, y: i32): i32 {
  if (!loadInteger(x)) return 0;
  const sa = sign, a = digits, la = len;
  if (!loadInteger(y) || sign == 0) return 0;
  const b = digits, lb = len;
  // The running remainder, one digit wider than the divisor, most significant first.
  const cap = lb + 1;
  const r = alloc(cap);
  const t = alloc(cap);
  memory.fill(r, 0x30, cap);
  for (let i = 0; i < la; i++) {
    memory.copy(r, r + 1, cap - 1);
    store<u8>(r + cap - 1, load<u8>(a + i));
    // Subtract the divisor while the remainder holds it (at most nine times).
    for (;;) {
      const z = trimmed(r, cap);
      if (cmpMag(r + z, cap - z, b, lb) < 0) break;
      const o = subMag(r + z, cap - z, b, lb, t, cap);
      memory.fill(r, 0x30, o);
      memory.copy(r + o, t + o, cap - o);
    }
  }
  const z = trimmed(r, cap);
  return result(sa, r + z, cap - z);
}

/**
 * The integer part of x (truncated towards zero) in base 2, 8, 10 or 16 with lower-case digits, written at a
 * fresh buffer; its length is in formattedLen. 0 when x is beyond what this can hold.
 */
export let formattedLen: i32 = 0;

export function bigFormat(x: i32, base: i32): i32 {
  if (!loadTruncated(x)) return 0;
  // Repeated division of the decimal digits by the base, collecting remainders least significant first.
  const work = alloc(len + 1);
  memory.copy(work, digits, len);
  let n = len;
  const cap = len * 4 + 2;
  const out = alloc(cap);
  let o = cap;
  do {
    let rem = 0, w = 0;
    for (let i = 0; i < n; i++) {
      const cur = rem * 10 + (load<u8>(work + i) - 0x30);
      const q = cur / base;
      rem = cur % base;
      if (w > 0 || q != 0) store<u8>(work + w++, <u8>(0x30 + q));
    }
    n = w;
    store<u8>(out + --o, <u8>(rem < 10 ? 0x30 + rem : 0x57 + rem));
  } while (n > 0);
  if (sign < 0) store<u8>(out + --o, 0x2d);
  formattedLen = cap - o;
  return out + o;
}

/** Loads x's value truncated towards zero, as loadInteger does for integers (computed fractions: false). */
function loadTruncated(x: i32): bool {
  if (loadInteger(x)) return true;
  if (numTextPtr(x) == 0) return false;
  normaliseText(numTextPtr(x), numTextLen(x));
  if (normExp > MAX_DIGITS) return false;
  if (normSign == 0 || normExp <= 0) { sign = 0; len = 0; digits = 0; return true; }
  const whole = normExp < normLen ? normExp : normLen;
  const buf = alloc(normExp);
  memory.copy(buf, normDigits, whole);
  memory.fill(buf + whole, 0x30, normExp - whole);
  sign = normSign; digits = buf; len = normExp;
  return true;
}
