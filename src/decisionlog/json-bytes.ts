// JSON text written as UTF-8 bytes into a sink, value by value, as writeJson writes it: the pieces the decision log's
// stored text is made of (stored-json.ts for any event, stored-decision.ts for the decision path's). ASCII is
// copied byte by byte in JavaScript, which costs less than a call into the native encoder per member; only strings
// that need escaping or hold other characters, and values that are neither scalars nor shared, go through writeJson.
import { keysInWriteOrder, writeJson } from '../json/writer.js';

/** Where the text goes: bytes up to `used` are taken; room(n) makes sure n more fit (it may replace `bytes`). */
export interface ByteSink {
  bytes: Buffer;
  used: number;
  room(most: number): void;
}

/** A sink of its own, for a caller that wants the text (storedEventJson) or the bytes held apart (a waiting row). */
export class GrowingSink implements ByteSink {
  bytes = Buffer.allocUnsafe(2048);
  used = 0;

  room(most: number): void {
    if (this.bytes.length - this.used >= most) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + most));
    bigger.set(this.bytes.subarray(0, this.used));
    this.bytes = bigger;
  }
}

/** Whether JSON.stringify writes the member at all (it leaves out undefined, functions and symbols). */
export function writable(value: unknown): boolean {
  const type = typeof value;
  if (type === 'undefined' || type === 'function' || type === 'symbol') return false;
  if (type !== 'object' || value === null) return true;
  // toJSON may answer undefined; writeValue asks it again, as JSON.stringify would.
  return typeof (value as { toJSON?: unknown }).toJSON !== 'function' || writeJson(value) !== undefined;
}

/**
 * A part of an event (input, result, builtin cache): the text prepared for it (credentials cut), as a string or as
 * UTF-8 bytes, when there is one; else the value, written here.
 */
export function writePart(sink: ByteSink, value: unknown, text: string | Uint8Array | CutText | undefined): void {
  if (text === undefined) writeValue(sink, value);
  else if (typeof text === 'string') utf8(sink, text);
  else if (text instanceof Uint8Array) raw(sink, text);
  else cutText(sink, text);
}

/** UTF-8 text without the byte ranges `cuts` ([start, end) pairs, in order, apart). */
export interface CutText {
  bytes: Uint8Array;
  cuts: number[];
}

function cutText(sink: ByteSink, { bytes, cuts }: CutText): void {
  sink.room(bytes.length);
  let from = 0;
  for (let k = 0; k < cuts.length; k += 2) {
    sink.bytes.set(bytes.subarray(from, cuts[k]), sink.used);
    sink.used += cuts[k] - from;
    from = cuts[k + 1];
  }
  sink.bytes.set(bytes.subarray(from), sink.used);
  sink.used += bytes.length - from;
}

/** Any value, as writeJson writes it: scalars directly, the rest through writeJson. */
export function writeValue(sink: ByteSink, value: unknown): void {
  switch (typeof value) {
    case 'string':
      return string(sink, value);
    case 'number':
      return number(sink, value);
    case 'boolean':
      return value ? ascii(sink, 'true') : ascii(sink, 'false');
    default:
      if (value === null) return ascii(sink, 'null');
      utf8(sink, writeJson(value));
  }
}

/**
 * Whether a plain object's own keys are `keys`, in order. for-in walks V8's cached key list of the object's shape
 * without copying it; with Object.prototype as the only prototype it visits what Object.keys lists.
 */
export function sameKeys(fields: Record<string, unknown>, keys: string[]): boolean {
  let i = 0;
  for (const key in fields) {
    if (i === keys.length || keys[i] !== key) return false;
    i++;
  }
  return i === keys.length;
}

/** A member's key as written after another member (comma, key, colon); the texts of up to 256 keys are kept, should callers invent names. */
export function memberText(key: string): Uint8Array {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = Buffer.from(',' + writeJson(key) + ':', 'utf8');
    if (keyTexts.size < 256) keyTexts.set(key, text);
  }
  return text;
}

