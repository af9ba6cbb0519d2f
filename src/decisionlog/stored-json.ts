// The JSON text of an event as the log stores it: OPA's EventV1, with the input's text put in as the request
// carried it (not parsed and re-serialised) and, unless the operator turned it off, the credential headers cut
// out of the input, result and builtin cache (credentials.ts), each cut listed in `erased`.
//
// The text is written as UTF-8 straight into the bytes that go to the writer thread (writer-batch.ts): no string
// of the event is built and encoded again (json-bytes.ts). The decision pipeline's events, all of one shape, take
// a shorter way to the same bytes (stored-decision.ts).
import { isUtf8 } from 'node:buffer';
import type { DecisionEvent } from './event.js';
import { bytesMayHoldCredentials, eraseCredentialsInJson, locatedCredentialCuts, mayHoldCredentials } from './credentials.js';
import type { WatchedMember } from '../json/reader.js';
import { writeJson } from '../json/writer.js';
import { byte, GrowingSink, type CutText, memberText, numberMap, raw, sameKeys, shared, writable, writePart, writeValue, type ByteSink } from './json-bytes.js';
import { decisionMembers, writeDecisionEvent } from './stored-decision.js';

export { GrowingSink, type ByteSink } from './json-bytes.js';

export interface StoredJsonOptions {
  /** The JSON text of event.input, when the decision path had it. */
  inputJson?: string;
  /** The same as UTF-8 bytes (preferred over inputJson when both are given). */
  inputBytes?: Uint8Array;
  /** No object key in that text is a credential header name, in any case (see DecisionHints): it is not searched. */
  inputCredentialFree?: boolean;
  /** Every member of inputBytes whose key is a credential header name (see DecisionHints): they are cut without a search. */
  inputCredentialMembers?: readonly WatchedMember[];
  /** inputBytes are valid UTF-8 (see DecisionHints): stored without checking them again. */
  inputValidUtf8?: boolean;
  /** Erase credential headers (default true). */
  maskCredentials?: boolean;
}

/** Throws (TypeError, RangeError) when the event cannot be written as JSON, e.g. a cyclic value. */
export function storedEventJson(event: DecisionEvent, options: StoredJsonOptions = {}): string {
  const sink = new GrowingSink();
  writeStoredEvent(event, options, sink);
  return Buffer.from(sink.bytes.buffer, sink.bytes.byteOffset, sink.used).toString('utf8');
}

type Part = 'input' | 'result' | 'nd_builtin_cache';

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
  // The parts first: a credential cut adds to `erased`, which may come before them in the event. Each is read by its
  // name: a read by a key held in a variable goes through V8's generic lookup, for every event.
  cutsFound.erased = undefined;
  cutsFound.given = event.erased;
  const input = event.input === undefined ? undefined : partText('input', event.input, inputText(options), options, mask, keep);
  const result = event.result === undefined ? undefined : (partText('result', event.result, undefined, options, mask, keep) as string | undefined);
  const cache = event.nd_builtin_cache === undefined ? undefined : (partText('nd_builtin_cache', event.nd_builtin_cache, undefined, options, mask, keep) as string | undefined);
  const erased = cutsFound.erased as string[] | undefined;
  cutsFound.erased = cutsFound.given = undefined;
  const fields = event as unknown as Record<string, unknown>;
  const plain = Object.getPrototypeOf(fields) === Object.prototype;
  // As JSON.stringify of the event with `erased` set: a new member goes last.
  const keys = memberKeys(fields, plain, erased !== undefined && !Object.prototype.hasOwnProperty.call(event, 'erased'));
  // Named reads see inherited members, which JSON leaves out: the shorter way is for plain objects only.
  if (plain && lastMembers >= 0 && writeDecisionEvent(event, lastMembers, input, result, cache, erased, sink)) return;
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
        writePart(sink, value, input);
        break;
      case 'result':
        writePart(sink, value, result);
        break;
      case 'nd_builtin_cache':
        writePart(sink, value, cache);
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

/** The credential cuts of the event being written: its `erased` extended by them, once there is one (partText). */
const cutsFound: { erased: string[] | undefined; given: readonly string[] | undefined } = { erased: undefined, given: undefined };

/**
 * A part's text as the event is stored: `given` (the input's text) or the value written as JSON, with the credential
 * headers cut out and their pointers added to cutsFound.erased; undefined for a scalar result, which is written as
 * it is and holds no headers.
 */
function partText(part: Part, value: unknown, given: string | Uint8Array | undefined, options: StoredJsonOptions, mask: boolean, keep: ReadonlySet<string> | undefined): string | Uint8Array | CutText | undefined {
  const located = options.inputCredentialMembers;
  if (mask && located !== undefined && given instanceof Uint8Array && part === 'input') {
    const cut = locatedCredentialCuts(given, located, part, keep);
    if (!cut) return given;
    (cutsFound.erased ??= [...(cutsFound.given ?? [])]).push(...cut.erased);
    return { bytes: given, cuts: cut.cuts };
  }
  // The caller's word that the input's text names no credential header spares searching it.
  const searched = mask && !(given !== undefined && options.inputCredentialFree === true);
  // A scalar holds no headers object: nothing to cut.
  if (given === undefined && part === 'result' && scalarKind(value)) return undefined;
  const text = given ?? writeJson(value);
  if (text !== undefined && searched && (typeof text === 'string' ? mayHoldCredentials(text) : bytesMayHoldCredentials(bufferOf(text)))) {
    const cut = eraseCredentialsInJson(typeof text === 'string' ? text : textOf(text), part, keep);
    if (cut) {
      (cutsFound.erased ??= [...(cutsFound.given ?? [])]).push(...cut.erased);
      return cut.json;
    }
  }
  return text;
}

function scalarKind(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || value === null;
}

/**
 * The event's keys (Object.keys, then 'erased' when `addErased`), their member texts (comma, key, colon) left in
 * lastKeyTexts and whether they are the decision pipeline's shape in lastMembers. A server's events have the same
 * members in the same order: while a plain object's keys are the last list's, that list and its texts serve again,
 * compared key by key without building a new list.
 */
function memberKeys(fields: Record<string, unknown>, plain: boolean, addErased: boolean): string[] {
  if (!addErased && plain && sameKeys(fields, lastKeys)) return lastKeys;
  const keys = Object.keys(fields);
  if (addErased) keys.push('erased');
  let same = keys.length === lastKeys.length;
  for (let i = 0; same && i < keys.length; i++) same = keys[i] === lastKeys[i];
  if (!same) {
    lastKeys = keys;
    lastKeyTexts = keys.map(memberText);
    lastMembers = decisionMembers(keys);
  }
  return lastKeys;
}

let lastKeys: string[] = [];
let lastKeyTexts: Uint8Array[] = [];
/** The decision pipeline's member set when lastKeys are of its shape (decisionMembers), else -1. */
let lastMembers = -1;

/** The input's text as given: its bytes when they are valid UTF-8 (as stored), else decoded (invalid sequences replaced). */
function inputText(options: StoredJsonOptions): string | Uint8Array | undefined {
  const bytes = options.inputBytes;
  if (bytes) return options.inputValidUtf8 === true || isUtf8(bytes) ? bytes : textOf(bytes);
  return options.inputJson;
}

function textOf(bytes: Uint8Array): string {
  return bufferOf(bytes).toString('utf8');
}

/** The bytes as a Buffer: themselves when they are one (a request body's), else a view of their memory. */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
