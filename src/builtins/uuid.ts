// uuid.rfc4122 (random v4, stable per key within one evaluation) and uuid.parse (google/uuid's forms
// and the fields OPA decodes).
import { randomBytes } from 'node:crypto';
import { exactInteger, str } from './args.js';
import { perEvaluation } from './per-evaluation.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

function newV4(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The 16 bytes of a UUID in any form google/uuid accepts, or undefined. */
function uuidBytes(s: string): Buffer | undefined {
  let hex: string;
  if (s.length === 36 + 9 && s.slice(0, 9).toLowerCase() === 'urn:uuid:') s = s.slice(9);
  // google/uuid takes any 38-character form as braced and never looks at the first and last characters.
  else if (s.length === 38) s = s.slice(1, -1);
  if (s.length === 36) {
    if (s[8] !== '-' || s[13] !== '-' || s[18] !== '-' || s[23] !== '-') return undefined;
    hex = s.replaceAll('-', '');
  } else if (s.length === 32) hex = s;
  else return undefined;
  return /^[0-9a-fA-F]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

function variantName(b: number): string {
  if ((b & 0xc0) === 0x80) return 'RFC4122';
  if ((b & 0xe0) === 0xc0) return 'Microsoft';
  if ((b & 0xe0) === 0xe0) return 'Future';
  return 'Reserved';
}

function macVariables(first: number): string {
  if ((first & 0b11) === 0b11) return 'local:multicast';
  if ((first & 0b01) === 0b01) return 'global:multicast';
  if ((first & 0b10) === 0b10) return 'local:unicast';
  return 'global:unicast';
}

/** 100 ns intervals between the Gregorian calendar's start (1582-10-15) and the Unix epoch. */
const GREGORIAN_TO_UNIX = 122192928000000000n;

function parseUUID(v: unknown): Record<string, unknown> | undefined {
  const b = uuidBytes(str('uuid.parse', 1, v));
  if (!b) return undefined;
  const version = b[6]! >> 4;
  const out: Record<string, unknown> = { version, variant: variantName(b[8]!) };
  if (version === 1 || version === 2) {
    const low = BigInt(b.readUInt32BE(0));
    const mid = BigInt(b.readUInt16BE(4));
    const high = BigInt(b.readUInt16BE(6) & 0x0fff);
    const ticks = (high << 48n) | (mid << 32n) | low;
    // google/uuid's UnixTime truncates towards zero, and Go's int64 arithmetic wraps around.
    const since = ticks - GREGORIAN_TO_UNIX;
    out.time = exactInteger(BigInt.asIntN(64, (since / 10_000_000n) * 1_000_000_000n + (since % 10_000_000n) * 100n));
    out.nodeid = [...b.subarray(10)].map((x) => x.toString(16).padStart(2, '0')).join('-');
    out.macvariables = macVariables(b[10]!);
    out.clocksequence = ((b[8]! & 0x3f) << 8) | b[9]!;
    if (version === 2) {
      out.id = b.readUInt32BE(0);
      out.domain = ['Person', 'Group', 'Org'][b[9]!] ?? `Domain${b[9]}`;
    }
  }
  return out;
}

export const uuidBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'uuid.parse',
    decl: fn([arg('uuid', t.string)], arg('result', t.objectOf(t.string, t.any))),
    host: parseUUID,
  },
  {
    name: 'uuid.rfc4122',
    decl: fn([arg('k', t.string)], arg('output', t.string)),
    nondeterministic: true,
    host: (key: unknown) => perEvaluation('uuid.rfc4122', [key], newV4),
  },
];
