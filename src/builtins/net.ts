// net.*: cidr_contains, cidr_intersects and cidr_overlap are answered by the wasm runtime
// (src/wasm/runtime/builtins/net.ts); the rest by the host, below.
// net.cidr_* host builtins with Go's net package semantics: dotted IPv4 without leading zeros, IPv6
// with "::" and an optional IPv4 tail, IPv4-mapped addresses treated as IPv4, Go's address printing.
import { readFileSync } from 'node:fs';
import { BuiltinError, arr, str, type JsonObject } from './args.js';
import { asSet } from './json-value.js';
import { isRegoSet } from './rego-value.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

/** An address or network in the 128-bit IPv6 space; IPv4 lives at ::ffff:0:0/96 as Go's net.IP does. */
interface Net {
  ip: bigint;
  /** Prefix length counted in the 128-bit space (an IPv4 /24 is 120). */
  prefix: number;
  v4: boolean;
}

const V4_MAPPED = 0xffffn << 32n;
const ALL = (1n << 128n) - 1n;

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined; // zones are not addresses
  let tail: bigint | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail = parseV4(s.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const count = head.length + rest.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const all = [...head, ...Array<string>(8 - count).fill('0'), ...rest];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(`0x${g}`);
  }
  return tail === undefined ? v : (v & ~0xffffffffn) | tail;
}

/** Go's net.ParseIP. */
export function parseIP(s: string): { ip: bigint; v4: boolean } | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { ip: V4_MAPPED | v4, v4: true };
  if (!s.includes(':')) return undefined;
  const v6 = parseV6(s);
  if (v6 === undefined) return undefined;
  return { ip: v6, v4: v6 >> 32n === 0xffffn };
}

function mask(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL >> BigInt(128 - prefix)) << BigInt(128 - prefix);
}

/** Go's net.ParseCIDR: the network, masked. */
export function parseCIDR(s: string): Net | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const v4 = parseV4(addr) !== undefined;
  const parsed = parseIP(addr);
  if (!parsed || !/^\d+$/.test(bits)) return undefined;
  const n = Number(bits);
  if (n > (v4 ? 32 : 128)) return undefined;
  const prefix = v4 ? n + 96 : n;
  return { ip: parsed.ip & mask(prefix), prefix, v4: v4 || (parsed.v4 && prefix >= 96) };
}

function lastOf(n: Net): bigint {
  return n.ip | (ALL ^ mask(n.prefix));
}

function formatV4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

