// Which trace a decision belongs to, as both stores index it (the trace_id column): the event's own `trace_id`
// (set when distributed tracing is on), else the trace id of the W3C `traceparent` header in the input of an
// Envoy check or of a gateway callout, so decisions of a traced gateway are found even with Verdict's tracing off.
// Read from the event object before it is written; databases made before the column fill it from the stored
// JSON with the SQL expressions below, which give the same answer.
import type { DecisionEvent } from './event.js';

/** Where a traceparent header sits in the inputs the trace_id filter knows, as paths below the event. */
export const traceparentPaths = [
  ['input', 'attributes', 'request', 'http', 'headers', 'traceparent'],
  ['input', 'request', 'headers', 'traceparent'],
] as const;

const hex32 = /^[0-9a-fA-F]{32}$/;

/** 32 lowercase hex digits, or null when the event names no trace. */
export function traceIdOf(event: DecisionEvent): string | null {
  if (typeof event.trace_id === 'string' && hex32.test(event.trace_id)) return event.trace_id.toLowerCase();
  const input = object(event.input);
  if (input === undefined) return null;
  return traceIdIn(envoyTraceparent(input)) ?? traceIdIn(calloutTraceparent(input));
}

type Members = Record<string, unknown>;

function object(value: unknown): Members | undefined {
  return value !== null && typeof value === 'object' ? (value as Members) : undefined;
}

// traceparentPaths below `input`, each member read by its name written out: a read by a key held in a variable goes
// through V8's generic lookup for every object of every event (about half a microsecond for the two paths), where a
// read by name is answered by the site's cache of the inputs' few shapes.
function envoyTraceparent(input: Members): unknown {
  return object(object(object(object(input.attributes)?.request)?.http)?.headers)?.traceparent;
}

function calloutTraceparent(input: Members): unknown {
  return object(object(input.request)?.headers)?.traceparent;
}

function traceIdIn(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  // Mostly written in lower case, which needs no lowering. A regular expression checks the 36 characters in compiled
  // code; a charCodeAt loop over the input's strings (slices of the request's text) cost about twice as much.
  if (lowerTraceparent.test(value)) return value.slice(3, 35);
  return anyTraceparent.test(value) ? value.slice(3, 35).toLowerCase() : null;
}

/** How a traceparent starts: two hex digits (the version), '-', the 32 of the trace id, '-'. */
const lowerTraceparent = /^[0-9a-f]{2}-[0-9a-f]{32}-/;
const anyTraceparent = /^[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-/;

/** A trace id as the column holds it (lowercase), or undefined when the text is not 32 hex digits. */
export function normalTraceId(text: string): string | undefined {
  return hex32.test(text) ? text.toLowerCase() : undefined;
}

const hexClass = '[0-9a-fA-F]';
/** GLOB patterns (SQLite) for a bare trace id and a traceparent value. */
const traceIdGlob = hexClass.repeat(32);
const traceparentGlob = `${hexClass}${hexClass}-${traceIdGlob}-*`;

/** traceIdOf as a SQLite expression over the stored event JSON (column `event`). */
export const sqliteTraceIdSql = `coalesce(
  CASE WHEN typeof(event ->> '$.trace_id') = 'text' AND (event ->> '$.trace_id') GLOB '${traceIdGlob}' THEN lower(event ->> '$.trace_id') END,
  ${traceparentPaths
    .map((path) => {
      const value = `(event ->> '$.${path.join('.')}')`;
      return `CASE WHEN typeof${value} = 'text' AND ${value} GLOB '${traceparentGlob}' THEN lower(substr(${value}, 4, 32)) END`;
    })
    .join(',\n  ')})`;

/** traceIdOf as a PostgreSQL expression over the stored event (column `event`, json). */
export const postgresTraceIdSql = `lower(coalesce(
  CASE WHEN json_typeof(event -> 'trace_id') = 'string' AND event ->> 'trace_id' ~ '^[0-9a-fA-F]{32}$' THEN event ->> 'trace_id' END,
  ${traceparentPaths
    .map((path) => `substring(event #>> '{${path.join(',')}}' from '^[0-9a-fA-F]{2}-([0-9a-fA-F]{32})-')`)
    .join(',\n  ')}))`;
