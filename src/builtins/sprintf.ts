// sprintf(format, values) with Go's fmt semantics, for modules whose runtime leaves sprintf to the host
// (OPA's own wasm runtime does; ours formats natively, see src/wasm/runtime/builtins/sprintf.ts). Operands
// convert as OPA converts them: integers to int64, other numbers to float64, strings as they are, and every
// other value to its Rego text (a string). Numbers arrive as the module printed them (NumberText), so 1.0
// stays a float and big integers keep every digit.
import { str, arr } from './args.js';
import { NumberText, isRegoSet, keepsNumberText } from './rego-value.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';
import { goBackquote, goQuote, goQuoteRune } from '../compiler/format/go-quote.js';

type Arg = { kind: 'int64' | '*big.Int'; value: bigint } | { kind: 'float64'; value: number } | { kind: 'string'; value: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Rego's printed form of a composite value, as `sprintf("%v", [x])` shows it. */
export function regoText(v: unknown): string {
  if (v instanceof NumberText) return v.text;
  if (isRegoSet(v)) return v.length === 0 ? 'set()' : `{${v.map(regoText).join(', ')}}`;
  if (Array.isArray(v)) return `[${v.map(regoText).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${regoText(x)}`).join(', ')}}`;
  return JSON.stringify(v) ?? 'null';
}

/**
 * Go's %#v of a decoded JSON or YAML value (nil, bool, int or float64, string, []interface {}, map[string]interface {}
 * with its keys sorted), as Go's decoders quote values in their errors; nil inside a collection is interface {}(nil).
 */
export function goSyntax(v: unknown, nested = false): string {
  if (v === null || v === undefined) return nested ? 'interface {}(nil)' : '<nil>';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' || v instanceof NumberText) {
    const text = String(v);
    return typeof v === 'number' ? (Number.isSafeInteger(v) ? text : formatGeneral(v, -1)) : /^-?\d+$/.test(text) ? text : formatGeneral(Number(text), -1);
  }
  if (Array.isArray(v)) return `[]interface {}{${v.map((x) => goSyntax(x, true)).join(', ')}}`;
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[string]interface {}{${entries.map(([k, x]) => `${goQuote(k)}:${goSyntax(x, true)}`).join(', ')}}`;
}

function argOf(v: unknown): Arg {
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (v instanceof NumberText) {
    if (/^-?\d+$/.test(v.text)) {
      const n = BigInt(v.text);
      return { kind: n >= INT64_MIN && n <= INT64_MAX ? 'int64' : '*big.Int', value: n };
    }
    const f = Number(v.text);
    // Beyond float64's range OPA formats the number's text as a string.
    return Number.isFinite(f) ? { kind: 'float64', value: f } : { kind: 'string', value: v.text };
  }
  return { kind: 'string', value: regoText(v) };
}

function argText(a: Arg): string {
  return a.kind === 'float64' ? formatGeneral(a.value, -1) : String(a.value);
}

/**
 * Shortest digits and decimal exponent of |f|: f = 0.d1d2… × 10^point; with `bits` 32, the fewest digits that
 * read back as the same float32 (the closest of that many digits is one if any is).
 */
function shortestDigits(f: number, bits: 32 | 64 = 64): { digits: string; point: number } {
  let shortest = Math.abs(f);
  if (bits === 32) {
    for (let p = 1; p <= 9; p++) {
      const candidate = Number(shortest.toPrecision(p));
      if (Math.fround(candidate) === shortest) {
        shortest = candidate;
        break;
      }
    }
  }
  const [mant, exp] = shortest.toExponential().split('e') as [string, string];
  return { digits: mant.replace('.', ''), point: Number(exp) + 1 };
}

/** Go's strconv.FormatFloat(f, 'g', -1, bits): the shortest digits of f as a float64 or (rounded) float32. */
export function goFormatFloat(f: number, bits: 32 | 64): string {
  return formatGeneral(bits === 32 ? Math.fround(f) : f, -1, bits);
}