const keyTexts = new Map<string, Uint8Array>();

/** Text of deeply frozen labels and bundles objects: they cannot change, so one text serves every event. */
const sharedBytes = new WeakMap<object, Uint8Array | undefined>();
/** The last two shared objects seen (labels and bundles), asked before the WeakMap. */
let lastShared: [object | undefined, Uint8Array | undefined, object | undefined, Uint8Array | undefined] = [undefined, undefined, undefined, undefined];

/** A labels or bundles object: its text copied when it is deeply frozen (sharedText), else written as it is now. */
export function shared(sink: ByteSink, value: object): void {
  if (typeof value !== 'object' || value === null) return writeValue(sink, value);
  const bytes = sharedText(value);
  if (bytes === undefined) return utf8(sink, writeJson(value));
  raw(sink, bytes);
}

/** The text of a deeply frozen object, written once; undefined for anything else. */
export function sharedText(value: unknown): Uint8Array | undefined {
  if (value === lastShared[0]) return lastShared[1];
  if (value === lastShared[2]) return lastShared[3];
  if (typeof value !== 'object' || value === null) return undefined;
  if (!sharedBytes.has(value)) sharedBytes.set(value, deeplyFrozen(value) ? Buffer.from(writeJson(value), 'utf8') : undefined);
  const bytes = sharedBytes.get(value);
  if (bytes !== undefined) lastShared = [value, bytes, lastShared[0], lastShared[1]];
  return bytes;
}

/**
 * A plain object whose members are all numbers (the timers a server puts in `metrics`), member by member; false,
 * with nothing written, when it is anything else.
 */
export function numberMap(sink: ByteSink, value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const map = value as Record<string, unknown>;
  const start = sink.used;
  // The members are read in for-in's walk, which V8 answers from the shape's key cache: a read by the key held in a
  // variable goes through the megamorphic lookup, once per member of every event. A walk that is the last object's
  // keys (the server's timers always are), or the first of them, is in the order written (sorted only when an
  // integer-like key comes first, which for-in then lists in that order too); any other object takes numberMapAnew.
  const keys = lastMetricKeys;
  const texts = lastMetricTexts;
  let i = 0;
  for (const key in map) {
    const n = map[key];
    if (i === keys.length || keys[i] !== key || typeof n !== 'number') {
      sink.used = start;
      return numberMapAnew(sink, map);
    }
    raw(sink, texts[i++]);
    number(sink, n);
  }
  if (i === 0) byte(sink, 0x7b);
  byte(sink, 0x7d);
  return true;
}

/** numberMap for an object whose keys are not the last one's: they become the last. */
function numberMapAnew(sink: ByteSink, map: Record<string, unknown>): boolean {
  if (!sameKeys(map, lastMetricKeys)) {
    lastMetricKeys = keysInWriteOrder(map);
    // The first member's text opens the object: '{' in place of the comma.
    lastMetricTexts = lastMetricKeys.map((key, i) => (i === 0 ? Buffer.concat([openingBrace, memberText(key).subarray(1)]) : memberText(key)));
  }
  const keys = lastMetricKeys;
  const texts = lastMetricTexts;
  const start = sink.used;
  if (keys.length === 0) byte(sink, 0x7b);
  for (let i = 0; i < keys.length; i++) {
    const n = map[keys[i]];
    if (typeof n !== 'number') {
      sink.used = start;
      return false;
    }
    raw(sink, texts[i]);
    number(sink, n);
  }
  byte(sink, 0x7d);
  return true;
}

const openingBrace = Buffer.from('{');

let lastMetricKeys: string[] = [];
let lastMetricTexts: Uint8Array[] = [];

