// units.parse and units.parse_bytes: resource quantities ("10Ki", "1.5G", "250m") as numbers, with
// OPA's exact rational arithmetic so "0.001" style amounts come out exact.
import { BuiltinError, exactDecimal, exactInteger, str } from './args.js';
import { asInteger, mulInt, parseDecimal, toFixed, truncate, type Decimal } from './decimal.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

const K = 1000n;
const Ki = 1024n;
/** Exponent digits beyond this are refused, as OPA does, to keep 1e999999999 from eating memory. */
const MAX_EXPONENT_DIGITS = 6;

const PREFIXES = ['k', 'm', 'g', 't', 'p', 'e'];

/** units.parse: SI and IEC suffixes, where "m" alone is milli and "M" mega. */
const QUANTITY_UNITS: Record<string, bigint> = { '': 1n };
/** units.parse_bytes (lower-cased input): "kb"/"k" are decimal, "kib"/"ki" binary. */
const BYTE_UNITS: Record<string, bigint> = { '': 1n };
PREFIXES.forEach((p, i) => {
  const si = K ** BigInt(i + 1);
  const iec = Ki ** BigInt(i + 1);
  const upper = p.toUpperCase();
  if (p !== 'm') QUANTITY_UNITS[p] = si;
  QUANTITY_UNITS[upper] = si;
  QUANTITY_UNITS[`${p}i`] = iec;
  QUANTITY_UNITS[`${upper}i`] = iec;
  BYTE_UNITS[p] = si;
  BYTE_UNITS[`${p}b`] = si;
  BYTE_UNITS[`${p}i`] = iec;
  BYTE_UNITS[`${p}ib`] = iec;
});

/**
 * Splits "10.5e3Ki" into amount "10.5e3" and unit "Ki": the amount runs over digits, '.', signs and an
 * exponent marker that is followed by a digit or sign.
 */
function splitAmount(builtin: string, s: string): [string, string] {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[0-9.+-]/.test(c)) continue;
    if (c === 'e' || c === 'E') {
      const next = s[i + 1];
      if (next === undefined || !/[0-9+-]/.test(next)) return [s.slice(0, i), s.slice(i)];
      if (next === '+' || next === '-') i++;
      let end = i + 1;
      while (end < s.length && /[0-9]/.test(s[end]!)) end++;
      if (end - (i + 1) > MAX_EXPONENT_DIGITS) throw new BuiltinError(builtin, 'exponent too large');
      continue;
    }
    return [s.slice(0, i), s.slice(i)];
  }
  return [s, ''];
}

function amountOf(builtin: string, raw: string, lower: boolean): { amount: string; unit: string } {
  const s = (lower ? raw.toLowerCase() : raw).replaceAll('"', '');
  if (s.includes(' ')) throw new BuiltinError(builtin, 'spaces not allowed in resource strings');
  const [amount, unit] = splitAmount(builtin, s);
  if (amount === '') throw new BuiltinError(builtin, builtin === 'units.parse' ? 'no amount provided' : 'no byte amount provided');
  return { amount, unit };
}

function parseUnits(x: unknown): unknown {
  const name = 'units.parse';
  const { amount, unit: rawUnit } = amountOf(name, str(name, 1, x), false);
  // Only the letters after the first are case-folded, so "m" (milli) and "M" (mega) stay apart.
  const unit = rawUnit.length > 1 ? rawUnit[0] + rawUnit.slice(1).toLowerCase() : rawUnit;
  const factor = unit === 'm' ? undefined : QUANTITY_UNITS[unit];
  if (unit !== 'm' && factor === undefined) throw new BuiltinError(name, `unit ${unit} not recognized`);
  const d = parseDecimal(amount);
  if (!d) throw new BuiltinError(name, 'could not parse amount to a number');
  const value: Decimal = factor === undefined ? { n: d.n, scale: d.scale + 3 } : mulInt(d, factor);
  const whole = asInteger(value);
  if (whole !== undefined) return exactInteger(whole);
  return exactDecimal(toFixed(value, 10));
}

function parseBytes(x: unknown): unknown {
  const name = 'units.parse_bytes';
  const { amount, unit } = amountOf(name, str(name, 1, x), true);
  const factor = BYTE_UNITS[unit];
  if (factor === undefined) throw new BuiltinError(name, `byte unit ${unit} not recognized`);
  const d = parseDecimal(amount);
  if (!d) throw new BuiltinError(name, 'could not parse byte amount to a number');
  return exactInteger(truncate(mulInt(d, factor)));
}

export const unitsBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'units.parse',
    decl: fn([arg('x', t.string)], arg('y', t.number)),
    host: parseUnits,
  },
  {
    name: 'units.parse_bytes',
    decl: fn([arg('x', t.string)], arg('y', t.number)),
    host: parseBytes,
  },
];
