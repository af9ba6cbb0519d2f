// Arithmetic on numbers that are not both integers, as OPA's topdown does it: each operand's decimal text is
// rounded to a binary float with a 64-bit mantissa and an unbounded exponent, the operation is rounded to the
// result's precision (nearest, ties to even), and the result is printed as the shortest decimal that reads back
// to the same float at that precision: in full when integral, otherwise Go's %g (exponent form when the
// decimal exponent is below -4 or at least 6). So 0.1 + 0.2 is 0.3 and 1.1 + 2.2 is 3.3000000000000000002.
// Big integers here are little-endian arrays of u32 limbs on the evaluation heap.
import { alloc } from './heap';
import { N_INT, numKind, numInt, numF64, numTextPtr, numTextLen } from './value';
import { parseNumber, writeF64, writeI64, normaliseText, normSign, normDigits, normLen, normExp } from './number';

// ---- big unsigned integers: (pointer, limb count); counts are trimmed of high zero limbs ----

function bigFromU64(x: u64): i32 {
  const p = alloc(8);
  store<u32>(p, <u32>x);
  store<u32>(p + 4, <u32>(x >> 32));
  return p;
}

@inline function limbs64(x: u64): i32 { return x == 0 ? 0 : (x >> 32) == 0 ? 1 : 2; }

function trim(p: i32, n: i32): i32 {
  while (n > 0 && load<u32>(p + ((n - 1) << 2)) == 0) n--;
  return n;
}

function bitLen(p: i32, n: i32): i32 {
  if (n == 0) return 0;
  return ((n - 1) << 5) + 32 - <i32>clz(load<u32>(p + ((n - 1) << 2)));
}

/** p[0..n) × m + add, in place (p must have room for one more limb); returns the new count. */
function mulSmall(p: i32, n: i32, m: u32, add: u32): i32 {
  let carry: u64 = add;
  for (let i = 0; i < n; i++) {
    const t = <u64>load<u32>(p + (i << 2)) * m + carry;
    store<u32>(p + (i << 2), <u32>t);
    carry = t >> 32;
  }
  if (carry != 0) { store<u32>(p + (n << 2), <u32>carry); n++; }
  return n;
}

/** A fresh copy of p[0..n) shifted left by s bits; its count is in outLen. */
let outLen: i32 = 0;

function shl(p: i32, n: i32, s: i32): i32 {
  const w = s >> 5, b = s & 31;
  const r = alloc(((n + w + 1) << 2));
  memory.fill(r, 0, (n + w + 1) << 2);
  for (let i = 0; i < n; i++) {
    const x = <u64>load<u32>(p + (i << 2)) << b;
    const at = r + ((i + w) << 2);
    store<u32>(at, load<u32>(at) | <u32>x);
    store<u32>(at + 4, <u32>(x >> 32));
  }
  outLen = trim(r, n + w + 1);
  return r;
}

/** Shifts p[0..n) right by one bit in place; returns the new count. */
function shr1(p: i32, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const hi: u32 = i + 1 < n ? load<u32>(p + ((i + 1) << 2)) : 0;
    store<u32>(p + (i << 2), (load<u32>(p + (i << 2)) >> 1) | (hi << 31));
  }
  return trim(p, n);
}

