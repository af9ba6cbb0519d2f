// sprintf(format, values) with Go's fmt semantics for the argument kinds OPA passes: integers
// (int64 or big, from integer literals and integral results), float64, strings, and any other
// value as its Rego text (a string). Implemented here because the SDK's own JS sprintf would
// otherwise win over a host builtin of the same name, and it is not Go-compatible.
import { dtoa_buffered } from 'util/number';
import { T_NUMBER, T_STRING, T_ARRAY, N_INT, tagOf, mkString, arrLen, arrGet, strLen, strPtr, numKind, numInt, numF64, numTextPtr, numTextLen } from '../value';
import { alloc, allocZeroed } from '../heap';
import { writeI64 } from '../number';
import { regoText } from '../json';
import { utf8Width } from '../ops';

const K_INT: i32 = 0, K_BIG: i32 = 1, K_FLOAT: i32 = 2, K_STR: i32 = 3;

let out: i32 = 0, outLen: i32 = 0, outCap: i32 = 0;

function reserve(n: i32): void {
  if (outLen + n <= outCap) return;
  const ncap = (outCap << 1) > outLen + n ? outCap << 1 : outLen + n + 64;
  const nb = alloc(ncap);
  memory.copy(nb, out, outLen);
  out = nb;
  outCap = ncap;
}
function put(c: i32): void { reserve(1); store<u8>(out + outLen++, <u8>c); }
function putBytes(p: i32, n: i32): void { reserve(n); memory.copy(out + outLen, p, n); outLen += n; }
function putText(s: string): void { for (let i = 0; i < s.length; i++) put(s.charCodeAt(i)); }

// Scratch for one formatted argument before padding.
let tmp: i32 = 0, tmpLen: i32 = 0;
function tput(c: i32): void { store<u8>(tmp + tmpLen++, <u8>c); }

/** Kind of a value as OPA's sprintf converts it (see file comment). */
function kindOf(v: i32): i32 {
  if (tagOf(v) == T_STRING) return K_STR;
  if (tagOf(v) != T_NUMBER) return K_STR;
  const tp = numTextPtr(v), tl = numTextLen(v);
  if (tp != 0) {
    let digitsOnly = true;
    for (let i = 0; i < tl; i++) {
      const c = load<u8>(tp + i);
      if (!((c >= 0x30 && c <= 0x39) || (i == 0 && c == 0x2d))) { digitsOnly = false; break; }
    }
    if (digitsOnly) return numKind(v) == N_INT ? K_INT : K_BIG;
    const f = numF64(v);
    if (numKind(v) != N_INT && (f != f || f - f != 0)) return K_STR; // out of float64 range
    return K_FLOAT;
  }
  return numKind(v) == N_INT ? K_INT : K_FLOAT;
}

/** A K_FLOAT operand as float64; a literal such as -0.0, kept as the integer 0, is Go's -0 (its text has the sign). */
function floatOf(v: i32): f64 {
  const f = numF64(v);
  const tp = numTextPtr(v);
  return f == 0 && tp != 0 && numTextLen(v) > 0 && load<u8>(tp) == 0x2d ? -0.0 : f;
}

// ---- float digits: shortest round-trip digits from dtoa, then fixed/exponent layouts ----
let DIG: i32 = 0;
let nd: i32 = 0;   // digit count
let dp: i32 = 0;   // decimal point position: value = 0.DIG × 10^dp
let SCR: i32 = 0;
let exactLoaded = false; // DIG holds every digit of the value, not only the shortest ones
// A float64's exact expansion has at most 767 significant digits (the smallest subnormal has 751).
const EXACT_DIGITS: i32 = 800;

function digitsOf(f: f64): void {
  const n = <i32>dtoa_buffered(SCR, Math.abs(f));
  nd = 0; dp = 0; exactLoaded = false;
  let seenPoint = false, exp = 0, i = 0;
  let leading = true;
  for (; i < n; i++) {
    const c = <i32>load<u16>(SCR + (i << 1));
    if (c == 0x2e) { seenPoint = true; continue; }
    if (c == 0x65) break;
    if (c < 0x30 || c > 0x39) continue;
    if (leading && c == 0x30) { if (seenPoint) dp--; continue; }
    leading = false;
    store<u8>(DIG + nd++, <u8>c);
    if (!seenPoint) dp++;
  }
  if (i < n) { // exponent
    i++;
    let neg = false;
    let c = <i32>load<u16>(SCR + (i << 1));
    if (c == 0x2d || c == 0x2b) { neg = c == 0x2d; i++; }
    for (; i < n; i++) exp = exp * 10 + (<i32>load<u16>(SCR + (i << 1)) - 0x30);
    dp += neg ? -exp : exp;
  }
  // Trailing zeros of integers like "100" are digits in dtoa's output; drop them.
  while (nd > 0 && load<u8>(DIG + nd - 1) == 0x30) nd--;
  if (nd == 0) dp = 0;
}

