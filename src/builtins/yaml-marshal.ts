// yaml.marshal as OPA answers it: the value goes to JSON and through Go's YAML encoder (go-yaml v3 style, two
// spaces of indentation, no line folding). What that encoder decides, and so what this writes:
//   - object keys in its "natural" order (runs of digits compared by value, letters after other characters);
//   - a number as the YAML decoder reads its JSON text: an integer within int64 or uint64 keeps every digit
//     (-0 is 0), anything else is a float64 printed as Go's %g prints it (1e+06, 1e-07, 1.8446744073709552e+19),
//     and a float beyond float64's range stays the text it was (1e400);
//   - a string as the YAML decoder reads it from Go's JSON text, where U+0085 (NEL) stays unescaped and so is a
//     line break that the decoder folds (one becomes a space, n become n-1 line feeds, blanks around them go);
//   - a key that holds a line break, or is longer than 128 bytes, as a complex key (`? key` then `: value`);
//   - a string plain when it would read back as the same string; double-quoted when plain text would read as
//     something else (a number, a boolean of YAML 1.1 or 1.2, null, a timestamp, 1:20); single-quoted when its
//     characters rule plain text out (": ", " #", a leading indicator, leading or trailing spaces); a literal
//     block (|, |-, |+, with an indentation indicator when it starts with a space or a line break) when it has
//     a line break; double-quoted with escapes when it holds characters YAML cannot print (characters beyond
//     U+FFFF among them), every character escaped when it starts with a byte-order mark (the encoder's check for
//     one looks at the start of the string, whatever the position); a line break other than a line feed inside a
//     quoted or block scalar is written as it is, and the text after it indented to the scalar's column.
import { BuiltinError } from './args.js';
import { goYamlNumber } from '../json/yaml.js';
import { NumberText } from '../json/number-text.js';

const INDENT = 2;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

export function yamlMarshal(value: unknown): string {
  const line = keyBreakLine(value, { at: 1 });
  if (line !== undefined) throw new BuiltinError('yaml.marshal', `yaml: line ${line}: did not find expected ',' or '}'`);
  const lines: string[] = [];
  writeValue(value, 0, lines, '');
  return `${lines.join('\n')}\n`;
}

/**
 * Appends `value` to `lines`; `lead` is what already stands on the current line (a key and colon, or "- "),
 * and `indent` the column nested content starts at.
 */
function writeValue(value: unknown, indent: number, lines: string[], lead: string): void {
  if (Array.isArray(value)) {
    if (value.length === 0) return void lines.push(`${lead}${opensLine(lead) ? '' : ' '}[]`);
    let first = opensLine(lead);
    if (!first) lines.push(lead);
    const pad = ' '.repeat(indent);
    for (const item of value) {
      const itemLead = first ? `${lead}- ` : `${pad}- `;
      first = false;
      writeValue(item, indent + INDENT, lines, itemLead);
    }
    return;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof NumberText)) {
    const keys = Object.keys(value).sort(naturalOrder);
    if (keys.length === 0) return void lines.push(`${lead}${opensLine(lead) ? '' : ' '}{}`);
    let first = opensLine(lead);
    if (!first) lines.push(lead);
    const pad = ' '.repeat(indent);
    for (const key of keys) {
      const keyLead = first ? lead : pad;
      first = false;
      const item = (value as Record<string, unknown>)[key];
      const text = asDecoded(key);
      if (BREAKS.test(text) || Buffer.byteLength(text) > MAX_SIMPLE_KEY) {
        const [head, ...rest] = scalarText(text, indent + INDENT, false);
        lines.push(`${keyLead}? ${head}`, ...rest);
        writeValue(item, indent + INDENT, lines, `${pad}: `);
      } else writeValue(item, indent + INDENT, lines, `${keyLead}${scalarText(text, 0, true)[0]}:`);
    }
    return;
  }
  const text = value instanceof NumberText || typeof value === 'number' ? numberText(String(value)) : undefined;
  const [head, ...rest] = text !== undefined ? [text] : typeof value === 'string' ? scalarText(asDecoded(value), indent, false) : [value === null ? 'null' : String(value)];
  const sep = opensLine(lead) ? '' : ' ';
  lines.push(`${lead}${sep}${head}`, ...rest);
}

/** Whether content goes on at the end of `lead` (nothing yet, or after "- ", "? ", ": "), not after a key's colon. */
function opensLine(lead: string): boolean {
  return lead === '' || lead.endsWith(' ');
}

