// The decision-log event: OPA's EventV1 (v1/plugins/logs/plugin.go, docs management-decision-logs.md),
// so OPA tooling reads what we store, export and upload. Field names are OPA's JSON names; optional
// fields are absent rather than null, as OPA omits them.
import { randomFillSync } from 'node:crypto';
import type { EnrichmentReport } from '../pip/report.js';
import type { WatchedMember } from '../json/reader.js';

export interface DecisionError {
  code: string;
  message: string;
  [detail: string]: unknown;
}

export interface DecisionEvent {
  /** Always carries `id` (instance id) and `version`. */
  labels: Record<string, string>;
  decision_id: string;
  trace_id?: string;
  span_id?: string;
  /** Bundle name → revision active when the decision was made. */
  bundles?: Record<string, { revision?: string }>;
  /** Queried path without a leading slash, e.g. "http/example/authz/allow"; "system/main" for POST /. */
  path?: string;
  /** Set instead of path by the Query API. */
  query?: string;
  input?: unknown;
  /** Absent when the decision was undefined. */
  result?: unknown;
  mapped_result?: unknown;
  nd_builtin_cache?: unknown;
  /** JSON pointers removed by the mask policy. */
  erased?: string[];
  /** JSON pointers upserted by the mask policy. */
  masked?: string[];
  error?: DecisionError;
  /** Client address of the request. */
  requested_by?: string;
  /** RFC3339 with nanoseconds, UTC (Go's time.RFC3339Nano: trailing zeros of the fraction dropped). */
  timestamp: string;
  metrics?: Record<string, number>;
  req_id?: number;
  request_context?: { http?: { headers?: Record<string, string[]> } };
  custom?: Record<string, unknown>;
  /** Verdict's own: which PIP adapters enriched the input, cache use, latency and errors (with `pip` configured). */
  pip?: EnrichmentReport;
}

/**
 * What the decision path already holds about an event, so recording it does not redo the work: the event time
 * as Unix nanoseconds (the event's `timestamp` is that time, formatted once) and the JSON text of `input`
 * exactly as the policy evaluated it. Each is optional; without them the store derives what it needs.
 */
export interface DecisionHints {
  tsNs?: bigint;
  inputText?: Uint8Array;
  /**
   * No object key in `inputText` is a credential header name, in any case (the JSON reader that parsed the request
   * watched for them): the text is stored without searching it for credentials to erase.
   */
  inputCredentialFree?: boolean;
  /**
   * Every member of `inputText` whose key is a credential header name, in any case, as the JSON reader located them
   * (offsets in bytes, paths from the input): the store cuts those of headers objects without searching the text.
   */
  inputCredentialMembers?: readonly WatchedMember[];
  /** `inputText` is valid UTF-8 (the body reader knew it from the text it decoded): the store does not check it again. */
  inputValidUtf8?: boolean;
}

const hexDigits = Buffer.from('0123456789abcdef', 'latin1');
const pool = new Uint8Array(4096);
let poolUsed = pool.length;
/** The id being made, as ASCII: its first 15 characters (time and version) change once per millisecond. */
const idBytes = Buffer.alloc(36);
let idMs = -1;
/** The id made last, whose text idBytes hold. */
let lastId = '';

/**
 * A fresh decision id: an RFC 9562 UUID version 7 (48-bit Unix milliseconds, then 74 random bits). OPA issues
 * random (version 4) UUIDs; time order makes the log's decision_id index grow at one end, so each batch
 * touches a few index pages instead of one page per event. Written as bytes and read as one flat string, which
 * the log and the answer copy without first joining pieces; the log copies the bytes (decisionIdBytes). `ms` is
 * the decision's millisecond when the caller has read the clock already (timestampMs): one reading serves both.
 */
export function newDecisionId(ms: number = Date.now()): string {
  if (poolUsed + 10 > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  const r = poolUsed;
  poolUsed += 10;
  if (ms !== idMs) {
    idMs = ms;
    const high = Math.floor(ms / 0x1000000); // the top 24 of the 48 bits
    const low = ms % 0x1000000;
    hexByte(0, (high >>> 16) & 0xff);
    hexByte(2, (high >>> 8) & 0xff);
    hexByte(4, high & 0xff);
    hexByte(6, (low >>> 16) & 0xff);
    idBytes[8] = 0x2d;
    hexByte(9, (low >>> 8) & 0xff);
    hexByte(11, low & 0xff);
    idBytes[13] = 0x2d;
    idBytes[14] = 0x37; // version 7
  }
  idBytes[15] = hexDigits[pool[r] & 0x0f];
  hexByte(16, pool[r + 1]);
  idBytes[18] = 0x2d;
  hexByte(19, 0x80 | (pool[r + 2] & 0x3f)); // variant 10
  hexByte(21, pool[r + 3]);
  idBytes[23] = 0x2d;
  for (let i = 0; i < 6; i++) hexByte(24 + 2 * i, pool[r + 4 + i]);
  lastId = idText(idBytes);
  return lastId;
}

/**
 * The 36 ASCII bytes as one flat string, made by the string builtin from the byte values: Buffer's toString is a
 * call into C++ that cost about half as much again (it was a tenth of the decision path's record step).
 */
function idText(b: Uint8Array): string {
  // prettier-ignore
  return String.fromCharCode(
    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17],
    b[18], b[19], b[20], b[21], b[22], b[23], b[24], b[25], b[26], b[27], b[28], b[29], b[30], b[31], b[32], b[33], b[34], b[35],
  );
}