function cmp(a: i32, na: i32, b: i32, nb: i32): i32 {
  if (na != nb) return na < nb ? -1 : 1;
  for (let i = na - 1; i >= 0; i--) {
    const x = load<u32>(a + (i << 2)), y = load<u32>(b + (i << 2));
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/** a -= b in place (a >= b); returns a's new count. */
function sub(a: i32, na: i32, b: i32, nb: i32): i32 {
  let borrow: i64 = 0;
  for (let i = 0; i < na; i++) {
    let t = <i64>load<u32>(a + (i << 2)) - (i < nb ? <i64>load<u32>(b + (i << 2)) : 0) - borrow;
    borrow = t < 0 ? 1 : 0;
    if (t < 0) t += <i64>1 << 32;
    store<u32>(a + (i << 2), <u32>t);
  }
  return trim(a, na);
}

/** a + b into a fresh array; count in outLen. */
function add(a: i32, na: i32, b: i32, nb: i32): i32 {
  const n = (na > nb ? na : nb) + 1;
  const r = alloc(n << 2);
  let carry: u64 = 0;
  for (let i = 0; i < n; i++) {
    const t = (i < na ? <u64>load<u32>(a + (i << 2)) : 0) + (i < nb ? <u64>load<u32>(b + (i << 2)) : 0) + carry;
    store<u32>(r + (i << 2), <u32>t);
    carry = t >> 32;
  }
  outLen = trim(r, n);
  return r;
}

/** 10^k or 5^k as a fresh big integer (count in outLen). */
function power(base: u32, k: i32): i32 {
  const r = alloc(((k * 3) >> 3) + 8 << 2);
  store<u32>(r, 1);
  let n = 1;
  const chunk: u32 = base == 5 ? 1220703125 : 1000000000; // 5^13, 10^9
  const step = base == 5 ? 13 : 9;
  for (; k >= step; k -= step) n = mulSmall(r, n, chunk, 0);
  for (; k > 0; k--) n = mulSmall(r, n, base, 0);
  outLen = n;
  return r;
}

/** Decimal digits of p[0..n) (destroys it), most significant first; count in outLen. */
function toDecimal(p: i32, n: i32): i32 {
  const cap = n * 10 + 10;
  const out = alloc(cap);
  let o = cap;
  while (n > 0) {
    let rem: u64 = 0;
    for (let i = n - 1; i >= 0; i--) {
      const cur = (rem << 32) | <u64>load<u32>(p + (i << 2));
      store<u32>(p + (i << 2), <u32>(cur / 1000000000));
      rem = cur % 1000000000;
    }
    n = trim(p, n);
    for (let j = 0; j < 9 && (n > 0 || rem != 0); j++) {
      store<u8>(out + --o, <u8>(0x30 + <i32>(rem % 10)));
      rem /= 10;
    }
  }
  outLen = cap - o;
  return out + o;
}

// ---- binary floats: value = (-1)^neg × mant × 2^exp, mant with exactly `prec` bits (or 0) ----

let fNeg: bool = false;
let fMant: u64 = 0;
let fExp: i32 = 0;

/** Rounds num/den (positive big integers, den 0 meaning 1) × 2^e2 to prec bits into fMant/fExp. */
function roundQuotient(num: i32, nn: i32, den: i32, nd: i32, e2: i32, prec: i32): void {
  if (nn == 0) { fMant = 0; fExp = 0; return; }
  if (nd == 0) { den = bigFromU64(1); nd = 1; }
  // Scale so that the quotient lies in [2^(prec-1), 2^(prec+1)).
  const s = prec + bitLen(den, nd) - bitLen(num, nn);
  if (s > 0) { num = shl(num, nn, s); nn = outLen; } else if (s < 0) { den = shl(den, nd, -s); nd = outLen; }
  let e = e2 - s;
  let top = shl(den, nd, prec); let nt = outLen;
  if (cmp(num, nn, top, nt) >= 0) { den = shl(den, nd, 1); nd = outLen; top = shl(den, nd, prec); nt = outLen; e++; }
  // Shift-subtract: one quotient bit per step, the remainder left in num.
  let q: u64 = 0;
  let r = alloc((nn + 1) << 2); memory.copy(r, num, nn << 2); let nr = nn;
  for (let j = prec - 1; j >= 0; j--) {
    nt = shr1(top, nt);
    if (cmp(r, nr, top, nt) >= 0) { nr = sub(r, nr, top, nt); q |= <u64>1 << j; }
  }
  // Round to nearest, ties to even, from twice the remainder against the divisor.
  if (nr != 0) {
    const twice = shl(r, nr, 1);
    const c = cmp(twice, outLen, den, nd);
    if (c > 0 || (c == 0 && (q & 1) != 0)) {
      q++;
      if (q == <u64>1 << prec || (prec == 64 && q == 0)) { q = <u64>1 << (prec - 1); e++; }
    }
  }
  fMant = q; fExp = e;
}

/** Loads a number into (neg, mant, exp) at 64 bits of precision, from its integer or decimal text. */
function loadFloat(v: i32): void {
  if (numKind(v) == N_INT) {
    const x = numInt(v);
    fNeg = x < 0;
    const u: u64 = fNeg ? <u64>(-x) : <u64>x;
    if (u == 0) {
      // A literal -0 keeps its sign, as OPA's float of it does (-0 / 5 is -0).
      fNeg = numTextLen(v) > 0 && load<u8>(numTextPtr(v)) == 0x2d;
      fMant = 0; fExp = 0; return;
    }
    const z = <i32>clz(u);
    fMant = u << z; fExp = -z;
    return;
  }
  let p = numTextPtr(v), n = numTextLen(v);
  if (p == 0) {
    // A float64 computed elsewhere reads as OPA reads it: through its shortest text.
    p = alloc(32); n = writeF64(p, numF64(v));
  }
  normaliseText(p, n);
  fNeg = normSign < 0;
  if (normSign == 0) { fMant = 0; fExp = 0; return; }
  // value = 0.D × 10^E = D × 10^(E - len).
  const d = alloc(((normLen + 8) / 9 + 2) << 2);
  let nd = 0;
  for (let i = 0; i < normLen; i++) {
    nd = mulSmall(d, nd, 10, load<u8>(normDigits + i) - 0x30);
  }
  const e10 = normExp - normLen;
  const neg = fNeg;
  if (e10 >= 0) {
    const t = power(10, e10); const nt = outLen;
    const prod = mulBig(d, nd, t, nt);
    roundQuotient(prod, outLen, 0, 0, 0, 64);
  } else {
    const t = power(10, -e10);
    roundQuotient(d, nd, t, outLen, 0, 64);
  }
  fNeg = neg;
}

function mulBig(a: i32, na: i32, b: i32, nb: i32): i32 {
  const n = na + nb + 1;
  const r = alloc(n << 2);
  memory.fill(r, 0, n << 2);
  for (let i = 0; i < na; i++) {
    let carry: u64 = 0;
    const x = <u64>load<u32>(a + (i << 2));
    for (let j = 0; j < nb; j++) {
      const at = r + ((i + j) << 2);
      const t = x * <u64>load<u32>(b + (j << 2)) + <u64>load<u32>(at) + carry;
      store<u32>(at, <u32>t);
      carry = t >> 32;
    }
    store<u32>(r + ((i + nb) << 2), <u32>carry);
  }
  outLen = trim(r, n);
  return r;
}

export const OP_ADD: i32 = 0;
export const OP_SUB: i32 = 1;
export const OP_MUL: i32 = 2;
export const OP_DIV: i32 = 3;

/** a op b rounded to prec bits, as a number value printed as OPA prints it. The caller rules out b = 0 for OP_DIV. */
export function floatArith(a: i32, b: i32, op: i32, prec: i32): i32 {
  loadFloat(a);
  const an = fNeg, am = fMant, ae = fExp;
  loadFloat(b);
  const bn = op == OP_SUB ? !fNeg : fNeg, bm = fMant, be = fExp;
  if (op == OP_MUL || op == OP_DIV) {
    fNeg = an != bn;
    if (am == 0) { fMant = 0; fExp = 0; return floatValue(prec); }
    if (op == OP_MUL) {
      const p = mulBig(bigFromU64(am), limbs64(am), bigFromU64(bm), limbs64(bm));
      roundQuotient(p, outLen, 0, 0, ae + be, prec);
    } else {
      roundQuotient(bigFromU64(am), limbs64(am), bigFromU64(bm), limbs64(bm), ae - be, prec);
    }
    return floatValue(prec);
  }
  if (am == 0 || bm == 0) {
    // x + 0 is x rounded to the result's precision.
    fNeg = am == 0 ? bn : an;
    const m = am == 0 ? bm : am, e = am == 0 ? be : ae;
    if (m == 0) { fNeg = an && bn; fMant = 0; fExp = 0; return floatValue(prec); }
    const neg = fNeg;
    roundQuotient(bigFromU64(m), limbs64(m), 0, 0, e, prec);
    fNeg = neg;
    return floatValue(prec);
  }
  // Exact sum at the smaller exponent, then one rounding.
  const e = ae < be ? ae : be;
  const x = shl(bigFromU64(am), limbs64(am), ae - e); const nx = outLen;
  const y = shl(bigFromU64(bm), limbs64(bm), be - e); const ny = outLen;
  if (an == bn) {
    const s = add(x, nx, y, ny);
    fNeg = an;
    roundQuotient(s, outLen, 0, 0, e, prec);
    fNeg = an;
  } else {
    const c = cmp(x, nx, y, ny);
    if (c == 0) { fNeg = false; fMant = 0; fExp = 0; return floatValue(prec); }
    const neg = c > 0 ? an : bn;
    const nd = c > 0 ? sub(x, nx, y, ny) : sub(y, ny, x, nx);
    roundQuotient(c > 0 ? x : y, nd, 0, 0, e, prec);
    fNeg = neg;
  }
  return floatValue(prec);
}

/** |a| at 64 bits, printed as OPA prints it (abs(-1e400) is written out in full). */
export function floatAbs(a: i32): i32 {
  loadFloat(a);
  fNeg = false;
  return floatValue(64);
}

// ---- printing ----

/** Exact decimal digits of m × 2^e (m a big integer): digits in outLen, decimal exponent (value = D × 10^x) in decExp. */
let decExp: i32 = 0;

function exactDecimal(m: i32, nm: i32, e: i32): i32 {
  if (e >= 0) {
    const s = shl(m, nm, e);
    decExp = 0;
    return trimZeros(toDecimal(s, outLen));
  }
  const f = power(5, -e); const nf = outLen;
  const p = mulBig(m, nm, f, nf);
  decExp = e;
  return trimZeros(toDecimal(p, outLen));
}

/** Drops trailing zero digits of d[0..outLen), raising decExp for each. */
function trimZeros(d: i32): i32 {
  while (outLen > 1 && load<u8>(d + outLen - 1) == 0x30) { outLen--; decExp++; }
  return d;
}

/** The digit at decimal position `pos` (10^pos) of digits d[0..n) with exponent x, '0' outside. */
@inline function digitAt(d: i32, n: i32, x: i32, pos: i32): i32 {
  const i = n - 1 - (pos - x);
  return i >= 0 && i < n ? load<u8>(d + i) : 0x30;
}

/** The number value of (fNeg, fMant, fExp) at prec bits, its text the shortest decimal that reads back. */
function floatValue(prec: i32): i32 {
  if (fMant == 0) return parseNumber(fNeg ? NEG_ZERO : NEG_ZERO + 1, fNeg ? 2 : 1, true);
  // Normalise: the mantissa's trailing zero bits move into the exponent, so small values stay small.
  let m = fMant, e = fExp;
  const tz = <i32>ctz(m);
  m >>= tz; e += tz;
  if (e >= 0 && e + 64 - <i32>clz(m) <= (prec < 63 ? prec : 63)) {
    // An integer below 2^prec (ulp at most 1) that fits int64 prints exactly.
    const x = <i64>(m << e);
    return parseNumberFresh(fNeg ? -x : x);
  }
  // The value v = M × 2^E with M = fMant (prec bits); the bounds lie half an ulp either side. They read back
  // to v themselves only when M is even (ties go to even).
  const M = fMant, E = fExp;
  const vd = exactDecimal(bigFromU64(M), limbs64(M), E); const vn = outLen, vx = decExp;
  const inclusive = (M & 1) == 0;
  const twice = shl(bigFromU64(M), limbs64(M), 1); const n2 = outLen;
  const one = bigFromU64(1);
  const upper = add(twice, n2, one, 1); const nUpper = outLen;
  const nLower = sub(twice, n2, one, 1);
  const ud = exactDecimal(upper, nUpper, E - 1); const un = outLen, ux = decExp;
  const ld = exactDecimal(twice, nLower, E - 1); const ln = outLen, lx = decExp;
  // Walk from the upper bound's leading position down until v's digits leave both bounds (Steele & White).
  const hi = ux + un - 1;
  const buf = alloc(hi - vx + 2);
  let nb = 0;
  let roundUp = false;
  for (let pos = hi; pos >= vx; pos--) {
    const l = digitAt(ld, ln, lx, pos), d = digitAt(vd, vn, vx, pos), u = digitAt(ud, un, ux, pos);
    store<u8>(buf + nb++, <u8>d);
    const okDown = l != d || (inclusive && pos == lx);
    const okUp = d != u && (inclusive || d + 1 < u || pos > ux);
    if (okDown && okUp) {
      // Either candidate reads back: take the nearer, by the rest of v's digits (a tie to even).
      const next = digitAt(vd, vn, vx, pos - 1);
      let restNonZero = false;
      for (let q = pos - 2; q >= vx && !restNonZero; q--) restNonZero = digitAt(vd, vn, vx, q) != 0x30;
      roundUp = next > 0x35 || (next == 0x35 && (restNonZero || (d & 1) != 0));
      break;
    }
    if (okDown) break;
    if (okUp) { roundUp = true; break; }
  }
  // buf holds the digits from position hi down; a carry out of the top adds a digit at hi + 1.
  let topPos = hi;
  if (roundUp) {
    let i = nb - 1;
    while (i >= 0 && load<u8>(buf + i) == 0x39) { store<u8>(buf + i, 0x30); i--; }
    if (i >= 0) store<u8>(buf + i, load<u8>(buf + i) + 1);
    else { memory.copy(buf + 1, buf, nb); store<u8>(buf, 0x31); nb++; topPos++; }
  }
  let s = 0;
  while (s < nb - 1 && load<u8>(buf + s) == 0x30) s++;
  let n = nb - s;
  while (n > 1 && load<u8>(buf + s + n - 1) == 0x30) n--;
  return formatG(buf + s, n, topPos - s + 1, e >= 0);
}

const NEG_ZERO: i32 = <i32>memory.data<u8>([0x2d, 0x30]);

function parseNumberFresh(x: i64): i32 {
  const p = alloc(24);
  return parseNumber(p, writeI64(p, x), true);
}

/** Go's %g for the shortest digits (or %f for an integer): digits d[0..n), value 0.d × 10^dp. */
function formatG(d: i32, n: i32, dp: i32, integral: bool): i32 {
  const out = alloc(n + (dp > 0 ? dp : -dp) + 16);
  let o = 0;
  if (fNeg) store<u8>(out + o++, 0x2d);
  const x = dp - 1;
  if (!integral && (x < -4 || x >= 6)) {
    store<u8>(out + o++, load<u8>(d));
    if (n > 1) { store<u8>(out + o++, 0x2e); memory.copy(out + o, d + 1, n - 1); o += n - 1; }
    store<u8>(out + o++, 0x65);
    store<u8>(out + o++, x < 0 ? 0x2d : 0x2b);
    const ax = x < 0 ? -x : x;
    if (ax < 10) store<u8>(out + o++, 0x30);
    o += writeI64(out + o, ax);
  } else if (dp <= 0) {
    store<u8>(out + o++, 0x30); store<u8>(out + o++, 0x2e);
    memory.fill(out + o, 0x30, -dp); o += -dp;
    memory.copy(out + o, d, n); o += n;
  } else {
    const whole = n < dp ? n : dp;
    memory.copy(out + o, d, whole); o += whole;
    if (dp > n) { memory.fill(out + o, 0x30, dp - n); o += dp - n; }
    if (n > dp) { store<u8>(out + o++, 0x2e); memory.copy(out + o, d + dp, n - dp); o += n - dp; }
  }
  return parseNumber(out, o, true);
}

// ---- product: OPA multiplies into an accumulator of float64's precision (53 bits) once a float is involved ----

let pNeg: bool = false;
let pMant: u64 = 0;
let pExp: i32 = 0;

export function productStart(): void {
  pNeg = false; pMant = <u64>1 << 52; pExp = -52;
}

export function productTimes(x: i32): void {
  loadFloat(x);
  pNeg = pNeg != fNeg;
  if (pMant == 0 || fMant == 0) { pMant = 0; pExp = 0; return; }
  const p = mulBig(bigFromU64(pMant), limbs64(pMant), bigFromU64(fMant), limbs64(fMant));
  roundQuotient(p, outLen, 0, 0, pExp + fExp, 53);
  pMant = fMant; pExp = fExp;
}

export function productValue(): i32 {
  fNeg = pNeg; fMant = pMant; fExp = pExp;
  return floatValue(53);
}

// ---- round, ceil, floor: OPA takes the operand at 64 bits and answers an exact integer, printed in full ----

export const TO_ROUND: i32 = 0;
export const TO_CEIL: i32 = 1;
export const TO_FLOOR: i32 = 2;

/**
 * round (half away from zero: |a| + 1/2 rounded to 64 bits, then truncated), ceil or floor of a. As in OPA, ceil
 * and floor step away from the truncated value by its sign, and the sign of a truncated 0 is +: ceil(-0.5) is 1
 * and floor(-0.5) is 0.
 */
export function floatToInteger(a: i32, mode: i32): i32 {
  loadFloat(a);
  const neg = fNeg;
  let m = fMant, e = fExp;
  if (m == 0) return parseNumberFresh(0);
  if (mode == TO_ROUND) {
    const lo = e < -1 ? e : -1;
    const x = shl(bigFromU64(m), limbs64(m), e - lo); const nx = outLen;
    const half = shl(bigFromU64(1), 1, -1 - lo); const nh = outLen;
    const s = add(x, nx, half, nh);
    roundQuotient(s, outLen, 0, 0, lo, 64);
    m = fMant; e = fExp;
  }
  // t = |a| truncated; exact when nothing was cut off.
  let t: i32, nt: i32, exact: bool;
  if (e >= 0) { t = shl(bigFromU64(m), limbs64(m), e); nt = outLen; exact = true; }
  else if (e <= -64) { t = 0; nt = 0; exact = false; }
  else { const q = m >> <u64>(-e); exact = (q << <u64>(-e)) == m; t = bigFromU64(q); nt = limbs64(q); }
  const tNeg = neg && nt != 0;
  const step = !exact && ((mode == TO_CEIL && !tNeg) || (mode == TO_FLOOR && tNeg));
  if (step) { t = add(t, nt, bigFromU64(1), 1); nt = outLen; }
  return integerValue(tNeg || (step && mode == TO_FLOOR), t, nt);
}

/** The number value ±p[0..n), printed in full. */
function integerValue(neg: bool, p: i32, n: i32): i32 {
  if (n <= 2) {
    const x = n == 0 ? <u64>0 : n == 1 ? <u64>load<u32>(p) : <u64>load<u32>(p) | (<u64>load<u32>(p + 4) << 32);
    if (x <= <u64>i64.MAX_VALUE) return parseNumberFresh(neg ? -<i64>x : <i64>x);
  }
  const d = toDecimal(p, n); const nd = outLen;
  const out = alloc(nd + 1);
  if (neg) store<u8>(out, 0x2d);
  memory.copy(out + (neg ? 1 : 0), d, nd);
  return parseNumber(out, nd + (neg ? 1 : 0), true);
}

// ---- the float64 range, for to_number: Go's ParseFloat overflows from 2^1024 - 2^970 (half an ulp above the
// largest float64, where rounding goes to infinity) ----

/** |v| (a number with text) reaches 2^1024 - 2^970, by its exact decimal value. */
export function beyondFloat64(v: i32): bool {
  const f = numF64(v);
  if (Math.abs(f) < 1.797693134862315e308) return false;
  const t = shl(bigFromU64((<u64>1 << 54) - 1), 2, 970);
  const td = toDecimal(t, outLen); const tn = outLen;
  let p = numTextPtr(v), n = numTextLen(v);
  if (p == 0) { p = alloc(32); n = writeF64(p, f); }
  normaliseText(p, n);
  if (normExp != tn) return normExp > tn;
  const m = normLen < tn ? normLen : tn;
  for (let i = 0; i < m; i++) {
    const x = load<u8>(normDigits + i), y = load<u8>(td + i);
    if (x != y) return x > y;
  }
  return normLen >= tn;
}
