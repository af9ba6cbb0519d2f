// The JSON text of an event as the log stores it: OPA's EventV1, with the input's text put in as the request
// carried it (not parsed and re-serialised) and, unless the operator turned it off, the credential headers cut
// out of the input, result and builtin cache (credentials.ts), each cut listed in `erased`.
import { randomBytes } from 'node:crypto';
import type { DecisionEvent } from './event.js';
import { eraseCredentialsInJson, mayHoldCredentials } from './credentials.js';
import { writeJson } from '../json/writer.js';

const parts = ['input', 'result', 'nd_builtin_cache'] as const;

// Each part is written apart and put in the place of its marker string in the rest of the event.
const nonce = randomBytes(12).toString('hex');
const markers = Object.fromEntries(parts.map((part) => [part, `@@verdict-${part}-${nonce}`])) as Record<(typeof parts)[number], string>;

export interface StoredJsonOptions {
  /** The JSON text of event.input, when the decision path had it. */
  inputJson?: string;
  /** Erase credential headers (default true). */
  maskCredentials?: boolean;
}

/** Throws (TypeError, RangeError) when the event cannot be written as JSON, e.g. a cyclic value. */
export function storedEventJson(event: DecisionEvent, options: StoredJsonOptions = {}): string {
  const mask = options.maskCredentials ?? true;
  const keep = mask && event.masked?.length ? new Set(event.masked) : undefined;
  const texts: string[] = [];
  let erased: string[] | undefined;
  const skeleton: Record<string, unknown> = { ...event };
  for (const part of parts) {
    if (event[part] === undefined) continue;
    let text = part === 'input' && options.inputJson !== undefined ? options.inputJson : writeJson(event[part]);
    if (mask && mayHoldCredentials(text)) {
      const cut = eraseCredentialsInJson(text, part, keep);
      if (cut) {
        text = cut.json;
        (erased ??= [...(event.erased ?? [])]).push(...cut.erased);
      }
    }
    skeleton[part] = markers[part];
    texts.push(part, text);
  }
  if (erased) skeleton.erased = erased;
  let json = writeJson(skeleton);
  for (let k = 0; k < texts.length; k += 2) {
    const marker = `"${markers[texts[k] as (typeof parts)[number]]}"`;
    const at = json.indexOf(marker);
    json = json.slice(0, at) + texts[k + 1] + json.slice(at + marker.length);
  }
  return json;
}
