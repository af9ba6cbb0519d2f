// The decision pipeline's events are written by a straight-line writer (stored-decision.ts); every other shape by
// the member loop (stored-json.ts). The two must write the same bytes: events of the decision shape, made at random
// with every member present or absent and values that need escapes, hold non-ASCII text, numbers of every kind,
// members JSON leaves out, are written both ways and compared byte for byte. The loop is made to write them by
// handing it the same members on an object without Object.prototype, which the straight-line writer never takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionMembers, writeDecisionEvent } from '../../src/decisionlog/stored-decision.js';
import { GrowingSink, storedEventJson, type StoredJsonOptions } from '../../src/decisionlog/stored-json.js';
import { formatTimestamp, newDecisionId, nowNs, type DecisionEvent } from '../../src/decisionlog/event.js';
import { writeJson } from '../../src/json/writer.js';
import { unsignedJwt } from './helpers.js';
import { prng } from '../../scripts/fuzz/prng.js';


const strings = [
  '',
  'alice',
  'gateway/authz/allow',
  '10.0.0.1:54321',
  'quote " and backslash \\',
  'tab\there\nnewline\r\u0000\u001f',
  '<script>&amp;</script>',
  'caf\u00e9 \u00fc\u00df',
  '\u65e5\u672c\u8a9e',
  'emoji \u{1f600}',
  'line sep \u2028 para sep \u2029',
  'lone \ud800 surrogate',
  '\u212aelvin',
  '\u007f delete',
  'x'.repeat(300),
];
const numbers = [0, 1, -1, 7, 42, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e21, 1.5, -0.25, -0, 1e-7, Number.NaN, Number.POSITIVE_INFINITY];

function pick<T>(next: () => number, from: readonly T[]): T {
  return from[Math.floor(next() * from.length)];
}

function value(next: () => number, depth = 0): unknown {
  const kind = Math.floor(next() * (depth > 2 ? 5 : 8));
  switch (kind) {
    case 0:
      return pick(next, strings);
    case 1:
      return pick(next, numbers);
    case 2:
      return next() < 0.5;
    case 3:
      return null;
    case 4:
      return pick(next, [undefined, () => 1, pick(next, strings)]);
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 4); i > 0; i--) object[pick(next, strings)] = value(next, depth + 1);
      return object;
    }
  }
}

function frozenDeep<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const inner of Object.values(v)) frozenDeep(inner);
    Object.freeze(v);
  }
  return v;
}

const sharedLabels = frozenDeep({ id: 'instance-\u00e9', version: '0.1.0' });
const sharedBundles = frozenDeep({ authz: { revision: 'rev "7"' }, extra: { revision: '' } });

/**
 * One event of the decision shape, members in EventV1's order, each optional one present or not, with random values,
 * and how its input is handed over.
 */
function decisionEvent(next: () => number): { event: DecisionEvent; options: StoredJsonOptions } {
  const maybe = (p = 0.5) => next() < p;
  // Labels as a server shares them (frozen, written once), others frozen, or not frozen (written as they are now).
  const event = { labels: maybe(0.9) ? sharedLabels : maybe() ? frozenDeep({ id: pick(next, strings), version: '1' }) : { id: pick(next, strings) } } as unknown as DecisionEvent;
  // The id just made (its bytes are at hand), one made before the last, or any text.
  const ids = [newDecisionId(), newDecisionId()];
  event.decision_id = maybe(0.8) ? ids[1] : maybe() ? ids[0] : pick(next, strings);
  if (maybe(0.3)) {
    event.trace_id = maybe() ? '4bf92f3577b34da6a3ce929d0e0e4736' : (pick(next, strings) as string);
    event.span_id = '00f067aa0ba902b7';
  }
  if (maybe(0.9)) event.bundles = maybe(0.8) ? sharedBundles : maybe() ? { authz: { revision: pick(next, strings) } } : (value(next) as DecisionEvent['bundles']);
  if (maybe(0.95)) event.path = maybe(0.7) ? 'gateway/authz/allow' : (pick(next, strings) as string);
  let options: StoredJsonOptions = {};
  if (maybe(0.9)) {
    event.input = maybe(0.3) ? { user: pick(next, strings), n: pick(next, numbers), headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } } : value(next);
    const text = writeJson(event.input);
    if (text !== undefined && maybe(0.7)) {
      // As a request's body carries it: spaces and number spellings kept, sometimes with the reader's word that no key is a credential.
      const json = maybe() ? ` ${text} ` : text;
      options = maybe() ? { inputBytes: new TextEncoder().encode(json), inputCredentialFree: maybe() } : { inputJson: json };
    }
  }
  if (maybe(0.1)) event.pip = { adapters: [{ name: pick(next, strings), cache: 'hit', latency_ns: pick(next, numbers) }] } as unknown as DecisionEvent['pip'];
  if (maybe(0.8)) event.result = maybe() ? maybe() : value(next);
  if (maybe(0.15)) event.error = { code: 'eval_error', message: pick(next, strings) as string };
  if (maybe(0.9)) event.requested_by = maybe(0.7) ? '127.0.0.1:50000' : (pick(next, strings) as string);
  // The timestamp just made (its bytes are at hand), one at a whole millisecond, one of another time, or any text.
  const ns = nowNs();
  const timestamps = [formatTimestamp(ns - 5_000_000n), formatTimestamp((ns / 1_000_000n) * 1_000_000n), formatTimestamp(ns - 123_000n), formatTimestamp(-1_500_000_001n), formatTimestamp(ns)];
  event.timestamp = maybe(0.7) ? timestamps[4] : pick(next, [...timestamps, ...strings]);
  if (maybe(0.1)) event.nd_builtin_cache = { 'time.now_ns': { '[]': pick(next, numbers) }, 'http.send': value(next) };
  if (maybe(0.9)) {
    const metrics: Record<string, unknown> = { counter_server_query_cache_hit: pick(next, [0, 1]) };
    if (maybe(0.2)) metrics.timer_rego_external_resolve_ns = pick(next, numbers);
    metrics.timer_rego_input_parse_ns = maybe(0.9) ? Math.floor(next() * 100_000) : pick(next, [...numbers, 'text']);
    metrics.timer_server_handler_ns = Math.floor(next() * 10_000_000);
    event.metrics = maybe(0.95) ? (metrics as Record<string, number>) : (value(next) as Record<string, number>);
  }
  if (maybe(0.1)) event.request_context = { http: { headers: { 'x-request-id': [pick(next, strings) as string] } } };
  if (maybe(0.8)) event.req_id = maybe(0.9) ? Math.floor(next() * 1e6) : (pick(next, numbers) as number);
  if (maybe(0.05)) (event as unknown as Record<string, unknown>).req_id = undefined;
  return { event, options };
}

