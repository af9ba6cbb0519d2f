// Number literals and printing. Literals keep their text so values coming from JSON or the
// policy print exactly as written (OPA keeps json.Number text); arithmetic results print as
// integers when integral, otherwise as the shortest round-tripping decimal.
import { dtoa_buffered } from 'util/number';
import { alloc, allocData, allocZeroed } from './heap';
import { T_NUMBER, N_INT, N_FLOAT, mkDataNumber, numKind, numInt, numF64, numTextPtr, numTextLen } from './value';

const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

function scale(m: f64, e: i32): f64 {
  if (e == 0) return m;
  if (e > 0) {
    while (e > 22) { m *= 1e22; e -= 22; }
    return m * POW10[e];
  }
  e = -e;
  while (e > 22) { m /= 1e22; e -= 22; }
  return m / POW10[e];
}

// OPA refuses numbers whose binary exponent (value = m × 2^e, 0.5 <= m < 1) lies outside [-100000, 100000]:
// json.unmarshal and to_number of such text are undefined.
const LOG2_10: f64 = 3.321928094887362;

function inBinaryRange(mant: u64, exp10: i32): bool {
  const log2 = Math.log2(<f64>mant) + <f64>exp10 * LOG2_10;
  return log2 < 100000 && log2 >= -100001;
}

/**
 * Parses a JSON number at [p, p+n). Returns 0 if the text is not a JSON number.
 * The value keeps a pointer to the text, which must outlive it (input text, static data, heap).
 */
export function parseNumber(p: i32, n: i32, keepText: bool, strict: bool = true, copyText: bool = false): i32 {
  let i = 0;
  let neg = false;
  if (i < n && load<u8>(p + i) == 0x2d) { neg = true; i++; }
  if (i >= n) return 0;
  let mant: u64 = 0;
  let digits = 0;     // significant digits accumulated in mant
  let dropped = 0;    // integer digits beyond u64 precision
  let exp10 = 0;
  let isInt = true;
  let c = load<u8>(p + i);
  if (c == 0x30) {
    i++;
  } else if (c == 0x2e && !strict) {
    // Rego literals such as .5 (the planner passes their source text).
  } else if (c >= 0x31 && c <= 0x39) {
    while (i < n) {
      c = load<u8>(p + i);
      if (c < 0x30 || c > 0x39) break;
      if (digits < 19) { mant = mant * 10 + <u64>(c - 0x30); digits++; } else dropped++;
      i++;
    }
  } else return 0;
  if (i < n && load<u8>(p + i) == 0x2e) {
    i++;
    isInt = false;
    const start = i;
    while (i < n) {
      c = load<u8>(p + i);
      if (c < 0x30 || c > 0x39) break;
      if (digits < 19) { mant = mant * 10 + <u64>(c - 0x30); if (mant != 0) digits++; exp10--; }
      i++;
    }
    if (i == start) return 0;
  }
  if (i < n && (load<u8>(p + i) | 0x20) == 0x65) {
    i++;
    isInt = false;
    let eneg = false;
    if (i < n && (load<u8>(p + i) == 0x2b || load<u8>(p + i) == 0x2d)) { eneg = load<u8>(p + i) == 0x2d; i++; }
    const start = i;
    let e = 0;
    while (i < n) {
      c = load<u8>(p + i);
      if (c < 0x30 || c > 0x39) break;
      if (e < 100000) e = e * 10 + (c - 0x30);
      i++;
    }
    if (i == start) return 0;
    exp10 += eneg ? -e : e;
  }
  if (i != n) return 0;
  exp10 += dropped;
  if ((exp10 > 30000 || exp10 < -30000) && mant != 0 && !inBinaryRange(mant, exp10)) return 0;
  let kind = N_INT;
  let bits: i64 = 0;
  if (exp10 == 0 && dropped == 0 && (mant <= <u64>i64.MAX_VALUE || (neg && mant == <u64>1 << 63))) {
    bits = neg ? -<i64>mant : <i64>mant;
  } else {
    let f = scale(<f64>mant, exp10);
    if (neg) f = -f;
    // Integral decimals (1.0, 1e2) act as integers; an underflow to zero (1e-400) must not.
    if (!isInt && f == Math.floor(f) && Math.abs(f) < 9.007199254740992e15 && (f != 0 || mant == 0)) {
      bits = <i64>f;
    } else {
      kind = N_FLOAT;
      bits = reinterpret<i64>(f);
    }
  }
  if (keepText && copyText) {
    // A detached value keeps no pointer into the source: an integer written as it prints (no fraction, no
    // exponent, not -0) needs no text at all; any other text is copied, after the number.
    if (isInt && exp10 == 0 && dropped == 0 && !(neg && mant == 0) && kind == N_INT) return mkDataNumber(kind, bits);
    const v = allocData(24 + n);
    memory.copy(v + 24, p, n);
    p = v + 24;
    return numberRecord(v, kind, bits, p, n);
  }
  return numberRecord(alloc(24), kind, bits, keepText ? p : 0, keepText ? n : 0);
}

function numberRecord(v: i32, kind: i32, bits: i64, text: i32, textLen: i32): i32 {
  store<i32>(v, T_NUMBER);
  store<i32>(v, kind, 4);
  store<i64>(v, bits, 8);
  store<i32>(v, text, 16);
  store<i32>(v, textLen, 20);
  return v;
}

