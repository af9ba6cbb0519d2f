// The JSON writer for everything Verdict sends or stores (responses, decision-log events, inputs and data
// handed to wasm): JSON.stringify, with NumberText values printed as their text and strings escaped as Go's
// encoder escapes them. V8's JSON.stringify
// recurses and runs out of stack near 5,000 levels, while documents up to the reader's 10,000 levels are
// legal (OPA answers them), so those are written by an explicit-stack writer with the same output.
// Object keys: Go writes a map's keys sorted as text ("1", "10", "2", "a"), while a JS object lists its
// integer-like keys first, in numeric order ("1", "2", "10", "a"). An object with such a key is therefore
// written with its keys sorted (by code point, which is UTF-8 byte order, as Go compares them); other objects
// keep the order they have (values arrive sorted from wasm and the loaders; OPA's structs have fixed orders).
import { randomBytes } from 'node:crypto';
import { withRawNumbers } from './number-text.js';

const marker = `@@verdict-number-${randomBytes(12).toString('hex')}:`;
// A NumberText prints as the string "<marker><number text>"; number text never holds '"' or '\'.
const markedNumber = new RegExp(`"${marker}([^"]*)"`, 'g');

/** JSON text of `value` (undefined for undefined, as JSON.stringify); `indent` as JSON.stringify's space. */
export function writeJson(value: unknown, indent?: number): string {
  const { text, marked } = withRawNumbers(marker, () => {
    const gap = indent ? ' '.repeat(indent) : '';
    try {
      const fast = JSON.stringify(value, null, indent);
      return fast !== undefined && (gap ? integerKeyFirst : integerKeyFirstCompact).test(fast) ? writeDeep(value, gap) : fast;
    } catch (err) {
      if (err instanceof RangeError) return writeDeep(value, gap);
      throw err;
    }
  });
  if (text === undefined) return undefined as unknown as string;
  return goEscaped(marked ? text.replace(markedNumber, '$1') : text);
}

/**
 * An object whose first key is integer-like, in JSON text. A '{' directly followed by a quote opens an object
 * (inside a string a quote is escaped), and a JS object with any integer-like key lists one first.
 */
const integerKeyFirst = /\{\s*"(?:0|[1-9][0-9]*)":/;
/** The same in compact text (no indent), where the pattern without `\s*` scans about twice as fast. */
const integerKeyFirstCompact = /\{"(?:0|[1-9][0-9]*)":/;
const integerLike = /^(?:0|[1-9][0-9]*)$/;

/** Whether JSON text written by another writer (JSON.stringify, pino) may have an object out of writeJson's order. */
export function mayHaveIntegerKeyFirst(text: string): boolean {
  return integerKeyFirst.test(text);
}

/** Code point order of two strings, the order of their UTF-8 bytes (UTF-16 units put U+E000..U+FFFF after astral). */
export function codePointOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const astralX = x >= 0xd800 && x <= 0xdfff;
    const astralY = y >= 0xd800 && y <= 0xdfff;
    if (astralX !== astralY) return astralX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** The keys of an object in the order writeJson writes its members (see the note at the top). */
export function keysInWriteOrder(value: object): string[] {
  const keys = Object.keys(value);
  return keys.length > 1 && integerLike.test(keys[0]!) ? keys.sort(codePointOrder) : keys;
}

function members(value: object): [string, unknown][] {
  return keysInWriteOrder(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
}

/** A string JSON writes as it is, between quotes, whatever the encoder: nothing to escape (ids, names). */
const plainText = /^[\w.:-]*$/;

/**
 * writeJson of `{ [key]: value, ...members }`: the member first, then the members of `members` (an object), in
 * writeJson's layout (`indent` as there). A plain `key` and `value` (letters, digits, '_', '-', '.', ':') are put
 * in front of the members' text as they are: written with the members, a decision id cost an answer about 0.25 µs
 * in a tight loop and 0.6 µs inside a loaded server (docs/decision-log.md, "What logging costs a decision").
 */
export function writeJsonLeading(key: string, value: string, members: object, indent?: number): string {
  if (!plainText.test(key) || !plainText.test(value)) return writeJson({ [key]: value, ...members }, indent);
  const rest = writeJson(members, indent);
  const first = indent ? `{\n${' '.repeat(indent)}"${key}": "${value}"` : `{"${key}":"${value}"`;
  return rest.length === 2 ? `${first}${indent ? '\n' : ''}}` : `${first},${rest.slice(1)}`;
}

const htmlSensitive = /[<>&\u2028\u2029]/;
const htmlSensitiveAll = /[<>&\u2028\u2029]/g;
const goEscapes: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * Go's encoder escapes <, >, & and U+2028/U+2029 in strings (OPA's answers show them so); outside strings
 * JSON text never holds these characters, so the whole text can be rewritten.
 */
function goEscaped(text: string): string {
  return htmlSensitive.test(text) ? text.replace(htmlSensitiveAll, (c) => goEscapes[c]!) : text;
}

/** What JSON.stringify writes for a value with toJSON applied; containers are opened by the caller. */
function prepared(value: unknown, key: string): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  return value;
}

function scalarText(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      return undefined;
    default:
      return 'skip';
  }
}

interface Open {
  close: string;
  entries: [string | null, unknown][];
  next: number;
}

/** JSON.stringify(value, null, gap) without recursion, objects' members in writeJson's order. */
export function writeDeep(root: unknown, gap: string): string | undefined {
  const first = prepared(root, '');
  const firstText = scalarText(first);
  if (firstText === 'skip') return undefined;
  if (firstText !== undefined) return firstText;
  const parts: string[] = [];
  const stack: Open[] = [];
  const open = (value: object) => {
    const isArray = Array.isArray(value);
    const entries: [string | null, unknown][] = isArray ? (value as unknown[]).map((v) => [null, v]) : members(value);
    parts.push(isArray ? '[' : '{');
    stack.push({ close: isArray ? ']' : '}', entries, next: 0 });
  };
  const newline = (depth: number) => (gap ? `\n${gap.repeat(depth)}` : '');
  open(first as object);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    let pushed = false;
    while (top.next < top.entries.length) {
      const [key, raw] = top.entries[top.next++]!;
      const value = prepared(raw, key ?? String(top.next - 1));
      let text = scalarText(value);
      if (text === 'skip') {
        if (key !== null) continue;
        text = 'null';
      }
      const separator = parts[parts.length - 1] === '[' || parts[parts.length - 1] === '{' ? '' : ',';
      parts.push(separator + newline(stack.length) + (key !== null ? JSON.stringify(key) + (gap ? ': ' : ':') : ''));
      if (text !== undefined) {
        parts.push(text);
        continue;
      }
      open(value as object);
      pushed = true;
      break;
    }
    if (pushed) continue;
    stack.pop();
    const empty = parts[parts.length - 1] === '[' || parts[parts.length - 1] === '{';
    parts.push((empty ? '' : newline(stack.length)) + top.close);
  }
  return parts.join('');
}