/**
 * The ASCII bytes of `id` when it is the id newDecisionId made last, as they are at hand: the decision path writes
 * its event's id before it makes the next. Valid until the next id is made; undefined for any other id.
 */
export function decisionIdBytes(id: string): Uint8Array | undefined {
  return id === lastId ? idBytes : undefined;
}

function hexByte(at: number, value: number): void {
  idBytes[at] = hexDigits[value >>> 4];
  idBytes[at + 1] = hexDigits[value & 0x0f];
}

// Date.now() has millisecond resolution; anchor a monotonic nanosecond clock to it once so timestamps
// carry nanoseconds and never go backwards within a process.
const anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/**
 * Nanoseconds since the Unix epoch, now, or at `hrtime` (a process.hrtime.bigint() reading the caller took: the
 * decision path reads the clock when the evaluation ends, and that reading dates the event too).
 */
export function nowNs(hrtime: bigint = process.hrtime.bigint()): bigint {
  return anchorNs + hrtime;
}

/** Formats Unix nanoseconds as Go's RFC3339Nano in UTC, e.g. 2024-05-01T10:00:00.12345Z. */
export function formatTimestamp(ns: bigint): string {
  // Decisions come many to a millisecond, and a thread serving a few a millisecond or less still makes many in a
  // second: the date and time of day are written once per second, the text up to the milliseconds once per
  // millisecond. A thread making one decision a millisecond or less starts a millisecond with most of them, so the
  // millisecond is worked out from the nanoseconds within the second as numbers: the divisions of big integers
  // (each a new one) are done once per second.
  let sub = Number(ns - lastSecondNs); // 0 to 999,999,999 ns within the last second
  let subMs = sub - lastMsStart; // 0 to 999,999 ns within the last millisecond
  if (!(subMs >= 0 && subMs < 1_000_000)) {
    if (!(sub >= 0 && sub < 1_000_000_000)) {
      if (ns < 0n) return formatAnyTimestamp(ns);
      const second = ns / 1_000_000_000n;
      lastSecondNs = second * 1_000_000_000n;
      lastSecondMs = Number(second) * 1000;
      lastSecondText = new Date(lastSecondMs).toISOString().slice(0, 19); // 2024-05-01T10:00:00
      secondBytesMade = false;
      sub = Number(ns - lastSecondNs);
    }
    const msInSecond = Math.floor(sub / 1_000_000);
    lastMsStart = msInSecond * 1_000_000;
    lastMs = lastSecondMs + msInSecond;
    lastMsDigits = threeDigits[msInSecond];
    lastMsText = lastSecondText + '.' + lastMsDigits;
    msBytesMade = false;
    subMs = sub - lastMsStart;
  }
  if (subMs === 0) {
    // Rare (a clock reading on the millisecond), so its text is made each time.
    const msDigits = trimmedDigits[lastMsStart / 1_000_000];
    lastSuffix = undefined;
    return (lastTimestamp = lastSecondText + (msDigits === '' ? '' : '.' + msDigits) + 'Z');
  }
  const micros = Math.floor(subMs / 1000);
  const nanos = subMs % 1000;
  lastSuffix = nanos === 0 ? trimmedDigitsZ[micros] : threeDigits[micros] + trimmedDigitsZ[nanos];
  return (lastTimestamp = lastMsText + lastSuffix);
}

/**
 * The Unix millisecond of the time formatTimestamp formatted last (a time after 1970), for the decision id of the
 * same event: its clock reading dates both, and the id's millisecond is the timestamp's.
 */
export function timestampMs(): number {
  return lastMs;
}

/**
 * The JSON text of `text` (between quotes, without the closing one) when it is the timestamp formatTimestamp made
 * last: the bytes up to its milliseconds, made once per millisecond, then the rest. The closing quote is for the
 * caller to add: the bytes are shared until the next millisecond. Undefined for any other text.
 */