/** Writes the decimal digits of n at out; returns the number of bytes. */
export function writeI64(out: i32, n: i64): i32 {
  let u: u64 = n < 0 ? <u64>(-n) : <u64>n;
  let tmp = out;
  if (n < 0) { store<u8>(tmp, 0x2d); tmp++; }
  let digits = 1;
  let t = u;
  while (t >= 10) { t /= 10; digits++; }
  for (let i = digits - 1; i >= 0; i--) {
    store<u8>(tmp + i, <u8>(0x30 + <i32>(u % 10)));
    u /= 10;
  }
  return (tmp - out) + digits;
}

let scratch: i32 = 0;

/** Writes the shortest round-tripping form of f at out (at most 32 bytes); returns the length. */
export function writeF64(out: i32, f: f64): i32 {
  const n = <i32>dtoa_buffered(scratch, f);
  for (let i = 0; i < n; i++) store<u8>(out + i, <u8>load<u16>(scratch + (i << 1)));
  // JS prints exponents like 1e-7 and 1e+21; Go's strconv 'g' pads to two digits: 1e-07, 1e+21.
  return n;
}

/** Prints a number value at out (needs up to 32 bytes, or the literal's length); returns length. */
export function writeNumber(out: i32, v: i32): i32 {
  const tp = numTextPtr(v);
  if (tp != 0) {
    const tl = numTextLen(v);
    memory.copy(out, tp, tl);
    return tl;
  }
  if (numKind(v) == N_INT) return writeI64(out, numInt(v));
  return writeF64(out, numF64(v));
}

export function numberPrintSize(v: i32): i32 {
  return numTextPtr(v) != 0 ? numTextLen(v) : 32;
}

/** True when the number is an integer; its value is then in *out (an i64 slot). */
export function numIsInt(v: i32): bool {
  if (numKind(v) == N_INT) return true;
  const f = numF64(v);
  return f == Math.floor(f) && Math.abs(f) < 9.2e18;
}

/** The number is zero; 1e-400, which float64 cannot hold, is not. */
export function numIsZero(v: i32): bool {
  if (numKind(v) == N_INT) return numInt(v) == 0;
  if (numF64(v) != 0) return false;
  const p = numTextPtr(v);
  if (p == 0) return true;
  normalise(p, numTextLen(v));
  return normSign == 0;
}

export function numAsI64(v: i32): i64 {
  return numKind(v) == N_INT ? numInt(v) : <i64>numF64(v);
}

// ---- exact comparison of decimal literals, for numbers float64 cannot tell apart ----
// A number's text is normalised to sign, significant digits and exponent: value = ±0.D × 10^E.
export let normSign: i32 = 0;
export let normDigits: i32 = 0;
export let normLen: i32 = 0;
export let normExp: i32 = 0;

export function normaliseText(p: i32, n: i32): void { normalise(p, n); }

function normalise(p: i32, n: i32): void {
  let i = 0;
  normSign = 1;
  if (i < n && load<u8>(p + i) == 0x2d) { normSign = -1; i++; }
  const digits = alloc(n);
  let len = 0, exp = 0, seenPoint = false, leading = true;
  for (; i < n; i++) {
    const c = load<u8>(p + i);
    if (c == 0x2e) { seenPoint = true; continue; }
    if (c < 0x30 || c > 0x39) break;
    if (leading && c == 0x30) { if (seenPoint) exp--; continue; }
    leading = false;
    store<u8>(digits + len++, c);
    if (!seenPoint) exp++;
  }
  if (i < n && (load<u8>(p + i) | 0x20) == 0x65) {
    i++;
    let neg = false;
    if (i < n && (load<u8>(p + i) == 0x2d || load<u8>(p + i) == 0x2b)) { neg = load<u8>(p + i) == 0x2d; i++; }
    let e = 0;
    for (; i < n; i++) if (e < 100000000) e = e * 10 + (load<u8>(p + i) - 0x30);
    exp += neg ? -e : e;
  }
  while (len > 0 && load<u8>(digits + len - 1) == 0x30) len--;
  if (len == 0) { normSign = 0; exp = 0; }
  normDigits = digits; normLen = len; normExp = exp;
}

function numberText(v: i32): i32 {
  if (numTextPtr(v) != 0) return 0;
  const buf = alloc(32);
  const n = numKind(v) == N_INT ? writeI64(buf, numInt(v)) : writeF64(buf, numF64(v));
  store<i32>(buf + 28, n);
  return buf;
}

/** Exact order of two numbers by their decimal text (literal text, or printed form when computed). */
export function compareDecimal(a: i32, b: i32): i32 {
  const ta = numberText(a), tb = numberText(b);
  normalise(ta != 0 ? ta : numTextPtr(a), ta != 0 ? load<i32>(ta + 28) : numTextLen(a));
  const sa = normSign, da = normDigits, la = normLen, ea = normExp;
  normalise(tb != 0 ? tb : numTextPtr(b), tb != 0 ? load<i32>(tb + 28) : numTextLen(b));
  const sb = normSign, db = normDigits, lb = normLen, eb = normExp;
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  let c = 0;
  if (ea != eb) c = ea < eb ? -1 : 1;
  else {
    const m = la < lb ? la : lb;
    for (let i = 0; i < m && c == 0; i++) {
      const x = load<u8>(da + i), y = load<u8>(db + i);
      if (x != y) c = x < y ? -1 : 1;
    }
    if (c == 0 && la != lb) c = la < lb ? -1 : 1;
  }
  return sa < 0 ? -c : c;
}

/** Allocates this module's scratch space, one per instance (region.ts). */
export function numberStaticsInit(): void {
  scratch = allocZeroed(64);
}
