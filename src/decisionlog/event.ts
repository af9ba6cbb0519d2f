// The decision-log event: OPA's EventV1 (v1/plugins/logs/plugin.go, docs management-decision-logs.md),
// so OPA tooling reads what we store, export and upload. Field names are OPA's JSON names; optional
// fields are absent rather than null, as OPA omits them.
import { randomUUID } from 'node:crypto';
import type { EnrichmentReport } from '../pip/report.js';

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

export function newDecisionId(): string {
  return randomUUID();
}

// Date.now() has millisecond resolution; anchor a monotonic nanosecond clock to it once so timestamps
// carry nanoseconds and never go backwards within a process.
const anchorWallNs = BigInt(Date.now()) * 1_000_000n;
const anchorHr = process.hrtime.bigint();

/** Nanoseconds since the Unix epoch, now. */
export function nowNs(): bigint {
  return anchorWallNs + (process.hrtime.bigint() - anchorHr);
}

/** Formats Unix nanoseconds as Go's RFC3339Nano in UTC, e.g. 2024-05-01T10:00:00.12345Z. */
export function formatTimestamp(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // 2024-05-01T10:00:00.123Z
  const fraction = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return iso.slice(0, 19) + (fraction ? '.' + fraction : '') + 'Z';
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
