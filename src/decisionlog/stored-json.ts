// The JSON text of an event as the log stores it: OPA's EventV1, with the input's text put in as the request
// carried it (not parsed and re-serialised) and, unless the operator turned it off, the credential headers cut
// out of the input, result and builtin cache (credentials.ts), each cut listed in `erased`.
import { randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { DecisionEvent } from './event.js';
import { eraseCredentialsInJson, mayHoldCredentials } from './credentials.js';
import { writeJson } from '../json/writer.js';

const parts = ['input', 'result', 'nd_builtin_cache'] as const;

// Each part is written apart and put in the place of its marker string in the rest of the event.
const nonce = randomBytes(12).toString('hex');
const markers = Object.fromEntries(parts.map((part) => [part, `"@@verdict-${part}-${nonce}"`])) as Record<(typeof parts)[number], string>;
const markerValues = Object.fromEntries(parts.map((part) => [part, JSON.parse(markers[part]) as string])) as Record<(typeof parts)[number], string>;

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

/** storedEventJson in pieces (see EventText). Throws as storedEventJson. */
export function storedEventText(event: DecisionEvent, options: StoredJsonOptions = {}): EventText {
  const mask = options.maskCredentials ?? true;
  const keep = mask && event.masked?.length ? new Set(event.masked) : undefined;
  const texts: { marker: string; text: string | Uint8Array; at: number }[] = [];
  let erased: string[] | undefined;
  const skeleton: Record<string, unknown> = { ...event };
  for (const part of parts) {
    if (event[part] === undefined) continue;
    let text: string | Uint8Array = part === 'input' ? inputText(options) ?? writeJson(event.input) : writeJson(event[part]);
    if (mask && mayHoldCredentials(typeof text === 'string' ? text : latin1Of(text))) {
      const json = typeof text === 'string' ? text : textOf(text);
      const cut = eraseCredentialsInJson(json, part, keep);
      if (cut) {
        text = cut.json;
        (erased ??= [...(event.erased ?? [])]).push(...cut.erased);
      }
    }
    skeleton[part] = markerValues[part];
    texts.push({ marker: markers[part], text, at: -1 });
  }
  if (erased) skeleton.erased = erased;
  const json = writeJson(skeleton);
  // Each marker is found in the skeleton's flat text once; the pieces are then cut from it in text order.
  for (const piece of texts) piece.at = json.indexOf(piece.marker);
  texts.sort((a, b) => a.at - b.at);
  const out: EventText = [];
  let from = 0;
  for (const { marker, text, at } of texts) {
    out.push(json.slice(from, at), text);
    from = at + marker.length;
  }
  out.push(json.slice(from));
  return out;
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