/** A string as the YAML decoder reads it from Go's JSON text: runs of raw NEL (and blanks around them) folded. */
function asDecoded(s: string): string {
  if (!s.includes('\u0085')) return s;
  return s.replace(/ *\u0085(?: *\u0085)* */g, (run) => {
    const breaks = run.split('\u0085').length - 1;
    return breaks === 1 ? ' ' : '\n'.repeat(breaks - 1);
  });
}

/**
 * A key holding NEL cannot be read back from the JSON text (a flow key on two lines): the line the decoder
 * reports, where the object holding the first such key starts, in JSON's key order. The decoder counts a
 * string's NEL but the first as lines.
 */
function keyBreakLine(value: unknown, line: { at: number }): number | undefined {
  if (typeof value === 'string') line.at += Math.max(0, value.split('\u0085').length - 2);
  else if (Array.isArray(value)) {
    for (const item of value) {
      const found = keyBreakLine(item, line);
      if (found !== undefined) return found;
    }
  } else if (value !== null && typeof value === 'object' && !(value instanceof NumberText)) {
    const start = line.at;
    for (const key of Object.keys(value).sort()) {
      if (key.includes('\u0085')) return start;
      line.at += Math.max(0, key.split('\u0085').length - 2);
      const found = keyBreakLine((value as Record<string, unknown>)[key], line);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A JSON number's text as the YAML encoder prints the value its decoder makes of it. */
function numberText(text: string): string {
  if (/^-?\d+$/.test(text)) {
    const n = BigInt(text);
    if (n >= INT64_MIN && n <= UINT64_MAX) return n.toString();
  }
  const f = Number(text);
  return Number.isFinite(f) ? goFloat(f) : scalarText(text, 0, false)[0]!;
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form below 1e-4 and from 1e6. */
function goFloat(f: number): string {
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mantissa, exp] = f.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(f);
}

/** Go-yaml's key order: digit runs by value, a letter after a non-letter (unless both follow a digit). */
export function naturalOrder(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let afterDigit = false;
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i] === y[i]) {
      afterDigit = isDigit(x[i]!);
      continue;
    }
    const xl = isLetter(x[i]!);
    const yl = isLetter(y[i]!);
    if (xl && yl) return x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (xl || yl) return (afterDigit ? xl : yl) ? -1 : 1;
    const [xn, xe] = digitRun(x, i, afterDigit);
    const [yn, ye] = digitRun(y, i, afterDigit);
    if (xn !== yn) return xn < yn ? -1 : 1;
    if (xe !== ye) return xe - ye;
    return x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
  }
  return x.length - y.length;
}

/** The value of the digit run starting at i (a run continuing non-zero digits before it counts from 1), and its end. */
function digitRun(chars: string[], i: number, afterDigit: boolean): [bigint, number] {
  let n = 0n;
  if (afterDigit && (chars[i] === '0')) {
    for (let j = i - 1; j >= 0 && isDigit(chars[j]!); j--) {
      if (chars[j] !== '0') {
        n = 1n;
        break;
      }
    }
  }
  let end = i;
  for (; end < chars.length && isDigit(chars[end]!); end++) n = n * 10n + BigInt(chars[end]!.charCodeAt(0) - 48);
  return [n, end];
}

function isDigit(c: string): boolean {
  return /^\p{Nd}$/u.test(c);
}

function isLetter(c: string): boolean {
  return /^\p{L}$/u.test(c);
}

const NON_STRINGS = new Set([
  '', '~', 'null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', '<<',
  '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '.nan', '.NaN', '.NAN',
  // YAML 1.1 booleans, which the encoder quotes for older readers.
  'y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF',
]);
const TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d{1,2}(?::\d{2})?))?)?$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** Whether the text, written plain, would read back as something other than this string. */
function readsAsNonString(s: string): boolean {
  if (NON_STRINGS.has(s) || BASE60.test(s)) return true;
  const n = goYamlNumber(s);
  if (n !== undefined && typeof n !== 'string') return true;
  const date = TIMESTAMP.exec(s);
  return date !== null && Number(date[2]) >= 1 && Number(date[2]) <= 12 && Number(date[3]) >= 1 && Number(date[3]) <= 31;
}

const BREAKS = /[\n\r\u0085\u2028\u2029]/;
/** A run of line breaks the encoder writes as they are (LS, PS) and the character after it, which gets indented. */
const KEPT_BREAKS = /([\u2028\u2029]+)(?=[^\u2028\u2029])/g;
/** Beyond this many bytes a key is no simple key. */
const MAX_SIMPLE_KEY = 128;

