// The stored text of the events the decision pipeline makes (recordDecision in src/server/decisions.ts, for every
// front end: REST Data API, Envoy ext_authz, HTTP callouts): EventV1's members in EventV1's order, some absent. For
// that one shape the members are written in a fixed sequence, each read by its name, and the text before the
// decision id (the frozen labels of the activation with the keys around them) is copied as one piece, the id and the
// timestamp from the bytes they were made as (event.ts), instead of the loop over the event's keys (stored-json.ts)
// that reads each member by a variable key, picks its writer by name and escapes every string character by
// character. The bytes are the loop's, member for member: only the way to them is shorter.
import { decisionIdBytes, timestampText, type DecisionEvent } from './event.js';
import { ascii, byte, memberText, numberMap, raw, RepeatedString, sharedText, string, stringList, writable, writePart, writeValue, type ByteSink, type CutText } from './json-bytes.js';

/** The members in the order recordDecision sets them; bit i of a member set stands for order[i]. */
const order = [
  'labels',
  'decision_id',
  'trace_id',
  'span_id',
  'bundles',
  'path',
  'input',
  'pip',
  'result',
  'error',
  'requested_by',
  'timestamp',
  'nd_builtin_cache',
  'metrics',
  'request_context',
  'req_id',
  // Last when the credential erasure adds it, as JSON.stringify writes a member set last.
  'erased',
] as const;

const bit = Object.fromEntries(order.map((key, i) => [key, 1 << i])) as Record<(typeof order)[number], number>;

/**
 * The member set of an event with these own keys, in this order, when it is the decision path's shape: `labels` and
 * `decision_id` first, then only members of `order`, in its order. -1 for any other list.
 */
export function decisionMembers(keys: readonly string[]): number {
  if (keys[0] !== 'labels' || keys[1] !== 'decision_id') return -1;
  let members = bit.labels | bit.decision_id;
  let at = 2;
  for (let k = 2; k < keys.length; k++) {
    while (at < order.length && order[at] !== keys[k]) at++;
    if (at === order.length) return -1;
    members |= 1 << at++;
  }
  return members;
}

/**
 * Appends the stored text of an event whose own keys are exactly `members` (decisionMembers), in that order, as
 * writeStoredEvent's member loop writes it; `input`, `result` and `cache` are the parts' texts it prepared (credential
 * cuts made) and `erased` the list it extended by those cuts, if it did. Writes nothing and answers false when the
 * labels are not a deeply frozen object (their text is shared) or the decision id is not a string.
 */
export function writeDecisionEvent(
  event: DecisionEvent,
  members: number,
  input: string | Uint8Array | CutText | undefined,
  result: string | undefined,
  cache: string | undefined,
  erased: string[] | undefined,
  sink: ByteSink,
): boolean {
  const labels = sharedText(event.labels);
  const id = event.decision_id;
  if (labels === undefined || typeof id !== 'string') return false;
  raw(sink, labelsPrefix(labels));
  quoted(sink, decisionIdBytes(id), id);
  if (members & bit.trace_id) member(sink, keys.trace_id, event.trace_id);
  if (members & bit.span_id) member(sink, keys.span_id, event.span_id);
  if (members & bit.bundles) {
    const bundles = sharedText(event.bundles);
    if (bundles !== undefined) {
      raw(sink, keys.bundles);
      raw(sink, bundles);
    } else member(sink, keys.bundles, event.bundles);
  }
  if (members & bit.path) repeated(sink, keys.path, event.path, paths);
  if (members & bit.input && writable(event.input)) {
    raw(sink, keys.input);
    writePart(sink, event.input, input);
  }
  if (members & bit.pip) member(sink, keys.pip, event.pip);
  if (members & bit.result && writable(event.result)) {
    raw(sink, keys.result);
    writePart(sink, event.result, result);
  }
  if (members & bit.error) member(sink, keys.error, event.error);
  if (members & bit.requested_by) repeated(sink, keys.requested_by, event.requested_by, requesters);
  if (members & bit.timestamp) {
    const at = typeof event.timestamp === 'string' ? timestampText(event.timestamp) : undefined;
    if (at !== undefined) {
      raw(sink, keys.timestamp);
      raw(sink, at.upToMs);
      ascii(sink, at.rest);
      byte(sink, 0x22);
    } else member(sink, keys.timestamp, event.timestamp);
  }
  if (members & bit.nd_builtin_cache && writable(event.nd_builtin_cache)) {
    raw(sink, keys.nd_builtin_cache);
    writePart(sink, event.nd_builtin_cache, cache);
  }
  if (members & bit.metrics && writable(event.metrics)) {
    raw(sink, keys.metrics);
    if (!numberMap(sink, event.metrics)) writeValue(sink, event.metrics);
  }
  if (members & bit.request_context) member(sink, keys.request_context, event.request_context);
  if (members & bit.req_id) member(sink, keys.req_id, event.req_id);
  if (members & bit.erased) {
    const list = erased ?? event.erased;
    if (writable(list)) {
      raw(sink, keys.erased);
      if (!stringList(sink, list)) writeValue(sink, list);
    }
  }
  byte(sink, 0x7d);
  return true;
}

/** Each member's key text (comma, key, colon). */
const keys = Object.fromEntries(order.map((key) => [key, memberText(key)])) as Record<(typeof order)[number], Uint8Array>;

function member(sink: ByteSink, key: Uint8Array, value: unknown): void {
  if (typeof value === 'string') {
    raw(sink, key);
    return string(sink, value);
  }
  if (!writable(value)) return;
  raw(sink, key);
  writeValue(sink, value);
}

const paths = new RepeatedString();
const requesters = new RepeatedString();

function repeated(sink: ByteSink, key: Uint8Array, value: unknown, last: RepeatedString): void {
  if (typeof value !== 'string') return member(sink, key, value);
  raw(sink, key);
  last.write(sink, value);
}

/** A string, copied from `bytes` (its ASCII text, which needs no escapes) when given. */
function quoted(sink: ByteSink, bytes: Uint8Array | undefined, value: string): void {
  if (bytes === undefined) return string(sink, value);
  byte(sink, 0x22);
  raw(sink, bytes);
  byte(sink, 0x22);
}

/** `{"labels":` with the labels' text and `,"decision_id":`, for the last labels text seen (one per activation). */
function labelsPrefix(labels: Uint8Array): Uint8Array {
  if (labels !== lastLabels) {
    lastLabels = labels;
    lastPrefix = Buffer.concat([Buffer.from('{"labels":'), labels, keys.decision_id]);
  }
  return lastPrefix;
}

let lastLabels: Uint8Array | undefined;
let lastPrefix: Uint8Array = new Uint8Array(0);