/** Go's net.IP.String: IPv4-mapped as dotted quad, else RFC 5952 style with the longest zero run as "::". */
export function formatIP(ip: bigint): string {
  if (ip >> 32n === 0xffffn) return formatV4(ip & 0xffffffffn);
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

function formatNet(n: Net): string {
  return `${formatIP(n.ip)}/${n.v4 ? n.prefix - 96 : n.prefix}`;
}

function netOperand(name: string, pos: number, v: unknown): Net {
  const s = str(name, pos, v);
  const n = parseCIDR(s);
  if (!n) throw new BuiltinError(name, `invalid CIDR address: ${s}`);
  return n;
}

/** net.cidr_contains: does network a hold address or network b. */
function contains(a: Net, b: string): boolean {
  const ip = parseIP(b);
  const within = (x: bigint) => (x & mask(a.prefix)) === a.ip && (a.v4 === (x >> 32n === 0xffffn) || !a.v4);
  if (ip) return within(ip.ip);
  const n = parseCIDR(b);
  if (!n) throw new BuiltinError('net.cidr_contains', `not a valid textual representation of an IP address or CIDR: ${b}`);
  return n.prefix >= a.prefix && within(n.ip) && within(lastOf(n));
}

/** Entries of a contains_matches operand: [cidr, key] where key is the index, object key or the string itself. */
function matchEntries(name: string, pos: number, v: unknown): Array<[string, unknown]> {
  const cidrOf = (x: unknown): string => {
    if (typeof x === 'string') return x;
    if (Array.isArray(x) && typeof x[0] === 'string') return x[0];
    throw new BuiltinError(name, `operand ${pos}: element must be string or non-empty array`);
  };
  if (typeof v === 'string') return [[v, v]];
  // A set's elements are their own keys.
  if (isRegoSet(v)) return v.map((x) => [cidrOf(x), x]);
  if (Array.isArray(v)) return v.map((x, i) => [cidrOf(x), i]);
  if (v !== null && typeof v === 'object') return Object.entries(v as JsonObject).map(([k, x]) => [cidrOf(x), k]);
  return [];
}

function containsMatches(a: unknown, b: unknown): unknown[] {
  const name = 'net.cidr_contains_matches';
  const out: unknown[] = [];
  for (const [c1, k1] of matchEntries(name, 1, a)) {
    const n = netOperand(name, 1, c1);
    for (const [c2, k2] of matchEntries(name, 2, b)) if (contains(n, c2)) out.push([k1, k2]);
  }
  return asSet(out);
}

function expand(v: unknown): string[] {
  const n = netOperand('net.cidr_expand', 1, v);
  const out: string[] = [];
  for (let ip = n.ip, last = lastOf(n); ip <= last; ip++) out.push(formatIP(ip));
  return asSet(out);
}

/** Go's IP.DefaultMask: the classful prefix an IPv4 address without one gets in cidr_merge. */
function classfulPrefix(v4: bigint): number {
  const first = Number((v4 >> 24n) & 0xffn);
  return first < 0x80 ? 8 : first < 0xc0 ? 16 : 24;
}

interface Range {
  first: bigint;
  last: bigint;
  net?: Net;
}

/** Splits [first, last] into the fewest aligned CIDR blocks. */
function rangeToNets(first: bigint, last: bigint): Net[] {
  const v4 = first >> 32n === 0xffffn && last >> 32n === 0xffffn;
  const out: Net[] = [];
  for (let ip = first; ip <= last; ) {
    let size = 0;
    while (size < 128 && ((ip >> BigInt(size)) & 1n) === 0n && ip + (1n << BigInt(size + 1)) - 1n <= last) size++;
    out.push({ ip, prefix: 128 - size, v4 });
    ip += 1n << BigInt(size);
  }
  return out;
}

function merge(v: unknown): string[] {
  const name = 'net.cidr_merge';
  const ranges: Range[] = arr(name, 1, v).map((x) => {
    if (typeof x !== 'string') throw new BuiltinError(name, 'element must be string');
    const ip = parseIP(x);
    let net: Net | undefined;
    if (ip) {
      if (!ip.v4 || x.includes(':')) throw new BuiltinError(name, 'IPv6 invalid: needs prefix length');
      const prefix = classfulPrefix(ip.ip & 0xffffffffn) + 96;
      net = { ip: ip.ip & mask(prefix), prefix, v4: true };
    } else {
      net = parseCIDR(x);
      if (!net) throw new BuiltinError(name, `invalid CIDR address: ${x}`);
    }
    return { first: net.ip, last: lastOf(net), net };
  });
  ranges.sort((a, b) => (a.last !== b.last ? (a.last < b.last ? -1 : 1) : a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  for (let i = ranges.length - 1; i > 0; i--) {
    const cur = ranges[i]!;
    const prev = ranges[i - 1]!;
    if (cur.first === 0n || cur.first - 1n <= prev.last) {
      ranges[i - 1] = { first: prev.first < cur.first ? prev.first : cur.first, last: cur.last };
      ranges.splice(i, 1);
    }
  }
  const nets = ranges.flatMap((r) => (r.net ? [r.net] : rangeToNets(r.first, r.last)));
  return asSet(nets.map(formatNet));
}

/**
 * net.lookup_ip_addr without the network: host builtins run synchronously inside an evaluation, where
 * Node offers no DNS. IP literals answer themselves and names come from the hosts file; anything else
 * is an error (undefined).
 */
function lookupIPAddr(v: unknown): string[] {
  const name = 'net.lookup_ip_addr';
  const host = str(name, 1, v);
  const ip = parseIP(host);
  if (ip) return [formatIP(ip.ip)];
  let hosts = '';
  try {
    hosts = readFileSync('/etc/hosts', 'utf8');
  } catch {
    // No hosts file: nothing resolves.
  }
  const found = hosts
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim().split(/\s+/))
    .filter((fields) => fields.length > 1 && fields.slice(1).includes(host) && parseIP(fields[0]!))
    .map((fields) => formatIP(parseIP(fields[0]!)!.ip));
  if (found.length === 0) throw new BuiltinError(name, `lookup ${host}: no such host (only IP literals and the hosts file are consulted)`);
  return asSet(found);
}

export const netBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'net.cidr_contains',
    decl: fn([arg('cidr', t.string), arg('cidr_or_ip', t.string)], arg('result', t.boolean)),
    runtime: 'b_net_cidr_contains',
  },
  {
    name: 'net.cidr_contains_matches',
    decl: fn([arg('cidrs', t.anyOf(t.string, t.arrayOf(t.anyOf(t.string, t.arrayOf(t.any))), t.objectOf(t.string, t.anyOf(t.string, t.arrayOf(t.any))), t.setOf(t.anyOf(t.string, t.arrayOf(t.any))))), arg('cidrs_or_ips', t.anyOf(t.string, t.arrayOf(t.anyOf(t.string, t.arrayOf(t.any))), t.objectOf(t.string, t.anyOf(t.string, t.arrayOf(t.any))), t.setOf(t.anyOf(t.string, t.arrayOf(t.any)))))], arg('output', t.setOf(t.tuple(t.any, t.any)))),
    host: containsMatches,
  },
  {
    name: 'net.cidr_expand',
    decl: fn([arg('cidr', t.string)], arg('hosts', t.setOf(t.string))),
    host: expand,
  },
  {
    name: 'net.cidr_intersects',
    decl: fn([arg('cidr1', t.string), arg('cidr2', t.string)], arg('result', t.boolean)),
    runtime: 'b_net_cidr_intersects',
  },
  {
    name: 'net.cidr_is_valid',
    decl: fn([arg('cidr', t.string)], arg('result', t.boolean)),
    host: (v: unknown) => typeof v === 'string' && parseCIDR(v) !== undefined,
  },
  {
    name: 'net.cidr_merge',
    decl: fn([arg('addrs', t.anyOf(t.arrayOf(t.anyOf(t.string)), t.setOf(t.string)))], arg('output', t.setOf(t.string))),
    host: merge,
  },
  {
    name: 'net.cidr_overlap',
    decl: fn([t.string, t.string], t.boolean),
    deprecated: true,
    runtime: 'b_net_cidr_overlap',
  },
  {
    name: 'net.lookup_ip_addr',
    decl: fn([arg('name', t.string)], arg('addrs', t.setOf(t.string))),
    nondeterministic: true,
    host: lookupIPAddr,
  },
];