/**
 * Whether rounding to `keep` digits reaches past what the shortest digits fix: those pin about 15 significant
 * digits of a normal float64 (its relative spacing is 2^-52) and fewer of a subnormal one, whose spacing is wider.
 */
function needsExact(f: f64, keep: i32): bool {
  return !exactLoaded && keep > nd && (keep > 15 || ((reinterpret<u64>(f) >> 52) & 0x7ff) == 0);
}

/** Loads every decimal digit of |f| into DIG: m × 2^e is m × 5^-e × 10^e, whose digits are finitely many. */
function exactDigitsOf(f: f64): void {
  const bits = reinterpret<u64>(Math.abs(f));
  let e = <i32>((bits >> 52) & 0x7ff);
  let m = bits & 0xfffffffffffff;
  if (e == 0) e = 1; else m |= <u64>1 << 52;
  e -= 1075;
  // The integer m × 2^e (e > 0) or m × 5^-e, least significant digit first while it grows.
  nd = 0;
  while (m != 0) { store<u8>(DIG + nd++, <u8>(m % 10)); m /= 10; }
  for (let k = e > 0 ? e : -e; k > 0; ) {
    // Thirteen factors at a time: 5^13 times a digit plus the carry stays within u64.
    const step = k < 13 ? k : 13;
    let mul: u64 = 1;
    for (let j = 0; j < step; j++) mul *= e > 0 ? 2 : 5;
    let carry: u64 = 0;
    for (let i = 0; i < nd; i++) {
      const x = <u64>load<u8>(DIG + i) * mul + carry;
      store<u8>(DIG + i, <u8>(x % 10));
      carry = x / 10;
    }
    while (carry != 0) { store<u8>(DIG + nd++, <u8>(carry % 10)); carry /= 10; }
    k -= step;
  }
  dp = e > 0 ? nd : nd + e;
  let lo = 0;
  while (lo < nd && load<u8>(DIG + lo) == 0) lo++;
  // Most significant first, as ASCII, without the trailing zeros.
  const count = nd - lo;
  for (let i = 0; i < count >> 1; i++) {
    const a = load<u8>(DIG + lo + i), b = load<u8>(DIG + nd - 1 - i);
    store<u8>(DIG + lo + i, b); store<u8>(DIG + nd - 1 - i, a);
  }
  for (let i = 0; i < count; i++) store<u8>(DIG + i, load<u8>(DIG + lo + i) + 0x30);
  nd = count;
  if (nd == 0) dp = 0;
  exactLoaded = true;
}

// ---- exact tie-breaking: compare |f| with the decimal DIG[0..nd) × 10^(dp-nd) in big integers ----
const LIMBS: i32 = 96;

function bigNew(): i32 { const p = alloc(LIMBS << 2); memory.fill(p, 0, LIMBS << 2); return p; }

function bigMulAdd(a: i32, mul: u32, add: u32): void {
  let carry: u64 = add;
  for (let i = 0; i < LIMBS; i++) {
    const x = <u64>load<u32>(a + (i << 2)) * <u64>mul + carry;
    store<u32>(a + (i << 2), <u32>x);
    carry = x >> 32;
  }
}

function bigShl(a: i32, bits: i32): void {
  const words = bits >> 5, rem = bits & 31;
  for (let i = LIMBS - 1; i >= 0; i--) {
    const src = i - words;
    let v: u32 = 0;
    if (src >= 0) {
      v = load<u32>(a + (src << 2)) << rem;
      if (rem != 0 && src > 0) v |= load<u32>(a + ((src - 1) << 2)) >> (32 - rem);
    }
    store<u32>(a + (i << 2), v);
  }
}

