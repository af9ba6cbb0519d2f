// What the decision path hands the store besides the event (DecisionHints): the input's JSON text is stored as
// it came instead of re-serialised, and the event time is taken as given; neither may weaken what is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { DecisionLogger } from '../../src/decisionlog/logger.js';
import { newDecisionId, parseTimestamp } from '../../src/decisionlog/event.js';
import { sampleEvent, tempDir } from './helpers.js';

const encoder = new TextEncoder();

function storedEvent(store: DecisionLogStore, decisionId: string): { event: string; ts_ns: bigint } {
  return store.db.prepare('SELECT event, ts_ns FROM decisions WHERE decision_id = ?').safeIntegers().get(decisionId) as { event: string; ts_ns: bigint };
}

test('the input text is stored as the request carried it: big integers stay exact, the other fields as before', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  const text = '{"user": {"id": "alice"}, "account": 123456789012345678901}';
  const event = sampleEvent({ input: JSON.parse(text) });
  await store.record(event, { inputText: encoder.encode(text) });
  await store.flush();
  const { event: json } = storedEvent(store, event.decision_id);
  assert.ok(json.includes('"input":{"user": {"id": "alice"}, "account": 123456789012345678901}'), json);
  const { input, ...rest } = JSON.parse(json) as Record<string, unknown>;
  const { input: _given, ...expected } = event;
  assert.deepEqual(rest, expected);
  assert.deepEqual(input, JSON.parse(text));
  await store.close();
});

test('credential headers in an input given as text are erased all the same, also when the name is \\u-escaped', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  const texts = [
    '{"attributes": {"request": {"http": {"headers": {"authorization": "Bearer secret-1", "accept": "*/*"}}}}}',
    '{"request": {"headers": {"Cookie": "session=secret-2"}}}',
    '{"request": {"headers": {"\\u0061uthorization": "Bearer secret-3"}}}',
  ];
  const events = texts.map((text) => sampleEvent({ input: JSON.parse(text) }));
  for (const [i, event] of events.entries()) await store.record(event, { inputText: encoder.encode(texts[i]) });
  await store.flush();
  for (const event of events) {
    const { event: json } = storedEvent(store, event.decision_id);
    assert.doesNotMatch(json, /secret-/);
    assert.equal((JSON.parse(json) as { erased: string[] }).erased.length, 1, json);
  }
  await store.close();
});

test('input bytes are stored as UTF-8 text: other scripts byte for byte, invalid sequences replaced as a decoder replaces them', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), batchSize: 3 });
  const text = '{"user": "Zoë 李 🦊", "note": "<&>"}';
  const good = sampleEvent({ input: JSON.parse(text) });
  const invalid = Buffer.concat([Buffer.from('{"user": "a'), Buffer.from([0xff, 0xc3]), Buffer.from('b"}')]);
  const bad = sampleEvent({ input: { user: 'a\ufffd\ufffdb' } });
  // More events than one batch holds, so rows of several batches (and their buffers) are read back.
  const more = Array.from({ length: 7 }, (_, i) => sampleEvent({ input: { n: i } }));
  await store.record(good, { inputText: encoder.encode(text) });
  await store.record(bad, { inputText: invalid });
  for (const event of more) await store.record(event, { inputText: encoder.encode(JSON.stringify(event.input)) });
  await store.flush();
  const stored = storedEvent(store, good.decision_id).event;
  assert.ok(stored.includes(`"input":${text}`), stored);
  assert.equal(store.db.prepare('SELECT typeof(event) AS t FROM decisions WHERE decision_id = ?').pluck().get(good.decision_id), 'text');
  assert.deepEqual((JSON.parse(storedEvent(store, bad.decision_id).event) as { input: unknown }).input, { user: 'a\ufffd\ufffdb' });
  for (const event of more) assert.deepEqual((JSON.parse(storedEvent(store, event.decision_id).event) as { input: unknown }).input, event.input);
  assert.equal(store.status().written, 9);
  await store.close();
});

test('the event time given with the event is the indexed time; without it the timestamp is parsed', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  const given = sampleEvent({ timestamp: '2024-05-01T10:00:00.123456789Z' });
  const parsed = sampleEvent({ timestamp: '2024-05-01T10:00:00.5Z' });
  await store.record(given, { tsNs: parseTimestamp(given.timestamp)! });
  await store.record(parsed);
  await store.flush();
  assert.equal(storedEvent(store, given.decision_id).ts_ns, 1714557600123456789n);
  assert.equal(storedEvent(store, parsed.decision_id).ts_ns, 1714557600500000000n);
  await store.close();
});

test('without drop or mask rules in the policy set, the logger evaluates neither; a mask that rewrites the input drops its text', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  const asked: string[] = [];
  let rules = new Set<string>();
  const logger = new DecisionLogger(store, {
    evaluate: async (path) => {
      asked.push(path);
      return path === 'system/log/mask' ? { result: ['/input/password'] } : {};
    },
    defined: (path) => rules.has(path),
  });
  const text = '{"user": "alice", "password": "hunter2"}';
  const first = sampleEvent({ input: JSON.parse(text) });
  await logger.log(first, { inputText: encoder.encode(text) });
  assert.deepEqual(asked, []);
  rules = new Set(['system/log/mask']);
  const second = sampleEvent({ input: JSON.parse(text) });
  await logger.log(second, { inputText: encoder.encode(text) });
  assert.deepEqual(asked, ['system/log/mask']);
  await store.flush();
  assert.match(storedEvent(store, first.decision_id).event, /hunter2/);
  const masked = JSON.parse(storedEvent(store, second.decision_id).event) as { input: unknown; erased: string[] };
  assert.deepEqual(masked.input, { user: 'alice' });
  assert.deepEqual(masked.erased, ['/input/password']);
  await store.close();
});

test('decision ids are RFC 9562 version 7 UUIDs, ordered by time', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    ids.push(newDecisionId());
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
  const ms = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
  for (let i = 1; i < ids.length; i++) assert.ok(ms(ids[i]) >= ms(ids[i - 1]));
  assert.ok(Math.abs(ms(ids.at(-1)!) - Date.now()) < 5_000);
});