export function timestampText(text: string): { upToMs: Uint8Array; rest: string } | undefined {
  if (text !== lastTimestamp || lastSuffix === undefined) return undefined;
  if (!msBytesMade) {
    // Into the same bytes each time, in JavaScript: a server making one decision a millisecond makes them anew for
    // every event, and an allocation or a call into the encoder would then cost more than it saves. From the parts,
    // the date and time once a second: lastMsText is a concatenation, and reading a character of it would make V8
    // flatten it into a new string in its runtime, once per millisecond.
    if (!secondBytesMade) {
      msBytes[0] = 0x22;
      for (let i = 0; i < 19; i++) msBytes[i + 1] = lastSecondText.charCodeAt(i);
      msBytes[20] = 0x2e;
      secondBytesMade = true;
    }
    msBytes[21] = lastMsDigits.charCodeAt(0);
    msBytes[22] = lastMsDigits.charCodeAt(1);
    msBytes[23] = lastMsDigits.charCodeAt(2);
    msBytesMade = true;
  }
  timestampParts.upToMs = msBytes;
  timestampParts.rest = lastSuffix;
  return timestampParts;
}

/** Unix nanoseconds of the second the texts below are of (none at first), its milliseconds, and its date and time. */
let lastSecondNs = -(1n << 80n);
let lastSecondMs = 0;
let lastSecondText = '';
/** Nanoseconds from that second to the millisecond lastMsText is of (none yet: beyond any). */
let lastMsStart = Infinity;
let lastMs = 0;
let lastMsText = '';
/** Its last three digits, the millisecond within the second. */
let lastMsDigits = '000';
/** '"' and lastMsText as ASCII (always 23 characters: the date and time cut to 19, a dot, three digits), once asked for. */
const msBytes = new Uint8Array(24);
let msBytesMade = false;
/** Whether msBytes hold lastSecondText (their first 21 bytes: the quote, the date and time, the dot). */
let secondBytesMade = false;
/** What formatTimestamp returned last, and the part of it after lastMsText (undefined: it ends at the millisecond). */
let lastTimestamp = '';
let lastSuffix: string | undefined;
const timestampParts: { upToMs: Uint8Array; rest: string } = { upToMs: new Uint8Array(0), rest: '' };
/** "000" to "999", and the same without trailing zeros ("" for 0). */
const threeDigits = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const trimmedDigits = threeDigits.map((d) => d.replace(/0+$/, ''));
/** The same followed by the Z that ends a timestamp. */
const trimmedDigitsZ = trimmedDigits.map((d) => d + 'Z');

/** formatTimestamp for any time, before 1970 too. */
function formatAnyTimestamp(ns: bigint): string {
  let second = ns / 1_000_000_000n;
  let nanos = ns % 1_000_000_000n;
  if (nanos < 0n) {
    nanos += 1_000_000_000n;
    second -= 1n;
  }
  const text = new Date(Number(second) * 1000).toISOString().slice(0, 19);
  const fraction = String(nanos).padStart(9, '0').replace(/0+$/, '');
  return text + (fraction === '' ? '' : '.' + fraction) + 'Z';
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC3339 timestamp (any offset, up to nanoseconds) to Unix nanoseconds; undefined if malformed. */
export function parseTimestamp(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const offset = m[4].toUpperCase() === 'Z' ? 'Z' : m[4];
  const seconds = Date.parse(`${m[1]}T${m[2]}${offset}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
}

export interface NewEventFields extends Omit<DecisionEvent, 'decision_id' | 'timestamp' | 'labels'> {
  decision_id?: string;
  timestamp?: string;
  labels?: Record<string, string>;
}

/** Fills what a caller need not supply: a fresh decision id and the current time. */
export function newDecisionEvent(fields: NewEventFields, labels: Record<string, string>): DecisionEvent {
  return {
    ...fields,
    labels: fields.labels ?? labels,
    decision_id: fields.decision_id ?? newDecisionId(),
    timestamp: fields.timestamp ?? formatTimestamp(nowNs()),
  };
}

/**
 * OPA's request_context for the headers named in decision_logs.request_context.http.headers: each
 * configured name that the request carries maps to all its values. `headers` are Node's (lower-cased
 * names, repeated headers as arrays).
 */
export function requestContextHeaders(
  headers: Record<string, string | string[] | undefined>,
  names: readonly string[],
): DecisionEvent['request_context'] | undefined {
  const picked: Record<string, string[]> = {};
  for (const name of names) {
    const value = headers[name.toLowerCase()];
    if (value === undefined) continue;
    picked[name] = Array.isArray(value) ? value : [value];
  }
  return Object.keys(picked).length > 0 ? { http: { headers: picked } } : undefined;
}