/** Frozen all the way down, of plain data properties only (a getter could answer differently each time). */
function deeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return typeof value !== 'function';
  if (!Object.isFrozen(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  return Object.values(Object.getOwnPropertyDescriptors(value)).every((d) => !d.get && deeplyFrozen(d.value));
}

/** A string as writeJson writes it: between quotes as it is when nothing in it needs escaping and it is ASCII. */
export function string(sink: ByteSink, value: string): void {
  const n = value.length;
  sink.room(n + 2);
  const bytes = sink.bytes;
  let at = sink.used;
  bytes[at++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    // Control characters, '"', '\\', Go's <, > and &, and everything beyond ASCII: writeJson decides.
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) return utf8(sink, writeJson(value));
    bytes[at++] = c;
  }
  bytes[at++] = 0x22;
  sink.used = at;
}

/**
 * string() for a member that mostly repeats the last event's (the path, the client's address): the same text, most
 * often the very same string, is copied as the bytes written last time instead of checked character by character.
 */
export class RepeatedString {
  private text: string | undefined;
  /** The bytes of `text`, kept once it came twice in a row: texts that change every time cost no copy. */
  private json: Uint8Array | undefined;

  write(sink: ByteSink, value: string): void {
    const repeated = value === this.text;
    if (repeated && this.json !== undefined) return raw(sink, this.json);
    const start = sink.used;
    string(sink, value);
    this.text = value;
    this.json = repeated ? Uint8Array.prototype.slice.call(sink.bytes, start, sink.used) : undefined;
  }
}

/** An array of strings (the `erased` list) as writeJson writes it, string by string; false, with nothing written, for any other value. */
export function stringList(sink: ByteSink, value: unknown): boolean {
  if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype || 'toJSON' in value) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  byte(sink, 0x5b);
  for (let i = 0; i < value.length; i++) {
    if (i > 0) byte(sink, 0x2c);
    string(sink, value[i] as string);
  }
  byte(sink, 0x5d);
  return true;
}

/** A number as JSON.stringify writes it: integers digit by digit, others through String, non-finite as null. */
export function number(sink: ByteSink, n: number): void {
  if (!Number.isFinite(n)) return ascii(sink, 'null');
  if (!Number.isInteger(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) return ascii(sink, String(n));
  if (n < 0) {
    byte(sink, 0x2d);
    n = -n;
  }
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  sink.room(digits);
  const bytes = sink.bytes;
  let at = sink.used + digits;
  sink.used = at;
  if (n <= 0x7fffffff) {
    // Small integers (timers, request numbers) in 32-bit arithmetic: a double's remainder costs several times more.
    let v = n | 0;
    do {
      const q = (v / 10) | 0;
      bytes[--at] = 0x30 + v - q * 10;
      v = q;
    } while (v > 0);
    return;
  }
  do {
    bytes[--at] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
}

/** Text known to be ASCII. */
export function ascii(sink: ByteSink, text: string): void {
  const n = text.length;
  sink.room(n);
  const bytes = sink.bytes;
  let at = sink.used;
  for (let i = 0; i < n; i++) bytes[at++] = text.charCodeAt(i);
  sink.used = at;
}

export function utf8(sink: ByteSink, text: string): void {
  // UTF-16 units take 1 to 3 bytes in UTF-8.
  sink.room(text.length * 3);
  sink.used += sink.bytes.write(text, sink.used, 'utf8');
}

/** Copies `from` (after its first `skip` bytes). */
export function raw(sink: ByteSink, from: Uint8Array, skip = 0): void {
  const n = from.length - skip;
  sink.room(n);
  const bytes = sink.bytes;
  const at = sink.used;
  // A short copy in JavaScript costs less than the call that would do it natively.
  if (n <= 16) for (let i = 0; i < n; i++) bytes[at + i] = from[skip + i];
  else bytes.set(skip === 0 ? from : from.subarray(skip), at);
  sink.used = at + n;
}

export function byte(sink: ByteSink, b: number): void {
  sink.room(1);
  sink.bytes[sink.used++] = b;
}