type Digits = { digits: string; point: number };

/** The exact decimal digits of |f| (a float64's expansion is finite), without trailing zeros: |f| = 0.d1d2… × 10^point. */
function exactDigits(f: number): Digits {
  let m = Math.abs(f);
  if (m === 0) return { digits: '', point: 0 };
  let twos = 0;
  // Doubling is exact, so m ends as the integer mantissa and |f| = m × 2^-twos = m × 5^twos × 10^-twos.
  while (!Number.isInteger(m)) { m *= 2; twos++; }
  const text = (BigInt(m) * 5n ** BigInt(twos)).toString();
  return { digits: text.replace(/0+$/, ''), point: text.length - twos };
}

/**
 * The digits rounded to `keep` significant places, a tie to the even digit as Go's strconv rounds (JavaScript's
 * toFixed and toPrecision round a tie up: 0.25 under %.1f is 0.2 in Go, 0.3 there).
 */
function roundDigits({ digits, point }: Digits, keep: number): Digits {
  if (digits.length <= keep) return { digits, point };
  if (keep < 0) return { digits: '', point };
  const next = digits[keep]!;
  const up = next > '5' || (next === '5' && (digits.length > keep + 1 || (keep > 0 && Number(digits[keep - 1]) % 2 === 1)));
  let kept = digits.slice(0, keep);
  if (up) {
    let i = kept.length - 1;
    while (i >= 0 && kept[i] === '9') i--;
    kept = i < 0 ? `1${'0'.repeat(kept.length)}` : kept.slice(0, i) + String(Number(kept[i]) + 1) + '0'.repeat(kept.length - i - 1);
    if (i < 0) point++;
  }
  return { digits: kept.replace(/0+$/, ''), point };
}

/** strconv.FormatFloat(|f|, 'f', prec, 64). */
function formatFixed(f: number, prec: number): string {
  const exact = exactDigits(f);
  const { digits, point } = roundDigits(exact, exact.point + prec);
  const at = (i: number): string => (i >= 0 && i < digits.length ? digits[i]! : '0');
  let whole = '';
  for (let i = 0; i < point; i++) whole += at(i);
  let frac = '';
  for (let j = 0; j < prec; j++) frac += at(point + j);
  return (whole || '0') + (prec > 0 ? `.${frac}` : '');
}

function exponent(e: number): string {
  return `e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** strconv.FormatFloat(f, 'g', prec, 64); prec < 0 means the shortest digits. */
function formatGeneral(f: number, prec: number, bits: 32 | 64 = 64): string {
  if (!Number.isFinite(f)) return Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf';
  const sign = signOf(f);
  if (f === 0) return `${sign}0`;
  let { digits, point } = shortestDigits(f, bits);
  // Go decides %e against precision 6 when the digits are the shortest ones (so %v of 1e6 is 1e+06).
  let limit = 6;
  if (prec >= 0) {
    const p = prec === 0 ? 1 : prec;
    ({ digits, point } = roundDigits(exactDigits(f), p));
    limit = p;
    if (limit > digits.length && digits.length >= point) limit = digits.length;
  }
  const e = point - 1;
  if (e < -4 || e >= limit) return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}${exponent(e)}`;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (digits.length <= point) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** The sign of a float64 as Go prints it: -0 keeps its minus. */
function signOf(f: number): string {
  return f < 0 || Object.is(f, -0) ? '-' : '';
}

function formatExp(f: number, prec: number, upper: boolean): string {
  const { digits, point } = f === 0 ? { digits: '', point: 1 } : roundDigits(exactDigits(f), prec + 1);
  const mant = (digits || '0').padEnd(prec + 1, '0');
  const text = signOf(f) + mant[0]! + (prec > 0 ? `.${mant.slice(1)}` : '') + exponent(point - 1);
  return upper ? text.toUpperCase() : text;
}

/** The sign, biased exponent field and mantissa field of a float64. */
function float64Fields(f: number): { negative: boolean; exp: number; mant: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, f);
  const bits = view.getBigUint64(0);
  return { negative: bits >> 63n === 1n, exp: Number((bits >> 52n) & 0x7ffn), mant: bits & ((1n << 52n) - 1n) };
}

