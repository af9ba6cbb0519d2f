import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { formatTimestamp, newDecisionEvent, newDecisionId, nowNs, parseTimestamp } from '../../src/decisionlog/event.js';

const schema = JSON.parse(readFileSync(new URL('../../../schemas/decision-event.schema.json', import.meta.url), 'utf8'));

test('timestamps are RFC3339Nano in UTC with trailing zeros of the fraction dropped, like Go', () => {
  assert.equal(formatTimestamp(1714557600123450000n), '2024-05-01T10:00:00.12345Z');
  assert.equal(formatTimestamp(1714557600000000000n), '2024-05-01T10:00:00Z');
  assert.equal(formatTimestamp(1714557600000000001n), '2024-05-01T10:00:00.000000001Z');
  // Within one millisecond and across them: the millisecond's text is made once, the rest per timestamp.
  assert.equal(formatTimestamp(1714557600120000000n), '2024-05-01T10:00:00.12Z');
  assert.equal(formatTimestamp(1714557600123000000n), '2024-05-01T10:00:00.123Z');
  assert.equal(formatTimestamp(1714557600123000100n), '2024-05-01T10:00:00.1230001Z');
  assert.equal(formatTimestamp(1714557600123400000n), '2024-05-01T10:00:00.1234Z');
  assert.equal(formatTimestamp(1714557600000100000n), '2024-05-01T10:00:00.0001Z');
  // Across seconds (the date and time of day are written once per second), days, and back.
  assert.equal(formatTimestamp(1714557601999000000n), '2024-05-01T10:00:01.999Z');
  assert.equal(formatTimestamp(1714557601999999999n), '2024-05-01T10:00:01.999999999Z');
  assert.equal(formatTimestamp(1714557602000000000n), '2024-05-01T10:00:02Z');
  assert.equal(formatTimestamp(1714608000005000000n), '2024-05-02T00:00:00.005Z');
  assert.equal(formatTimestamp(1714557600123000000n), '2024-05-01T10:00:00.123Z');
  assert.equal(formatTimestamp(-1500000000n), '1969-12-31T23:59:58.5Z');
  assert.equal(formatTimestamp(-1n), '1969-12-31T23:59:59.999999999Z');
});

test('decision ids are UUID version 7 with the variant bits set, in time order, all different', () => {
  const ids = Array.from({ length: 5000 }, () => newDecisionId());
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
  const ms = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  for (let i = 1; i < ids.length; i++) assert.ok(ms(ids[i]) >= ms(ids[i - 1]));
  assert.ok(Math.abs(ms(ids[0]) - Date.now()) < 60_000);
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