/** What the encoder prints as it is: LF, printable ASCII, U+00A0 to U+FFFD but no BOM (nothing beyond U+FFFF). */
function isPrintable(c: number): boolean {
  return c === 0x0a || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff);
}

interface Allowed {
  plain: boolean;
  single: boolean;
  block: boolean;
}

/** The YAML emitter's analysis of a scalar: which styles its characters permit. */
function analyse(s: string, key: boolean): Allowed {
  const chars = [...s];
  let indicators = false;
  let lineBreaks = false;
  let special = false;
  let spaceBreak = false;
  let breakSpace = false;
  if (s.startsWith('---') || s.startsWith('...')) indicators = true;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const next = chars[i + 1];
    const blankNext = next === undefined || next === ' ' || next === '\t' || BREAKS.test(next);
    const prev = chars[i - 1];
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) indicators = true;
      if ((c === '?' || c === ':' || c === '-') && blankNext) indicators = true;
    } else {
      if (c === ':' && blankNext) indicators = true;
      if (c === '#' && (prev === ' ' || prev === '\t' || BREAKS.test(prev!))) indicators = true;
    }
    if (!isPrintable(c.codePointAt(0)!)) special = true;
    if (BREAKS.test(c)) lineBreaks = true;
    if (c === ' ' && next !== undefined && BREAKS.test(next)) spaceBreak = true;
    if (BREAKS.test(c) && next === ' ') breakSpace = true;
  }
  const edgeSpace = s.startsWith(' ') || s.endsWith(' ');
  const edgeBreak = BREAKS.test(s[0] ?? '') || BREAKS.test(s[s.length - 1] ?? '');
  const allowed: Allowed = { plain: true, single: true, block: !key };
  if (s === '' || edgeSpace || edgeBreak || lineBreaks || indicators) allowed.plain = false;
  if (s.endsWith(' ')) allowed.block = false;
  if (breakSpace) allowed.plain = allowed.single = false;
  if (spaceBreak || special) allowed.plain = allowed.single = allowed.block = false;
  if (s.includes('\t')) allowed.plain = allowed.single = false;
  return allowed;
}

/** A string scalar's lines: the first goes after the key or dash, the others (a literal block's) below it. */
function scalarText(s: string, indent: number, key: boolean): string[] {
  const allowed = analyse(s, key);
  if (s.includes('\n') && allowed.block) return literal(s, indent);
  if (!s.includes('\n') && !readsAsNonString(s)) {
    if (allowed.plain) return [s];
    if (allowed.single) return [`'${s.replace(/'/g, "''").replace(KEPT_BREAKS, `$1${' '.repeat(Math.max(indent, INDENT))}`)}'`];
  }
  return [doubleQuoted(s)];
}

/** A literal block; its lines sit at the nested column (two spaces in at the top level). */
function literal(s: string, indent: number): string[] {
  const pad = ' '.repeat(Math.max(indent, INDENT));
  const indicator = s.startsWith(' ') || BREAKS.test(s[0]!) ? String(INDENT) : '';
  const last = s.length - 1;
  const chomp = !BREAKS.test(s[last]!) ? '-' : last === 0 || BREAKS.test(s[last - 1]!) ? '+' : '';
  const body = s.endsWith('\n') ? s.slice(0, -1) : s;
  const indented = (line: string) => (line === '' || /^[\u2028\u2029]/.test(line) ? '' : pad) + line.replace(KEPT_BREAKS, `$1${pad}`);
  return [`|${indicator}${chomp}`, ...body.split('\n').map(indented)];
}

const ESCAPES: Record<string, string> = {
  '\0': '\\0', '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\x0b': '\\v', '\f': '\\f', '\r': '\\r',
  '\x1b': '\\e', '"': '\\"', '\\': '\\\\', '\u0085': '\\N', '\u00a0': '\\_', '\u2028': '\\L', '\u2029': '\\P',
};

function doubleQuoted(s: string): string {
  const escapeAll = s.startsWith('\ufeff');
  let out = '"';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    const escape = ESCAPES[c];
    if (escape) out += escape;
    else if (isPrintable(code) && !escapeAll) out += c;
    else if (code <= 0xff) out += `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (code <= 0xffff) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += `\\U${code.toString(16).toUpperCase().padStart(8, '0')}`;
  }
  return `${out}"`;
}