/** The member loop's text: the same members on an object the straight-line writer does not take. */
function loopText(event: DecisionEvent, options: StoredJsonOptions): string {
  return storedEventJson(Object.assign(Object.create(null), event) as DecisionEvent, options);
}

/** The straight-line writer on its own, with the parts' texts prepared as writeStoredEvent prepares those of an event holding no credentials. */
function straightLineText(event: DecisionEvent, options: StoredJsonOptions): string | undefined {
  const members = decisionMembers(Object.keys(event));
  assert.ok(members >= 0, `a decision event's keys: ${Object.keys(event).join(', ')}`);
  const input = options.inputBytes ?? options.inputJson ?? (event.input === undefined ? undefined : writeJson(event.input));
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  const result = event.result === undefined || scalar(event.result) ? undefined : writeJson(event.result);
  const cache = event.nd_builtin_cache === undefined ? undefined : writeJson(event.nd_builtin_cache);
  const sink = new GrowingSink();
  if (!writeDecisionEvent(event, members, input, result, cache, undefined, sink)) return undefined;
  return sink.bytes.toString('utf8', 0, sink.used);
}

test('the straight-line writer writes the bytes the member loop writes, for 3,000 decision events of every make-up', () => {
  const next = prng(14);
  let straight = 0;
  for (let i = 0; i < 3000; i++) {
    const { event, options } = decisionEvent(next);
    const expected = loopText(event, options);
    // Through writeStoredEvent, which takes the straight-line writer for this shape (erasing credentials first).
    assert.equal(storedEventJson(event, options), expected, `event ${i}`);
    assert.equal(storedEventJson(event, { ...options, maskCredentials: false }), loopText(event, { ...options, maskCredentials: false }), `event ${i} unmasked`);
    // The straight-line writer itself, on events with nothing to erase.
    if (!/authorization|cookie/i.test(expected)) {
      const text = straightLineText(event, options);
      if (text !== undefined) {
        assert.equal(text, expected, `event ${i} straight-line`);
        straight++;
      }
    }
  }
  // Most events have frozen labels and a string id: the straight-line writer wrote them; the others it declined.
  assert.ok(straight > 2000, `${straight} events written straight-line`);
});

test('an event just made by the decision pipeline: its id and timestamp copied from the bytes they were made as', () => {
  const labels = sharedLabels;
  for (let i = 0; i < 200; i++) {
    const event = { labels, decision_id: newDecisionId(), bundles: sharedBundles, path: 'a/b', input: { i }, result: true, requested_by: 'x', timestamp: formatTimestamp(nowNs() + BigInt(i * 333)), metrics: { t: i }, req_id: i } as DecisionEvent;
    assert.equal(straightLineText(event, {}), loopText(event, {}));
    assert.equal(storedEventJson(event), JSON.stringify(event));
  }
});

test('credentials in the input of a decision event are erased and listed, as for any event', () => {
  const next = prng(7);
  const { event } = decisionEvent(next);
  event.labels = sharedLabels;
  event.input = { attributes: { request: { http: { headers: { authorization: `Bearer ${unsignedJwt({ sub: 'alice' })}`, 'Coo\u212Aie': 'session=1', accept: '*/*' } } } } };
  const stored = JSON.parse(storedEventJson(event));
  assert.deepEqual(stored.input.attributes.request.http.headers, { accept: '*/*' });
  assert.deepEqual(stored.erased, ['/input/attributes/request/http/headers/authorization', '/input/attributes/request/http/headers/Coo%E2%84%AAie']);
  assert.equal(storedEventJson(event), loopText(event, {}));
});

test('decisionMembers: the decision shape is labels and decision_id first, then EventV1 members in order, nothing else', () => {
  assert.equal(decisionMembers(['labels', 'decision_id']), 3);
  assert.ok(decisionMembers(['labels', 'decision_id', 'bundles', 'path', 'input', 'result', 'requested_by', 'timestamp', 'metrics', 'req_id']) > 3);
  assert.equal(decisionMembers(['decision_id', 'labels', 'timestamp']), -1);
  assert.equal(decisionMembers(['labels', 'decision_id', 'path', 'bundles']), -1);
  assert.ok(decisionMembers(['labels', 'decision_id', 'timestamp', 'erased']) > 3, 'erased last, as the credential erasure adds it');
  assert.equal(decisionMembers(['labels', 'decision_id', 'erased', 'timestamp']), -1);
  assert.equal(decisionMembers(['labels', 'decision_id', 'query', 'timestamp']), -1);
  assert.equal(decisionMembers(['labels', 'decision_id', 'timestamp', 'timestamp']), -1);
});
