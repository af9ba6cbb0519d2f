// bits.*, format_int, base64/base64url encode/decode/is_valid.
import { T_NUMBER, T_STRING, N_INT, tagOf, mkInt, mkBool, mkString, strLen, strPtr, numKind, numInt, numF64 } from '../value';
import { alloc } from '../heap';
import { numIsInt, numAsI64 } from '../number';
import { bigMul, bigFormat, formattedLen } from '../bigint';

@inline function isIntNum(v: i32): bool { return tagOf(v) == T_NUMBER && numIsInt(v); }

export function b_bits_or(a: i32, b: i32): i32 { return isIntNum(a) && isIntNum(b) ? mkInt(numAsI64(a) | numAsI64(b)) : 0; }
export function b_bits_and(a: i32, b: i32): i32 { return isIntNum(a) && isIntNum(b) ? mkInt(numAsI64(a) & numAsI64(b)) : 0; }
export function b_bits_xor(a: i32, b: i32): i32 { return isIntNum(a) && isIntNum(b) ? mkInt(numAsI64(a) ^ numAsI64(b)) : 0; }
export function b_bits_negate(a: i32): i32 { return isIntNum(a) ? mkInt(~numAsI64(a)) : 0; }
export function b_bits_lsh(a: i32, b: i32): i32 {
  if (!isIntNum(a) || !isIntNum(b) || numAsI64(b) < 0) return 0;
  const s = numAsI64(b);
  const x = numAsI64(a);
  if (s < 63 && ((x << s) >> s) == x) return mkInt(x << s);
  // Beyond int64: OPA shifts big integers, so double exactly.
  if (s > 4096) return 0;
  let r = a;
  for (let i: i64 = 0; i < s && r != 0; i++) r = bigMul(r, TWO);
  return r;
}

// The number 2 as a static value record (tag 3, int kind, payload 2), so nothing is allocated at start-up.
const TWO: i32 = <i32>memory.data<i32>([3, 0, 2, 0, 0, 0], 8);
export function b_bits_rsh(a: i32, b: i32): i32 {
  if (!isIntNum(a) || !isIntNum(b) || numAsI64(b) < 0) return 0;
  const s = numAsI64(b);
  const x = numAsI64(a);
  return mkInt(s >= 63 ? (x < 0 ? -1 : 0) : x >> s);
}

/** format_int(number, base): the number truncated towards zero, in base 2, 8, 10 or 16 (lower case). */
export function b_format_int(n: i32, base: i32): i32 {
  if (tagOf(n) != T_NUMBER || !isIntNum(base)) return 0;
  const b = numAsI64(base);
  if (b != 2 && b != 8 && b != 10 && b != 16) return 0;
  if (numKind(n) != N_INT) {
    // Beyond int64, or a fraction: the exact integer part of the number's decimal text.
    const p = bigFormat(n, <i32>b);
    if (p != 0) return mkString(p, formattedLen);
    if (Math.abs(numF64(n)) >= 9.2e18) return 0;
  }
  let x: i64 = numKind(n) == N_INT ? numInt(n) : <i64>numF64(n);
  const neg = x < 0;
  let u: u64 = neg ? <u64>(-x) : <u64>x;
  const buf = alloc(72);
  let i = 72;
  do {
    const d = <i32>(u % <u64>b);
    store<u8>(buf + --i, <u8>(d < 10 ? 0x30 + d : 0x57 + d));
    u /= <u64>b;
  } while (u != 0);
  if (neg) store<u8>(buf + --i, 0x2d);
  return mkString(buf + i, 72 - i);
}

const STD: i32 = <i32>memory.data<u8>([
  65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,
  97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,
  48,49,50,51,52,53,54,55,56,57,43,47]);
const URL: i32 = <i32>memory.data<u8>([
  65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,
  97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,
  48,49,50,51,52,53,54,55,56,57,45,95]);

function encode(s: i32, alphabet: i32, pad: bool): i32 {
  if (tagOf(s) != T_STRING) return 0;
  const p = strPtr(s), n = strLen(s);
  const out = alloc(((n + 2) / 3) * 4);
  let o = 0;
  let i = 0;
  while (i + 2 < n) {
    const v = (<u32>load<u8>(p + i) << 16) | (<u32>load<u8>(p + i + 1) << 8) | load<u8>(p + i + 2);
    store<u8>(out + o++, load<u8>(alphabet + (v >> 18)));
    store<u8>(out + o++, load<u8>(alphabet + ((v >> 12) & 63)));
    store<u8>(out + o++, load<u8>(alphabet + ((v >> 6) & 63)));
    store<u8>(out + o++, load<u8>(alphabet + (v & 63)));
    i += 3;
  }
  const rem = n - i;
  if (rem > 0) {
    const v = (<u32>load<u8>(p + i) << 16) | (rem == 2 ? <u32>load<u8>(p + i + 1) << 8 : 0);
    store<u8>(out + o++, load<u8>(alphabet + (v >> 18)));
    store<u8>(out + o++, load<u8>(alphabet + ((v >> 12) & 63)));
    if (rem == 2) store<u8>(out + o++, load<u8>(alphabet + ((v >> 6) & 63)));
    else if (pad) store<u8>(out + o++, 0x3d);
    if (pad) store<u8>(out + o++, 0x3d);
  }
  return mkString(out, o);
}

function sextet(c: u32, url: bool): i32 {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c == (url ? 45 : 43)) return 62;
  if (c == (url ? 95 : 47)) return 63;
  return -1;
}

/** Decodes base64 text; `padOptional` accepts input without trailing '=' (base64url, as Go's OPA does). */
function decode(s: i32, url: bool, padOptional: bool): i32 {
  if (tagOf(s) != T_STRING) return 0;
  const p = strPtr(s);
  let n = strLen(s);
  if (!padOptional && n % 4 != 0) return 0;
  let pads = 0;
  while (n > 0 && load<u8>(p + n - 1) == 0x3d && pads < 2) { n--; pads++; }
  if (pads > 0 && (n + pads) % 4 != 0) return 0;
  if (n % 4 == 1) return 0;
  const out = alloc((n * 3) / 4 + 3);
  let o = 0;
  let acc: u32 = 0, bits = 0;
  for (let i = 0; i < n; i++) {
    const v = sextet(load<u8>(p + i), url);
    if (v < 0) return 0;
    acc = (acc << 6) | <u32>v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      store<u8>(out + o++, <u8>(acc >> bits));
    }
  }
  // Go's decoder rejects non-zero trailing bits.
  if ((acc & ((1 << bits) - 1)) != 0) return 0;
  return mkString(out, o);
}

export function b_base64_encode(s: i32): i32 { return encode(s, STD, true); }
export function b_base64url_encode(s: i32): i32 { return encode(s, URL, true); }
export function b_base64url_encode_no_pad(s: i32): i32 { return encode(s, URL, false); }
export function b_base64_decode(s: i32): i32 { return decode(s, false, false); }
export function b_base64url_decode(s: i32): i32 { return decode(s, true, true); }
export function b_base64_is_valid(s: i32): i32 {
  if (tagOf(s) != T_STRING) return 0;
  return mkBool(decode(s, false, false) != 0);
}
