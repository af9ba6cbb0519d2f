import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { formatTimestamp, newDecisionEvent, nowNs, parseTimestamp } from '../../src/decisionlog/event.js';

const schema = JSON.parse(readFileSync(new URL('../../../schemas/decision-event.schema.json', import.meta.url), 'utf8'));

test('timestamps are RFC3339Nano in UTC with trailing zeros of the fraction dropped, like Go', () => {
  assert.equal(formatTimestamp(1714557600123450000n), '2024-05-01T10:00:00.12345Z');
  assert.equal(formatTimestamp(1714557600000000000n), '2024-05-01T10:00:00Z');
  assert.equal(formatTimestamp(1714557600000000001n), '2024-05-01T10:00:00.000000001Z');
});

test('timestamps parse back to the same nanoseconds, offsets included', () => {
  assert.equal(parseTimestamp('2024-05-01T10:00:00.12345Z'), 1714557600123450000n);
  assert.equal(parseTimestamp('2024-05-01T12:00:00.000000001+02:00'), 1714557600000000001n);
  assert.equal(parseTimestamp('2024-05-01 10:00:00Z'), undefined);
  assert.equal(parseTimestamp('yesterday'), undefined);
});

test('the clock never goes backwards and carries sub-millisecond digits', () => {
  const a = nowNs();
  const b = nowNs();
  assert.ok(b >= a);
  assert.ok(Math.abs(Number(a / 1_000_000n) - Date.now()) < 1000);
});

test('a new event gets an id and time, and validates against the event schema', () => {
  const event = newDecisionEvent({ path: 'a/b', input: { x: 1 }, result: true }, { id: 'i', version: 'v' });
  assert.match(event.decision_id, /^[0-9a-f-]{36}$/);
  const ajv = new Ajv();
  assert.equal(ajv.validate(schema, event), true, JSON.stringify(ajv.errors));
  assert.equal(ajv.validate(schema, { ...event, timestamp: 'now' }), false);
  assert.equal(ajv.validate(schema, { ...event, erased: ['/data/secret'] }), false);
});
