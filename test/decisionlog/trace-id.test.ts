// The trace a decision belongs to (trace-id.ts): read from the event object when it is recorded, and by SQL from the
// stored JSON when an older log is upgraded. Both must give the same answer for every event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { sqliteTraceIdSql, traceIdOf, traceparentPaths } from '../../src/decisionlog/trace-id.js';
import type { DecisionEvent } from '../../src/decisionlog/event.js';
import { sampleEvent } from './helpers.js';

const id = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = `00-${id}-00f067aa0ba902b7-01`;

/** An object holding `value` at `path` (below the event). */
function at(path: readonly string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

test('a traceparent header at each path the filter knows names the trace, upper-case digits lowered', () => {
  for (const path of traceparentPaths) {
    assert.equal(traceIdOf(sampleEvent(at(path, traceparent))), id, path.join('.'));
    assert.equal(traceIdOf(sampleEvent(at(path, traceparent.toUpperCase()))), id, path.join('.'));
    assert.equal(traceIdOf(sampleEvent(at(path, `00-${id}`))), null, 'too short to be one');
  }
});

test('the event object and the SQL over its stored JSON name the same trace, also when a value stands where an object should', () => {
  const db = new Database(':memory:');
  const sql = db.prepare(`SELECT ${sqliteTraceIdSql} AS trace_id FROM (SELECT ? AS event)`);
  const events: DecisionEvent[] = [
    sampleEvent({ input: { request: { headers: { traceparent } } } }),
    sampleEvent({ input: { attributes: { request: { http: { headers: { traceparent } } } } } }),
    sampleEvent({ trace_id: id.toUpperCase(), input: { request: { headers: { traceparent: `00-${'1'.repeat(32)}-00f067aa0ba902b7-01` } } } }),
    // A traceparent where the path expects an object: neither reading takes it.
    sampleEvent({ input: { request: traceparent } }),
    sampleEvent({ input: { attributes: traceparent } }),
    sampleEvent({ input: { attributes: { request: { http: traceparent } } } }),
    sampleEvent({ input: traceparent }),
    sampleEvent({ input: [traceparent] }),
    sampleEvent({ input: { request: { headers: [traceparent] } } }),
    sampleEvent({ input: { request: { headers: { traceparent: 7 } } } }),
    sampleEvent({}),
  ];
  try {
    for (const event of events) {
      const stored = (sql.get(JSON.stringify(event)) as { trace_id: string | null }).trace_id;
      assert.equal(traceIdOf(event), stored, JSON.stringify(event.input));
    }
  } finally {
    db.close();
  }
});
