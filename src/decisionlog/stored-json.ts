// The JSON text of an event as the log stores it: OPA's EventV1, with the input's text put in as the request
// carried it (not parsed and re-serialised) and, unless the operator turned it off, the credential headers cut
// out of the input, result and builtin cache (credentials.ts), each cut listed in `erased`.
import { isUtf8 } from 'node:buffer';
import type { DecisionEvent } from './event.js';
import { eraseCredentialsInJson, mayHoldCredentials } from './credentials.js';
import { writeJson } from '../json/writer.js';

const parts = ['input', 'result', 'nd_builtin_cache'] as const;
type Part = (typeof parts)[number];

/**
 * An event's JSON text in pieces, in order: text, and the input's UTF-8 bytes as the request carried them. The
 * store copies the pieces into a batch's buffer as they are, so an input that needs no credential cut is never
 * decoded, joined into the event's text and encoded again.
 */
export type EventText = (string | Uint8Array)[];

export interface StoredJsonOptions {
  /** The JSON text of event.input, when the decision path had it. */
  inputJson?: string;
  /** The same as UTF-8 bytes (preferred over inputJson when both are given). */
  inputBytes?: Uint8Array;
  /** Erase credential headers (default true). */
  maskCredentials?: boolean;
}

/** Throws (TypeError, RangeError) when the event cannot be written as JSON, e.g. a cyclic value. */
export function storedEventJson(event: DecisionEvent, options: StoredJsonOptions = {}): string {
  return storedEventText(event, options)
    .map((piece) => (typeof piece === 'string' ? piece : textOf(piece)))
    .join('');
}

/**
 * storedEventJson in pieces. The text is JSON.stringify's for the event (members in the event's key order, those
 * whose value JSON cannot hold left out), written member by member so that the input's bytes go in as they are
 * and a frozen `labels` or `bundles` object, which the server shares between all events of an activation, is
 * written once. Throws as storedEventJson.
 */
export function storedEventText(event: DecisionEvent, options: StoredJsonOptions = {}): EventText {
  const mask = options.maskCredentials ?? true;
  const keep = mask && event.masked?.length ? new Set(event.masked) : undefined;
  const texts: Partial<Record<Part, string | Uint8Array>> = {};
  let erased: string[] | undefined;
  for (const part of parts) {
    if (event[part] === undefined) continue;
    let text: string | Uint8Array = part === 'input' ? inputText(options) ?? writeJson(event.input) : (scalarText(event[part]) ?? writeJson(event[part]));
    if (mask && mayHoldCredentials(typeof text === 'string' ? text : latin1Of(text))) {
      const json = typeof text === 'string' ? text : textOf(text);
      const cut = eraseCredentialsInJson(json, part, keep);
      if (cut) {
        text = cut.json;
        (erased ??= [...(event.erased ?? [])]).push(...cut.erased);
      }
    }
    texts[part] = text;
  }
  const out: EventText = [];
  let head = '{';
  let first = true;
  const fields = event as unknown as Record<string, unknown>;
  const keys = Object.keys(fields);
  // As JSON.stringify of the event with `erased` set: a new member goes last.
  if (erased && !Object.prototype.hasOwnProperty.call(event, 'erased')) keys.push('erased');
  for (const key of keys) {
    const text = isPart(key) ? texts[key] : key === 'erased' && erased ? writeJson(erased) : valueText(key, fields[key]);
    if (text === undefined) continue;
    head += (first ? '' : ',') + keyText(key);
    first = false;
    if (typeof text === 'string') head += text;
    else {
      out.push(head, text);
      head = '';
    }
  }
  out.push(head + '}');
  return out;
}

function isPart(key: string): key is Part {
  return key === 'input' || key === 'result' || key === 'nd_builtin_cache';
}

/** What JSON.stringify writes for one member's key, Go-escaped as writeJson escapes. */
function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = writeJson(key) + ':';
    if (knownKeys.has(key)) keyTexts.set(key, text);
  }
  return text;
}

const knownKeys = new Set([
  'labels', 'decision_id', 'trace_id', 'span_id', 'bundles', 'path', 'query', 'input', 'result', 'mapped_result', 'nd_builtin_cache',
  'erased', 'masked', 'error', 'requested_by', 'timestamp', 'metrics', 'req_id', 'request_context', 'custom', 'pip',
]);
const keyTexts = new Map<string, string>();

/** Texts of deeply frozen labels and bundles objects: they cannot change, so one text serves every event. */
const sharedTexts = new WeakMap<object, string | undefined>();

/** What JSON.stringify writes for a member's value (undefined to leave the member out), escaped as writeJson escapes. */
function valueText(key: string, value: unknown): string | undefined {
  const scalar = scalarText(value);
  if (scalar !== undefined) return scalar;
  if (typeof value !== 'object' || value === null) return writeJson(value);
  if (key === 'metrics') return numberMapText(value) ?? writeJson(value);
  if (key !== 'labels' && key !== 'bundles') return writeJson(value);
  if (sharedTexts.has(value)) return sharedTexts.get(value);
  const text = writeJson(value);
  if (deeplyFrozen(value)) sharedTexts.set(value, text);
  return text;
}

/**
 * JSON.stringify's text of a string, number, boolean or null, escaped as writeJson escapes, without a writeJson
 * call (most of an event's members, and most results, are one of these); undefined for anything else.
 */
function scalarText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return needsEscape.test(value) ? writeJson(value) : '"' + value + '"';
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? 'null' : undefined;
    default:
      return undefined;
  }
}

/**
 * The text of a plain object whose members are all numbers (the timers a server puts in `metrics`), or undefined
 * when it is anything else: written member by member, each key escaped as writeJson would.
 */
function numberMapText(value: object): string | undefined {
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const map = value as Record<string, unknown>;
  let text = '{';
  for (const key of Object.keys(map)) {
    const n = map[key];
    if (typeof n !== 'number') return undefined;
    text += (text.length === 1 ? '' : ',') + (plainKey.test(key) ? '"' + key + '":' : writeJson(key) + ':') + (Number.isFinite(n) ? String(n) : 'null');
  }
  return text + '}';
}

/** Keys JSON.stringify writes as they are, between quotes. */
const plainKey = /^[A-Za-z0-9_.-]*$/;

/** Characters JSON.stringify or Go's encoder would escape in a string (lone surrogates included). */
const needsEscape = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

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
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * The bytes as one character each: enough to ask mayHoldCredentials, which looks for ASCII words only, and cheaper
 * than decoding UTF-8.
 */
function latin1Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