function bigCmp(a: i32, b: i32): i32 {
  for (let i = LIMBS - 1; i >= 0; i--) {
    const x = load<u32>(a + (i << 2)), y = load<u32>(b + (i << 2));
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Sign of |f| − DIG[0..nd)×10^(dp−nd), computed exactly. */
function compareExact(f: f64): i32 {
  const bits = reinterpret<u64>(Math.abs(f));
  let e = <i32>((bits >> 52) & 0x7ff);
  let m = bits & 0xfffffffffffff;
  if (e == 0) e = 1; else m |= <u64>1 << 52;
  e -= 1075; // f = m × 2^e
  const left = bigNew(), right = bigNew();
  bigMulAdd(left, 1, <u32>m);
  store<u32>(left + 4, <u32>(m >> 32));
  for (let i = 0; i < nd; i++) bigMulAdd(right, 10, load<u8>(DIG + i) - 0x30);
  const k = nd - dp; // right = D × 10^-k
  if (k > 0) for (let i = 0; i < k; i++) bigMulAdd(left, 10, 0);
  else for (let i = 0; i < -k; i++) bigMulAdd(right, 10, 0);
  if (e > 0) bigShl(left, e); else bigShl(right, -e);
  return bigCmp(left, right);
}

/** Rounds the digits to keep `keep` of them, deciding ties by the exact binary value as Go does. */
function roundTo(keep: i32, f: f64 = 0): void {
  if (keep < 0) { nd = 0; return; }
  if (needsExact(f, keep)) exactDigitsOf(f);
  if (keep >= nd) return;
  let up = load<u8>(DIG + keep) >= 0x35;
  if (load<u8>(DIG + keep) == 0x35 && keep == nd - 1) {
    // The digits end in a 5 exactly at the cut: a tie when they are exact, else the double lies on one side of it.
    const c = exactLoaded ? 0 : compareExact(f);
    up = c > 0 || (c == 0 && keep > 0 && (load<u8>(DIG + keep - 1) & 1) == 1);
  }
  nd = keep;
  if (!up) { while (nd > 0 && load<u8>(DIG + nd - 1) == 0x30) nd--; return; }
  let i = nd - 1;
  while (i >= 0) {
    const d = load<u8>(DIG + i);
    if (d < 0x39) { store<u8>(DIG + i, d + 1); nd = i + 1; return; }
    i--;
  }
  store<u8>(DIG, 0x31); nd = 1; dp++;
}

@inline function digitAt(i: i32): i32 { return i < nd && i >= 0 ? <i32>load<u8>(DIG + i) : 0x30; }

function fixed(f: f64, prec: i32): void {
  digitsOf(f);
  // The point's place comes from the exact digits where those decide (shortest ones may have rounded up past it).
  if (needsExact(f, dp + prec)) exactDigitsOf(f);
  roundTo(dp + prec, f);
  if (dp <= 0) tput(0x30);
  else for (let i = 0; i < dp; i++) tput(digitAt(i));
  if (prec > 0) {
    tput(0x2e);
    for (let i = 0; i < prec; i++) tput(digitAt(dp + i));
  }
}

function expForm(f: f64, prec: i32, shortest: bool): void {
  digitsOf(f);
  if (!shortest) roundTo(prec + 1, f);
  tput(nd > 0 ? digitAt(0) : 0x30);
  const frac = shortest ? nd - 1 : prec;
  if (frac > 0) {
    tput(0x2e);
    for (let i = 1; i <= frac; i++) tput(digitAt(i));
  }
  let e = nd > 0 ? dp - 1 : 0;
  tput(0x65);
  tput(e < 0 ? 0x2d : 0x2b);
  if (e < 0) e = -e;
  if (e < 10) tput(0x30);
  tmpLen += writeI64(tmp + tmpLen, e);
}

/** %v (or %g) of a K_FLOAT operand: its sign, -0's included, then general. */
function signedGeneral(v: i32, prec: i32): void {
  const f = floatOf(v);
  if (signBit(f)) tput(0x2d);
  general(f, prec);
}

/** %g / %v of a float64 (strconv 'g'; shortest when prec < 0). */
function general(f: f64, prec: i32): void {
  if (f == 0) { tput(0x30); return; }
  digitsOf(f);
  const shortest = prec < 0;
  if (!shortest) { if (prec == 0) prec = 1; roundTo(prec, f); }
  // Go decides %e against precision 6 when the digits are the shortest ones (so %v of 1e6 is 1e+06).
  let eprec = shortest ? 6 : prec;
  if (!shortest && eprec > nd && nd >= dp) eprec = nd;
  const exp = dp - 1;
  if (exp < -4 || exp >= eprec) {
    // Re-use the digits already rounded.
    tput(digitAt(0));
    if (nd > 1) { tput(0x2e); for (let i = 1; i < nd; i++) tput(digitAt(i)); }
    let e = exp;
    tput(0x65); tput(e < 0 ? 0x2d : 0x2b);
    if (e < 0) e = -e;
    if (e < 10) tput(0x30);
    tmpLen += writeI64(tmp + tmpLen, e);
    return;
  }
  if (dp <= 0) {
    tput(0x30); tput(0x2e);
    for (let i = 0; i < -dp; i++) tput(0x30);
    for (let i = 0; i < nd; i++) tput(digitAt(i));
    return;
  }
  for (let i = 0; i < dp; i++) tput(digitAt(i));
  if (nd > dp) { tput(0x2e); for (let i = dp; i < nd; i++) tput(digitAt(i)); }
}

function unsignedBase(u: u64, base: u32, upper: bool): void {
  const start = tmpLen;
  do {
    const d = <i32>(u % <u64>base);
    tput(d < 10 ? 0x30 + d : (upper ? 0x37 : 0x57) + d);
    u /= <u64>base;
  } while (u != 0);
  // reverse
  let a = start, b = tmpLen - 1;
  while (a < b) { const t = load<u8>(tmp + a); store<u8>(tmp + a, load<u8>(tmp + b)); store<u8>(tmp + b, t); a++; b--; }
}

/** Go's name of the operand's type, as %T and bad verbs show it. */
function kindName(k: i32): string {
  return k == K_INT ? 'int64' : k == K_FLOAT ? 'float64' : k == K_BIG ? '*big.Int' : 'string';
}

/** Whether a float64 is negative, -0 included (Go prints its sign). */
@inline function signBit(f: f64): bool { return (reinterpret<u64>(f) >> 63) != 0; }

/** Set where the directive's verb does not fit its operand; b_sprintf then writes Go's %!verb(type=value). */
let badOperand = false;

function badVerb(verb: i32, v: i32, k: i32): void {
  badOperand = true;
}

/** The argument as %v prints it. */
function argText(v: i32, k: i32, verb: i32): void {
  if (k == K_STR) {
    const s = tagOf(v) == T_STRING ? v : regoText(v);
    const n = strLen(s);
    for (let i = 0; i < n; i++) tput(load<u8>(strPtr(s) + i));
  } else if (k == K_INT) tmpLen += writeI64(tmp + tmpLen, numInt(v));
  else if (k == K_BIG) { const tp = numTextPtr(v), tl = numTextLen(v); for (let i = 0; i < tl; i++) tput(load<u8>(tp + i)); }
  else {
    signedGeneral(v, -1);
  }
}

/**
 * Non-zero where the host's sprintf (src/builtins/sprintf.ts) answers the whole call, for what only it formats:
 * a %q verb (Go's quoting: strconv.IsPrint's Unicode tables, backquotes, runes), a # flag (0x and 0b prefixes,
 * a float's kept point and zeros), a float under %b, %x or %X (Go's binary and hexadecimal float forms), a big
 * integer under %b, %o, %x or %X, and a string under %x or %X with a precision or the space flag (bytes cut and
 * spaced). Mirrors b_sprintf's reading of a directive: flags, width, precision, then the verb.
 */
export function b_sprintf_defers(format: i32, values: i32): i32 {
  if (tagOf(format) != T_STRING || tagOf(values) != T_ARRAY) return 0;
  const fp = strPtr(format), fn = strLen(format);
  const nargs = arrLen(values);
  let argi = 0;
  let i = 0;
  while (i < fn) {
    if (load<u8>(fp + i++) != 0x25) continue;
    let sharp = false, space = false, prec = false;
    while (i < fn) {
      const c = load<u8>(fp + i);
      if (c == 0x23) sharp = true; else if (c == 0x20) space = true; else if (c == 0x2e) prec = true;
      if (c == 0x2d || c == 0x2b || c == 0x30 || c == 0x20 || c == 0x23 || c == 0x2e || (c >= 0x30 && c <= 0x39)) i++;
      else break;
    }
    if (i >= fn) break;
    const verb = <i32>load<u8>(fp + i);
    i += utf8Width(fp, i, fn);
    if (verb == 0x71 || (sharp && verb != 0x76 && verb != 0x25)) return 1;
    if (verb == 0x25 || argi >= nargs) continue;
    const k = kindOf(arrGet(values, argi++));
    const hex = verb == 0x78 || verb == 0x58;
    if (k == K_FLOAT && (hex || verb == 0x62)) return 1;
    if (k == K_BIG && (hex || verb == 0x62 || verb == 0x6f)) return 1;
    if (k == K_STR && hex && (space || prec)) return 1;
  }
  return 0;
}

export function b_sprintf(format: i32, values: i32): i32 {
  if (tagOf(format) != T_STRING || tagOf(values) != T_ARRAY) return 0;
  outCap = 64; out = alloc(outCap); outLen = 0;
  const fp = strPtr(format), fn = strLen(format);
  const nargs = arrLen(values);
  let argi = 0;
  let i = 0;
  while (i < fn) {
    const c = <i32>load<u8>(fp + i);
    if (c != 0x25) { put(c); i++; continue; }
    i++;
    if (i >= fn) { putText('%!(NOVERB)'); break; }
    let minus = false, plus = false, zero = false, space = false;
    while (i < fn) {
      const f = load<u8>(fp + i);
      if (f == 0x2d) minus = true; else if (f == 0x2b) plus = true; else if (f == 0x30) zero = true;
      // # matters only to directives that b_sprintf_defers leaves to the host; on %v Go ignores it for Rego values.
      else if (f == 0x20) space = true; else if (f != 0x23) break;
      i++;
    }
    let width = -1, prec = -1;
    while (i < fn && load<u8>(fp + i) >= 0x30 && load<u8>(fp + i) <= 0x39) { width = (width < 0 ? 0 : width * 10) + (load<u8>(fp + i) - 0x30); i++; }
    if (i < fn && load<u8>(fp + i) == 0x2e) {
      i++;
      prec = 0;
      while (i < fn && load<u8>(fp + i) >= 0x30 && load<u8>(fp + i) <= 0x39) { prec = prec * 10 + (load<u8>(fp + i) - 0x30); i++; }
    }
    if (i >= fn) { putText('%!(NOVERB)'); break; }
    const verb = <i32>load<u8>(fp + i);
    i += utf8Width(fp, i, fn);
    if (verb == 0x25) { put(0x25); continue; }
    // Go reads + and # on %v as requests for Go syntax, which Rego values have no use for: no sign is added.
    if (verb == 0x76) plus = false;
    if (argi >= nargs) { put(0x25); put(0x21); put(verb); putText('(MISSING)'); continue; }
    const v = arrGet(values, argi++);
    const k = kindOf(v);
    tmp = alloc(96 + (k == K_STR ? strLen(tagOf(v) == T_STRING ? v : regoText(v)) * 4 : 0) + (prec > 0 ? prec : 0) + 400);
    tmpLen = 0;
    let numeric = false, negative = false;
    switch (verb) {
      case 0x76: // v
        if (k == K_FLOAT && prec >= 0) {
          signedGeneral(v, prec);
        } else argText(v, k, verb);
        numeric = k != K_STR;
        break;
      case 0x73: // s (big.Int formats itself in decimal)
        if (k == K_STR || k == K_BIG) argText(v, k, verb); else badVerb(verb, v, k);
        break;
      case 0x64: // d
        if (k == K_INT || k == K_BIG) { argText(v, k, verb); numeric = true; } else badVerb(verb, v, k);
        break;
      case 0x62: case 0x6f: case 0x78: case 0x58: { // b o x X
        if (k == K_INT) {
          const n = numInt(v);
          if (n < 0) tput(0x2d);
          unsignedBase(n < 0 ? <u64>(-n) : <u64>n, verb == 0x62 ? 2 : verb == 0x6f ? 8 : 16, verb == 0x58);
          numeric = true;
        } else if (k == K_STR && (verb == 0x78 || verb == 0x58)) {
          const s = tagOf(v) == T_STRING ? v : regoText(v);
          for (let j = 0; j < strLen(s); j++) {
            const b = <i32>load<u8>(strPtr(s) + j);
            const hi = b >> 4, lo = b & 15;
            tput(hi < 10 ? 0x30 + hi : (verb == 0x58 ? 0x37 : 0x57) + hi);
            tput(lo < 10 ? 0x30 + lo : (verb == 0x58 ? 0x37 : 0x57) + lo);
          }
        } else badVerb(verb, v, k);
        break;
      }
      case 0x66: case 0x46: case 0x65: case 0x45: case 0x67: case 0x47: { // f F e E g G
        if (k != K_FLOAT) { badVerb(verb, v, k); break; }
        const f = floatOf(v);
        if (signBit(f)) { tput(0x2d); negative = true; }
        if (verb == 0x66 || verb == 0x46) fixed(f, prec < 0 ? 6 : prec);
        else if (verb == 0x65 || verb == 0x45) expForm(f, prec < 0 ? 6 : prec, false);
        else general(f, prec);
        if (verb == 0x45 || verb == 0x47) for (let j = 0; j < tmpLen; j++) if (load<u8>(tmp + j) == 0x65) store<u8>(tmp + j, 0x45);
        numeric = true;
        break;
      }
      case 0x54: { // T: the operand's Go type, a string
        const name = kindName(k);
        for (let j = 0; j < name.length; j++) tput(name.charCodeAt(j));
        break;
      }
      case 0x74: // t
        badVerb(verb, v, k);
        break;
      default:
        badVerb(verb, v, k);
    }
    // A verb that does not fit: Go prints the operand as %v under the directive's own flags (+ included),
    // width and precision, inside %!verb(type=value); big.Int formats itself there and ignores the flags.
    const bad = badOperand;
    if (bad) {
      badOperand = false;
      put(0x25); put(0x21); put(verb); put(0x28);
      tmpLen = 0;
      if (k == K_BIG) { putText('big.Int='); argText(v, k, 0x76); putBytes(tmp, tmpLen); put(0x29); continue; }
      putText(kindName(k)); put(0x3d);
      if (k == K_FLOAT && prec >= 0) {
        signedGeneral(v, prec);
      } else argText(v, k, 0x76);
      numeric = k != K_STR;
    }
    // An integer's precision is its least number of digits (none for 0 under .0), and then zeros never pad it.
    const intPrec = numeric && (k == K_INT || k == K_BIG) && prec >= 0;
    if (intPrec) {
      const start = tmpLen > 0 && load<u8>(tmp) == 0x2d ? 1 : 0;
      const digits = tmpLen - start;
      if (prec == 0 && digits == 1 && load<u8>(tmp + start) == 0x30) { tmpLen = 0; numeric = false; }
      else if (digits < prec) {
        memory.copy(tmp + start + (prec - digits), tmp + start, digits);
        memory.fill(tmp + start, 0x30, prec - digits);
        tmpLen += prec - digits;
      }
    }
    // Sign flags for numbers.
    if (numeric && (plus || space) && load<u8>(tmp) != 0x2d) {
      memory.copy(tmp + 1, tmp, tmpLen);
      store<u8>(tmp, plus ? 0x2b : 0x20);
      tmpLen++;
    }
    if (k == K_STR && prec >= 0 && (verb == 0x73 || verb == 0x76 || bad)) {
      // precision truncates strings to prec runes
      let b = 0, r = 0;
      while (b < tmpLen && r < prec) { b += utf8Width(tmp, b, tmpLen); r++; }
      tmpLen = b;
    }
    let runes = 0;
    for (let b = 0; b < tmpLen; ) { b += utf8Width(tmp, b, tmpLen); runes++; }
    const pad = width > runes ? width - runes : 0;
    if (minus) { putBytes(tmp, tmpLen); for (let j = 0; j < pad; j++) put(0x20); }
    else if (zero && !intPrec && pad > 0) {
      // Numbers keep their sign ahead of the zeros; strings are padded with zeros as they are.
      let start = 0;
      if (numeric && tmpLen > 0 && (load<u8>(tmp) == 0x2d || load<u8>(tmp) == 0x2b || load<u8>(tmp) == 0x20)) { put(load<u8>(tmp)); start = 1; }
      for (let j = 0; j < pad; j++) put(0x30);
      putBytes(tmp + start, tmpLen - start);
    } else { for (let j = 0; j < pad; j++) put(0x20); putBytes(tmp, tmpLen); }
    if (negative) negative = false;
    if (bad) put(0x29);
  }
  if (argi < nargs) {
    putText('%!(EXTRA ');
    for (let j = argi; j < nargs; j++) {
      if (j > argi) putText(', ');
      const v = arrGet(values, j);
      const k = kindOf(v);
      putText(kindName(k));
      put(0x3d);
      tmp = alloc(128 + (k == K_STR ? strLen(tagOf(v) == T_STRING ? v : regoText(v)) : 0));
      tmpLen = 0;
      argText(v, k, 0x76);
      putBytes(tmp, tmpLen);
    }
    put(0x29);
  }
  return mkString(out, outLen);
}

/** Allocates this module's scratch space, one per instance (region.ts). */
export function sprintfStaticsInit(): void {
  DIG = allocZeroed(EXACT_DIGITS);
  SCR = allocZeroed(64);
}
