// The JSON text of an event as the log stores it: OPA's EventV1, with the input's text put in as the request
// carried it (not parsed and re-serialised) and, unless the operator turned it off, the credential headers cut
// out of the input, result and builtin cache (credentials.ts), each cut listed in `erased`.
//
// The text is written as UTF-8 straight into the bytes that go to the writer thread (writer-batch.ts): no string
// of the event is built and encoded again. Members whose text is plain ASCII (keys, ids, timestamps, numbers, the
// frozen labels and bundles an activation shares) are copied byte by byte in JavaScript, which costs less than a
// call into the native encoder per member; only strings that need escaping or hold other characters, and values
// that are neither scalars nor shared, go through writeJson.
import { isUtf8 } from 'node:buffer';
import type { DecisionEvent } from './event.js';
import { bytesMayHoldCredentials, eraseCredentialsInJson, mayHoldCredentials } from './credentials.js';
import { writeJson } from '../json/writer.js';

/** Where the text goes: bytes up to `used` are taken; room(n) makes sure n more fit (it may replace `bytes`). */
export interface ByteSink {
  bytes: Buffer;
  used: number;
  room(most: number): void;
}

export interface StoredJsonOptions {
  /** The JSON text of event.input, when the decision path had it. */
  inputJson?: string;
  /** The same as UTF-8 bytes (preferred over inputJson when both are given). */
  inputBytes?: Uint8Array;
  /** No object key in that text is a credential header name, in any case (see DecisionHints): it is not searched. */
  inputCredentialFree?: boolean;
  /** Erase credential headers (default true). */
  maskCredentials?: boolean;
}

/** Throws (TypeError, RangeError) when the event cannot be written as JSON, e.g. a cyclic value. */
export function storedEventJson(event: DecisionEvent, options: StoredJsonOptions = {}): string {
  const sink = new GrowingSink();
  writeStoredEvent(event, options, sink);
  return Buffer.from(sink.bytes.buffer, sink.bytes.byteOffset, sink.used).toString('utf8');
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

const parts = ['input', 'result', 'nd_builtin_cache'] as const;
type Part = (typeof parts)[number];

/**
 * Appends the event's stored text to `sink`: the text of JSON.stringify for the event (members in the event's key
 * order, those whose value JSON cannot hold left out, strings escaped as writeJson escapes), the input's bytes as
 * they are, `erased` extended by the credential cuts. A frozen `labels` or `bundles` object, which the server
 * shares between all events of an activation, is written once and its bytes copied after. Throws as
 * storedEventJson; what it appended before throwing is for the caller to discard.
 */
export function writeStoredEvent(event: DecisionEvent, options: StoredJsonOptions, sink: ByteSink): void {
  const mask = options.maskCredentials ?? true;
  const keep = mask && event.masked?.length ? new Set(event.masked) : undefined;
  let erased: string[] | undefined;
  // The parts first: a credential cut adds to `erased`, which may come before them in the event.
  let input: string | Uint8Array | undefined;
  let result: string | undefined;
  let cache: string | undefined;
  for (const part of parts) {
    const value = event[part];
    if (value === undefined) continue;
    let text: string | Uint8Array | undefined = part === 'input' ? inputText(options) : undefined;
    // The caller's word that the input's text names no credential header spares searching it.
    const searched = mask && !(text !== undefined && options.inputCredentialFree === true);
    // A scalar holds no headers object: nothing to cut.
    if (text === undefined && part === 'result' && scalarKind(value)) continue;
    text ??= writeJson(value);
    if (text !== undefined && searched && (typeof text === 'string' ? mayHoldCredentials(text) : bytesMayHoldCredentials(bufferOf(text)))) {
      const cut = eraseCredentialsInJson(typeof text === 'string' ? text : textOf(text), part, keep);
      if (cut) {
        text = cut.json;
        (erased ??= [...(event.erased ?? [])]).push(...cut.erased);
      }
    }
    if (part === 'input') input = text;
    else if (part === 'result') result = text as string | undefined;
    else cache = text as string | undefined;
  }
  const fields = event as unknown as Record<string, unknown>;
  // As JSON.stringify of the event with `erased` set: a new member goes last.
  const keys = memberKeys(fields, erased !== undefined && !Object.prototype.hasOwnProperty.call(event, 'erased'));
  const keyTexts = lastKeyTexts;
  byte(sink, 0x7b);
  let first = true;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    const value = key === 'erased' && erased ? erased : fields[key];
    if (!writable(value)) continue;
    // The key's text comes with the comma before it: after the first member, all of it.
    const text = keyTexts[k];
    if (first) raw(sink, text, 1);
    else raw(sink, text);
    first = false;
    switch (key) {
      case 'input':
        if (input === undefined) writeValue(sink, value);
        else if (typeof input === 'string') utf8(sink, input);
        else raw(sink, input);
        break;
      case 'result':
        if (result === undefined) writeValue(sink, value);
        else utf8(sink, result);
        break;
      case 'nd_builtin_cache':
        utf8(sink, cache!);
        break;
      case 'labels':
      case 'bundles':
        shared(sink, value as object);
        break;
      case 'metrics':
        if (!numberMap(sink, value)) writeValue(sink, value);
        break;
      default:
        writeValue(sink, value);
    }
  }
  byte(sink, 0x7d);
}

/** Whether JSON.stringify writes the member at all (it leaves out undefined, functions and symbols). */
function writable(value: unknown): boolean {
  const type = typeof value;
  if (type === 'undefined' || type === 'function' || type === 'symbol') return false;
  if (type !== 'object' || value === null) return true;
  // toJSON may answer undefined; writeValue asks it again, as JSON.stringify would.
  return typeof (value as { toJSON?: unknown }).toJSON !== 'function' || writeJson(value) !== undefined;
}

