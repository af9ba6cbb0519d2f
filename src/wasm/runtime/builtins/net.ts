// net.cidr_contains, net.cidr_intersects, net.cidr_overlap: Go's net.ParseIP/ParseCIDR rules on
// IPv4 and IPv6 (with ::, embedded dotted quads and IPv4-mapped comparison).
import { T_STRING, tagOf, mkBool, strLen, strPtr } from '../value';
import { allocZeroed } from '../heap';

// Parsed addresses: 16 bytes each, IPv4 stored as ::ffff:a.b.c.d with the `v4` flag set.
let A: i32 = 0;
let B: i32 = 0;
let v4: bool = false;
let prefix: i32 = 0;

function parseV4(p: i32, n: i32, out: i32): bool {
  let part = 0, digits = 0, val = 0;
  for (let i = 0; i <= n; i++) {
    if (i == n || load<u8>(p + i) == 0x2e) {
      if (digits == 0 || part > 3) return false;
      store<u8>(out + part, <u8>val);
      part++;
      digits = 0;
      val = 0;
      continue;
    }
    const c = <i32>load<u8>(p + i);
    if (c < 0x30 || c > 0x39) return false;
    if (digits > 0 && val == 0) return false; // leading zero
    val = val * 10 + (c - 0x30);
    digits++;
    if (val > 255) return false;
  }
  return part == 4;
}

function hexval(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

function parseV6(p: i32, n: i32, out: i32): bool {
  memory.fill(out, 0, 16);
  let groups = 0;   // 16-bit groups written
  let gap = -1;     // group index where :: was
  let i = 0;
  if (n >= 2 && load<u8>(p) == 0x3a && load<u8>(p + 1) == 0x3a) { gap = 0; i = 2; }
  else if (n >= 1 && load<u8>(p) == 0x3a) return false;
  while (i < n) {
    // An embedded IPv4 address takes the last 32 bits.
    let j = i, hasDot = false;
    while (j < n && load<u8>(p + j) != 0x3a) { if (load<u8>(p + j) == 0x2e) hasDot = true; j++; }
    if (hasDot) {
      if (j != n || groups > 6) return false;
      if (!parseV4(p + i, n - i, out + groups * 2)) return false;
      groups += 2;
      i = n;
      break;
    }
    if (j == i || j - i > 4 || groups >= 8) return false;
    let v = 0;
    for (let k = i; k < j; k++) {
      const h = hexval(load<u8>(p + k));
      if (h < 0) return false;
      v = (v << 4) | h;
    }
    store<u8>(out + groups * 2, <u8>(v >> 8));
    store<u8>(out + groups * 2 + 1, <u8>v);
    groups++;
    i = j;
    if (i < n) {
      i++; // ':'
      if (i < n && load<u8>(p + i) == 0x3a) {
        if (gap >= 0) return false;
        gap = groups;
        i++;
      } else if (i == n) return false;
    }
  }
  if (gap < 0) return groups == 8;
  if (groups >= 8) return false;
  const tail = groups - gap;
  const shift = 8 - groups;
  for (let k = tail - 1; k >= 0; k--) {
    store<u16>(out + (gap + shift + k) * 2, load<u16>(out + (gap + k) * 2));
  }
  for (let k = gap; k < gap + shift; k++) store<u16>(out + k * 2, 0);
  return true;
}

/** Parses an IP into out (16 bytes); sets v4. */
function parseIP(p: i32, n: i32, out: i32): bool {
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + i);
    if (c == 0x3a) { v4 = false; return parseV6(p, n, out); }
    if (c == 0x2e) break;
  }
  memory.fill(out, 0, 10);
  store<u8>(out + 10, 0xff);
  store<u8>(out + 11, 0xff);
  v4 = true;
  return parseV4(p, n, out + 12);
}

/** Parses "ip/len"; the address is masked to the network. Sets v4 and prefix (in bits of 128). */
function parseCIDR(s: i32, out: i32): bool {
  const p = strPtr(s), n = strLen(s);
  let slash = -1;
  for (let i = 0; i < n; i++) if (load<u8>(p + i) == 0x2f) { slash = i; break; }
  if (slash < 0) return false;
  if (!parseIP(p, slash, out)) return false;
  let len = 0, digits = 0;
  for (let i = slash + 1; i < n; i++) {
    const c = <i32>load<u8>(p + i);
    if (c < 0x30 || c > 0x39) return false;
    if (digits > 0 && len == 0) return false;
    len = len * 10 + (c - 0x30);
    digits++;
    if (len > 128) return false;
  }
  if (digits == 0 || (v4 && len > 32)) return false;
  prefix = v4 ? len + 96 : len;
  for (let bit = prefix; bit < 128; bit++) {
    const b = out + (bit >> 3);
    store<u8>(b, <u8>(<i32>load<u8>(b) & ~(0x80 >> (bit & 7))));
  }
  return true;
}

function prefixEqual(a: i32, b: i32, bits: i32): bool {
  for (let bit = 0; bit < bits; bit++) {
    const m = <u8>(0x80 >> <u8>(bit & 7));
    if ((load<u8>(a + (bit >> 3)) & m) != (load<u8>(b + (bit >> 3)) & m)) return false;
  }
  return true;
}

export function b_net_cidr_contains(cidr: i32, x: i32): i32 {
  if (tagOf(cidr) != T_STRING || tagOf(x) != T_STRING) return 0;
  if (!parseCIDR(cidr, A)) return 0;
  const netV4 = v4, netPrefix = prefix;
  if (parseCIDR(x, B)) {
    if (netV4 != v4) return mkBool(false);
    return mkBool(prefix >= netPrefix && prefixEqual(A, B, netPrefix));
  }
  if (!parseIP(strPtr(x), strLen(x), B)) return 0;
  // Go's IPNet.Contains: an address with an IPv4 form (IPv4 or IPv4-mapped) only lies in IPv4 networks.
  if (netV4 != isMapped(B)) return mkBool(false);
  return mkBool(prefixEqual(A, B, netPrefix));
}

function isMapped(a: i32): bool {
  for (let i = 0; i < 10; i++) if (load<u8>(a + i) != 0) return false;
  return load<u8>(a + 10) == 0xff && load<u8>(a + 11) == 0xff;
}

export function b_net_cidr_overlap(cidr: i32, ip: i32): i32 { return b_net_cidr_contains(cidr, ip); }

export function b_net_cidr_intersects(a: i32, b: i32): i32 {
  if (tagOf(a) != T_STRING || tagOf(b) != T_STRING) return 0;
  if (!parseCIDR(a, A)) return 0;
  const pa = prefix, va = v4;
  if (!parseCIDR(b, B)) return 0;
  if (va != v4) return mkBool(false);
  const shorter = pa < prefix ? pa : prefix;
  return mkBool(prefixEqual(A, B, shorter));
}

/** Allocates this module's scratch space, one per instance (region.ts). */
export function netStaticsInit(): void {
  A = allocZeroed(16);
  B = allocZeroed(16);
}
