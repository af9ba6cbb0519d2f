// Exact decimal arithmetic for builtins whose OPA version uses big.Rat / big.Float (units.*):
// a number is numerator / 10^scale with bigint numerator.

export interface Decimal {
  n: bigint;
  /** Power of ten dividing n (may be negative, meaning a multiplication). */
  scale: number;
}

/** Parses [+-]digits[.digits][e[+-]digits] (Go's big.Rat SetString syntax for decimals). */
export function parseDecimal(text: string): Decimal | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  const [, sign, whole = '', frac = '', exp] = m;
  if (whole === '' && frac === '') return undefined;
  const n = BigInt(`${sign}${whole}${frac}` || '0');
  return { n, scale: frac.length - (exp ? Number(exp) : 0) };
}

export function mulInt(d: Decimal, k: bigint): Decimal {
  return { n: d.n * k, scale: d.scale };
}

function pow10(e: number): bigint {
  return 10n ** BigInt(e);
}

/** The integer value when d is whole, else undefined. */
export function asInteger(d: Decimal): bigint | undefined {
  if (d.scale <= 0) return d.n * pow10(-d.scale);
  const p = pow10(d.scale);
  return d.n % p === 0n ? d.n / p : undefined;
}

/** Truncates towards zero (Go's big.Float.Int). */
export function truncate(d: Decimal): bigint {
  return d.scale <= 0 ? d.n * pow10(-d.scale) : d.n / pow10(d.scale);
}

/** Fixed-point text with `digits` decimals, rounding half away from zero (Go's big.Rat.FloatString). */
export function toFixed(d: Decimal, digits: number): string {
  let scaled: bigint;
  if (d.scale <= digits) scaled = d.n * pow10(digits - d.scale);
  else {
    const p = pow10(d.scale - digits);
    const q = d.n / p;
    const r = d.n % p;
    const abs = r < 0n ? -r : r;
    scaled = 2n * abs >= p ? q + (d.n < 0n ? -1n : 1n) : q;
  }
  const neg = scaled < 0n;
  const s = (neg ? -scaled : scaled).toString().padStart(digits + 1, '0');
  const text = digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  return neg ? `-${text}` : text;
}