function scalarKind(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || value === null;
}

/** Any value, as writeJson writes it: scalars directly, the rest through writeJson. */
function writeValue(sink: ByteSink, value: unknown): void {
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
 * The event's keys (Object.keys, then 'erased' when `addErased`), their member texts (comma, key, colon) left in
 * lastKeyTexts. A server's events have the same members in the same order: while a plain object's keys are the last
 * list's, that list and its texts serve again, compared key by key without building a new list.
 */
function memberKeys(fields: Record<string, unknown>, addErased: boolean): string[] {
  if (!addErased && Object.getPrototypeOf(fields) === Object.prototype && sameKeys(fields, lastKeys)) return lastKeys;
  const keys = Object.keys(fields);
  if (addErased) keys.push('erased');
  let same = keys.length === lastKeys.length;
  for (let i = 0; same && i < keys.length; i++) same = keys[i] === lastKeys[i];
  if (!same) {
    lastKeys = keys;
    lastKeyTexts = keys.map(memberText);
  }
  return lastKeys;
}

/**
 * Whether a plain object's own keys are `keys`, in order. for-in walks V8's cached key list of the object's shape
 * without copying it; with Object.prototype as the only prototype it visits what Object.keys lists.
 */
function sameKeys(fields: Record<string, unknown>, keys: string[]): boolean {
  let i = 0;
  for (const key in fields) {
    if (i === keys.length || keys[i] !== key) return false;
    i++;
  }
  return i === keys.length;
}

let lastKeys: string[] = [];
let lastKeyTexts: Uint8Array[] = [];

/** One key's text (see memberKeys); the texts of up to 256 keys are kept, should callers invent names. */
function memberText(key: string): Uint8Array {
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

function shared(sink: ByteSink, value: object): void {
  if (typeof value !== 'object' || value === null) return writeValue(sink, value);
  let bytes = value === lastShared[0] ? lastShared[1] : value === lastShared[2] ? lastShared[3] : undefined;
  if (bytes === undefined) {
    if (!sharedBytes.has(value)) sharedBytes.set(value, deeplyFrozen(value) ? Buffer.from(writeJson(value), 'utf8') : undefined);
    bytes = sharedBytes.get(value);
    if (bytes === undefined) return utf8(sink, writeJson(value));
    lastShared = [value, bytes, lastShared[0], lastShared[1]];
  }
  raw(sink, bytes);
}

/**
 * A plain object whose members are all numbers (the timers a server puts in `metrics`), member by member; false,
 * with nothing written, when it is anything else.
 */
function numberMap(sink: ByteSink, value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const map = value as Record<string, unknown>;
  if (!sameKeys(map, lastMetricKeys)) {
    lastMetricKeys = Object.keys(map);
    lastMetricTexts = lastMetricKeys.map(memberText);
  }
  const keys = lastMetricKeys;
  const start = sink.used;
  byte(sink, 0x7b);
  for (let i = 0; i < keys.length; i++) {
    const n = map[keys[i]];
    if (typeof n !== 'number') {
      sink.used = start;
      return false;
    }
    raw(sink, lastMetricTexts[i], i === 0 ? 1 : 0);
    number(sink, n);
  }
  byte(sink, 0x7d);
  return true;
}

let lastMetricKeys: string[] = [];
let lastMetricTexts: Uint8Array[] = [];

/** A string as writeJson writes it: between quotes as it is when nothing in it needs escaping and it is ASCII. */
function string(sink: ByteSink, value: string): void {
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

/** A number as JSON.stringify writes it: integers digit by digit, others through String, non-finite as null. */
function number(sink: ByteSink, n: number): void {
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
  do {
    bytes[--at] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
}

/** Text known to be ASCII. */
function ascii(sink: ByteSink, text: string): void {
  const n = text.length;
  sink.room(n);
  const bytes = sink.bytes;
  let at = sink.used;
  for (let i = 0; i < n; i++) bytes[at++] = text.charCodeAt(i);
  sink.used = at;
}

function utf8(sink: ByteSink, text: string): void {
  // UTF-16 units take 1 to 3 bytes in UTF-8.
  sink.room(text.length * 3);
  sink.used += sink.bytes.write(text, sink.used, 'utf8');
}

/** Copies `from` (after its first `skip` bytes). */
function raw(sink: ByteSink, from: Uint8Array, skip = 0): void {
  const n = from.length - skip;
  sink.room(n);
  const bytes = sink.bytes;
  const at = sink.used;
  // A short copy in JavaScript costs less than the call that would do it natively.
  if (n <= 16) for (let i = 0; i < n; i++) bytes[at + i] = from[skip + i];
  else bytes.set(skip === 0 ? from : from.subarray(skip), at);
  sink.used = at + n;
}

function byte(sink: ByteSink, b: number): void {
  sink.room(1);
  sink.bytes[sink.used++] = b;
}

/** Frozen all the way down, of plain data properties only (a getter could answer differently each time). */
function deeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return typeof value !== 'function';
  if (!Object.isFrozen(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  return Object.values(Object.getOwnPropertyDescriptors(value)).every((d) => !d.get && deeplyFrozen(d.value));
}

/** The input's text as given: its bytes when they are valid UTF-8 (as stored), else decoded (invalid sequences replaced). */
function inputText(options: StoredJsonOptions): string | Uint8Array | undefined {
  const bytes = options.inputBytes;
  if (bytes) return isUtf8(bytes) ? bytes : textOf(bytes);
  return options.inputJson;
}

function textOf(bytes: Uint8Array): string {
  return bufferOf(bytes).toString('utf8');
}

/** The bytes as a Buffer: themselves when they are one (a request body's), else a view of their memory. */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