/** strconv.FormatFloat(f, 'b', -1, 64): the integer mantissa and the binary exponent, as in 6755399441055744p-52. */
function formatBinaryExp(f: number): string {
  const { exp, mant } = float64Fields(f);
  const e = (exp === 0 ? 1 : exp) - 1075;
  return `${signOf(f)}${exp === 0 ? mant : mant | (1n << 52n)}p${e < 0 ? '-' : '+'}${Math.abs(e)}`;
}

/**
 * strconv.FormatFloat(f, 'x', prec, 64): 1.h…h × 2^e in hexadecimal (subnormals normalised too, 0 as 0x0p+00);
 * prec < 0 gives the fewest digits that are exact, else the fraction rounds half to even to prec digits.
 */
function formatHexFloat(f: number, prec: number, upper: boolean): string {
  const fields = float64Fields(f);
  let mant = fields.exp === 0 ? fields.mant : fields.mant | (1n << 52n);
  let exp = mant === 0n ? 0 : (fields.exp === 0 ? 1 : fields.exp) - 1023;
  while (mant !== 0n && mant >> 52n === 0n) { mant <<= 1n; exp--; }
  if (prec >= 0 && prec < 13) {
    const dropped = BigInt(52 - 4 * prec);
    const rest = mant & ((1n << dropped) - 1n);
    const half = 1n << (dropped - 1n);
    mant >>= dropped;
    if (rest > half || (rest === half && (mant & 1n) === 1n)) mant++;
    // Rounding 1.f…f up carries into 2.0: one more power of two, and only zeros are shifted out.
    if (mant >> BigInt(4 * prec + 1) !== 0n) { mant >>= 1n; exp++; }
    mant <<= dropped;
  }
  const fraction = (mant & ((1n << 52n) - 1n)).toString(16).padStart(13, '0');
  const shown = prec < 0 ? fraction.replace(/0+$/, '') : fraction.slice(0, prec).padEnd(prec, '0');
  const text = `${signOf(f)}0x${mant >> 52n}${shown ? `.${shown}` : ''}p${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return upper ? text.toUpperCase() : text;
}

/**
 * Go's # flag on a float: the decimal point always shows and, for %g, %G, %x and %v (as bad verbs print the
 * operand), trailing zeros fill the significant digits up to the precision (6 when none is given).
 */
function keepPoint(text: string, verb: string, prec: number): string {
  let zeros = 'gGxv'.includes(verb) ? (prec < 0 ? 6 : prec) : 0;
  const sign = /^[-+ ]/.test(text) ? text[0]! : '';
  const at = text.search(verb === 'x' || verb === 'X' ? /[pP]/ : /[eEpP]/);
  const body = text.slice(sign.length, at < 0 ? text.length : at);
  const tail = at < 0 ? '' : text.slice(at);
  // Go counts every character from the first that is not 0 (the x of 0x included) as a significant digit.
  const first = body.search(/[^0.]/);
  if (first >= 0) zeros -= body.slice(first).replace('.', '').length;
  let point = '';
  if (!body.includes('.')) {
    if (body === '0') zeros--;
    point = '.';
  }
  return sign + body + point + '0'.repeat(Math.max(0, zeros)) + tail;
}

function sharpened(text: string, verb: string, prec: number, flags: string): string {
  return flags.includes('#') ? keepPoint(text, verb, prec) : text;
}

/** %q: a string quoted (or, with #, backquoted where Go can) or an integer as a character; + escapes beyond ASCII. */
function formatQuoted(a: Arg, flags: string, prec: number): string | undefined {
  const ascii = flags.includes('+');
  if (a.kind === 'int64') return goQuoteRune(a.value, ascii);
  if (a.kind !== 'string') return undefined;
  const s = prec >= 0 ? [...a.value].slice(0, prec).join('') : a.value;
  return (flags.includes('#') ? goBackquote(s) : undefined) ?? goQuote(s, ascii);
}

const INTEGER_BASES: Record<string, number> = { v: 10, d: 10, b: 2, o: 8, x: 16, X: 16 };

/**
 * An integer under %v, %d, %b, %o, %x or %X with Go's flags: a precision is the least number of digits (none for
 * 0 under .0, and then zeros never pad), # adds 0b, 0x or an octal 0. Zero padding differs by type as in Go: an
 * int64's zeros fill the width less the sign with any # prefix on top, a big.Int's fill it after sign and prefix
 * (and its octal prefix stays even before a zero).
 */
function formatInteger(n: bigint, big: boolean, verb: string, flags: string, prec: number, width: number): string {
  if (prec === 0 && n === 0n) return ' '.repeat(width);
  const base = INTEGER_BASES[verb]!;
  let digits = (n < 0n ? -n : n).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  const sign = n < 0n ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  const left = flags.includes('-');
  const zeroFill = flags.includes('0') && !left && prec < 0;
  if (prec > 0) digits = digits.padStart(prec, '0');
  else if (zeroFill && !big) digits = digits.padStart(width - sign.length, '0');
  let prefix = '';
  if (flags.includes('#')) {
    if (base === 2) prefix = '0b';
    else if (base === 16) prefix = verb === 'X' ? '0X' : '0x';
    else if (base === 8 && (big || !digits.startsWith('0'))) prefix = '0';
  }
  if (zeroFill && big) digits = digits.padStart(width - sign.length - prefix.length, '0');
  const text = sign + prefix + digits;
  const pad = ' '.repeat(Math.max(0, width - text.length));
  return left ? text + pad : pad + text;
}

/** %x or %X of a string's bytes: a precision counts bytes, the space flag spaces them, # prefixes 0x (each one when spaced). */
function hexBytes(s: string, verb: string, prec: number, flags: string): string {
  const bytes = [...Buffer.from(s).subarray(0, prec < 0 ? undefined : prec)].map((b) => b.toString(16).padStart(2, '0'));
  const prefix = flags.includes('#') ? '0x' : '';
  const text = flags.includes(' ') ? bytes.map((b) => prefix + b).join(' ') : bytes.length > 0 ? prefix + bytes.join('') : '';
  return verb === 'X' ? text.toUpperCase() : text;
}

/** Marks a verb that does not apply to its operand's kind. */
const BAD_VERB = { text: '', numeric: false, bad: true } as const;

/** One operand under one verb; `numeric` says whether sign flags and zero padding apply. */
function formatOne(verb: string, a: Arg, prec: number, flags: string): { text: string; numeric: boolean; bad?: true } {
  switch (verb) {
    case 'v':
      if (a.kind === 'string') return { text: a.value, numeric: false };
      return { text: a.kind === 'float64' ? sharpened(formatGeneral(a.value, prec), 'v', prec, flags) : String(a.value), numeric: true };
    case 's':
      // big.Int formats itself in decimal under %s.
      return a.kind === 'string' || a.kind === '*big.Int' ? { text: String(a.value), numeric: false } : BAD_VERB;
    case 'q': {
      const q = formatQuoted(a, flags, prec);
      return q === undefined ? BAD_VERB : { text: q, numeric: false };
    }
    case 'b': case 'o': case 'x': case 'X': {
      if (a.kind === 'string' && (verb === 'x' || verb === 'X')) return { text: hexBytes(a.value, verb, prec, flags), numeric: false };
      if (a.kind === 'float64' && verb === 'b') return { text: formatBinaryExp(a.value), numeric: true };
      if (a.kind === 'float64' && verb !== 'o') return { text: sharpened(formatHexFloat(a.value, prec, verb === 'X'), verb, prec, flags), numeric: true };
      return BAD_VERB;
    }
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
      if (a.kind !== 'float64') return BAD_VERB;
      const n = a.value;
      if (verb === 'f' || verb === 'F') return { text: sharpened(signOf(n) + formatFixed(n, prec < 0 ? 6 : prec), verb, prec, flags), numeric: true };
      if (verb === 'e' || verb === 'E') return { text: sharpened(formatExp(n, prec < 0 ? 6 : prec, verb === 'E'), verb, prec, flags), numeric: true };
      const g = formatGeneral(n, prec);
      return { text: sharpened(verb === 'G' ? g.toUpperCase() : g, verb, prec, flags), numeric: true };
    }
    case 'T':
      return { text: a.kind, numeric: false };
    default:
      return BAD_VERB;
  }
}

/** One operand under one directive: the verb's text, its sign flag, precision on strings and padding to width. */
function directive(verb: string, a: Arg, flags: string, prec: number, width: number): string {
  // Go reads + and # on %v as requests for Go syntax, which Rego values have no use for: no sign is added.
  return formatted(verb, a, verb === 'v' ? flags.replace(/[+#]/g, '') : flags, prec, width);
}

function formatted(verb: string, a: Arg, flags: string, prec: number, width: number): string {
  if ((a.kind === 'int64' || a.kind === '*big.Int') && INTEGER_BASES[verb] !== undefined) return formatInteger(a.value, a.kind === '*big.Int', verb, flags, prec, width);
  const { text, numeric, bad } = formatOne(verb, a, prec, flags);
  if (bad) {
    // big.Int formats itself and ignores the flags; every other operand is printed as %v under the
    // directive's own flags (+ included), width and precision, inside Go's %!verb(type=value).
    if (a.kind === '*big.Int') return `%!${verb}(big.Int=${a.value})`;
    return `%!${verb}(${a.kind}=${formatted('v', a, flags, prec, width)})`;
  }
  let t = text;
  if (numeric && (flags.includes('+') || flags.includes(' ')) && !t.startsWith('-')) t = (flags.includes('+') ? '+' : ' ') + t;
  if (a.kind === 'string' && prec >= 0 && (verb === 's' || verb === 'v')) t = [...t].slice(0, prec).join('');
  const pad = Math.max(0, width - [...t].length);
  if (pad === 0) return t;
  if (flags.includes('-')) return t + ' '.repeat(pad);
  if (flags.includes('0')) {
    // Numbers keep their sign ahead of the zeros; strings are padded with zeros as they are.
    const sign = numeric && /^[-+ ]/.test(t) ? t[0]! : '';
    return sign + '0'.repeat(pad) + t.slice(sign.length);
  }
  return ' '.repeat(pad) + t;
}

const DIRECTIVE = /%([-+# 0]*)(\d+)?(?:\.(\d*))?(.)?/gsu;

function sprintf(format: unknown, values: unknown): string {
  const fmt = str('sprintf', 1, format);
  const args = arr('sprintf', 2, values).map(argOf);
  let next = 0;
  const text = fmt.replace(DIRECTIVE, (_all, flags: string, w?: string, p?: string, verb?: string) => {
    if (verb === undefined) return '%!(NOVERB)';
    if (verb === '%') return '%';
    if (next >= args.length) return `%!${verb}(MISSING)`;
    const a = args[next++]!;
    return directive(verb, a, flags, p === undefined ? -1 : Number(p || '0'), w === undefined ? 0 : Number(w));
  });
  if (next >= args.length) return text;
  return `${text}%!(EXTRA ${args.slice(next).map((a) => `${a.kind}=${argText(a)}`).join(', ')})`;
}

export const sprintfBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'sprintf',
    decl: fn([arg('format', t.string), arg('values', t.arrayOf(t.any))], arg('output', t.string)),
    categories: ['strings'],
    runtime: 'b_sprintf',
    runtimeDefers: 'b_sprintf_defers',
    host: keepsNumberText(sprintf),
  },
];
