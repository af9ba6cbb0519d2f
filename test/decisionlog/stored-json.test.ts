// The stored event text is written member by member (stored-json.ts); it must be exactly the text of the
// straightforward encoding: writeJson of the whole event, each part (input, result, nd_builtin_cache) replaced by
// its own text with the credential members cut, `erased` extended. That reference is written out below and every
// kind of event the log sees is compared with it, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesMayHoldCredentials, eraseCredentialsInJson, mayHoldCredentials } from '../../src/decisionlog/credentials.js';
import { GrowingSink, storedEventJson, writeStoredEvent } from '../../src/decisionlog/stored-json.js';
import { applyMask } from '../../src/decisionlog/mask.js';
import { nowNs, parseTimestamp, type DecisionEvent } from '../../src/decisionlog/event.js';
import { NumberText } from '../../src/json/number-text.js';
import { writeJson } from '../../src/json/writer.js';
import { recordDecision } from '../../src/server/decisions.js';
import type { ServerContext } from '../../src/server/context.js';
import { sampleEvent, unsignedJwt } from './helpers.js';

const parts = ['input', 'result', 'nd_builtin_cache'] as const;

/** The event's stored text, written the plain way: one writeJson of the event with placeholders for the parts. */
function reference(event: DecisionEvent, options: { inputJson?: string; maskCredentials?: boolean } = {}): string {
  const mask = options.maskCredentials ?? true;
  const keep = mask && event.masked?.length ? new Set(event.masked) : undefined;
  const skeleton: Record<string, unknown> = { ...event };
  const texts = new Map<string, string>();
  let erased: string[] | undefined;
  for (const part of parts) {
    if (event[part] === undefined) continue;
    let text = part === 'input' && options.inputJson !== undefined ? options.inputJson : writeJson(event[part]);
    const cut = mask && mayHoldCredentials(text) ? eraseCredentialsInJson(text, part, keep) : undefined;
    if (cut) {
      text = cut.json;
      (erased ??= [...(event.erased ?? [])]).push(...cut.erased);
    }
    const placeholder = `@@part-${part}@@`;
    skeleton[part] = placeholder;
    texts.set(JSON.stringify(placeholder), text);
  }
  if (erased) skeleton.erased = erased;
  let json = writeJson(skeleton);
  for (const [placeholder, text] of texts) json = json.replace(placeholder, () => text);
  return json;
}

function assertSameText(event: DecisionEvent, options: { inputJson?: string; maskCredentials?: boolean } = {}) {
  const expected = reference(event, options);
  assert.equal(storedEventJson(event, options), expected);
  if (options.inputJson !== undefined) {
    // The same input handed over as the request's bytes.
    const { inputJson, ...rest } = options;
    assert.equal(storedEventJson(event, { ...rest, inputBytes: new TextEncoder().encode(inputJson) }), expected);
  }
  return expected;
}

const token = `Bearer ${unsignedJwt({ sub: 'alice@example.com' })}`;

function envoyInput(headers: Record<string, string>) {
  return { attributes: { request: { http: { method: 'GET', path: '/orders', headers: { ':authority': 'shop', ...headers } } } }, parsed_path: ['orders'] };
}

test('a server event (frozen labels and bundles, timers, req_id, trace ids) is stored as the plain encoding writes it', () => {
  const labels = Object.freeze({ id: 'instance-1', version: '0.1.0', region: 'eu<west>&1' });
  const bundles = Object.freeze({ authz: Object.freeze({ revision: 'rev-1' }), extra: Object.freeze({ revision: 'r"2' }) });
  for (let i = 0; i < 3; i++) {
    const event: DecisionEvent = {
      labels,
      decision_id: `0190c6c1-aaaa-7bbb-8ccc-00000000000${i}`,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      bundles,
      path: 'gateway/authz/allow',
      input: { token: { claims: { sub: 'carol', n: i } }, request: { headers: { accept: 'application/json' } } },
      result: i !== 1,
      requested_by: '127.0.0.1:54321',
      timestamp: '2026-12-06T04:00:00.12345Z',
      metrics: { counter_server_query_cache_hit: 1, timer_rego_query_eval_ns: 41000 + i, timer_server_handler_ns: 0.5 },
      req_id: i,
    };
    assertSameText(event);
    assertSameText(event, { inputJson: ' {"token" : {"claims":{"sub":"carol","n":12345678901234567890}}}\n' });
  }
});

test('credential headers: cut from input, result and builtin cache, appended to erased or to the erased already there', () => {
  const input = envoyInput({ authorization: token, cookie: 'session=s3cr3t', 'x-request-id': 'r1' });
  const withCredentials = sampleEvent({
    input,
    result: { allowed: true, headers: { Authorization: 'Bearer upstream-s3cr3t' } },
    nd_builtin_cache: { 'http.send': [{ request: { headers: { 'Proxy-Authorization': 'Basic cHJveHk6czNjcjN0' } } }] },
  });
  const text = assertSameText(withCredentials);
  assert.ok(!text.includes('s3cr3t') && !text.includes('cHJveHk6czNjcjN0') && !text.includes(token));
  assert.deepEqual(Object.keys(JSON.parse(text)).at(-1), 'erased', 'a new erased member goes last');
  assertSameText(withCredentials, { inputJson: JSON.stringify(input, null, 2) });
  assertSameText(withCredentials, { inputJson: '{"attributes":{"request":{"http":{"headers":{"\\u0061uthorization":"Bearer x","x":1}}}}}' });
  assertSameText(withCredentials, { maskCredentials: false });

  // A mask policy ran first: its erased member keeps its place and gains the cuts; its upsert is left alone.
  const masked = applyMask(withCredentials, ['/input/parsed_path', { op: 'upsert', path: '/input/attributes/request/http/headers/cookie', value: 'masked' }]);
  assert.deepEqual(masked.erased, ['/input/parsed_path']);
  const maskedText = assertSameText(masked);
  assert.deepEqual(JSON.parse(maskedText).erased, ['/input/parsed_path', '/input/attributes/request/http/headers/authorization', '/result/headers/Authorization', '/nd_builtin_cache/http.send/0/request/headers/Proxy-Authorization']);
  assert.equal(JSON.parse(maskedText).input.attributes.request.http.headers.cookie, 'masked');
  // An erased member present but undefined is filled in its place.
  const keys = Object.keys(JSON.parse(assertSameText({ erased: undefined, ...withCredentials } as DecisionEvent)));
  assert.ok(keys.indexOf('erased') < keys.indexOf('input'), 'erased written where the event has the key');
});

test('the input bytes are searched for credential words as the text is: either case, at either end, escapes, none', () => {
  const texts = [
    '{"headers":{"Authorization":"Bearer x"}}',
    '{"h":{"AUTHORIZATION":1}}',
    '{"h":{"aUtHoRiZaTiOn":1}}',
    'authorization',
    'cookie',
    'xCOOKIE',
    '{"set-cookie":["a"]}',
    '{"a":"\\u0061uthorization"}',
    '{"a":"authorizatio","b":"ookie","c":"zk","d":"\\n"}',
    '{"user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)","z":"kkk"}',
    '{"é":"authorizaţion","ü":"cookïe","k":"z"}',
    '{"authorization":"x"}'.slice(0, 14),
    '{"h":{"coo\u212Aie":1}}',
    '',
    'z',
    'k',
  ];
  for (const text of texts) assert.equal(bytesMayHoldCredentials(Buffer.from(text, 'utf8')), mayHoldCredentials(text), text);
  assert.equal(bytesMayHoldCredentials(Buffer.from('{"h":{"Cookie":"s"}}')), true);
  assert.equal(bytesMayHoldCredentials(Buffer.from('{"h":{"Coo\u212Aie":"s"}}')), true, 'the Kelvin sign lower-cases to k');
  assert.equal(bytesMayHoldCredentials(Buffer.from('{"h":{"cookies_kept":false,"authz":"zz"}}')), true);
  assert.equal(bytesMayHoldCredentials(Buffer.from('{"h":{"accept":"json","authz":"zz","kk":1}}')), false);
});

test('strings that need escapes, numbers kept as written, members JSON leaves out, values with toJSON', () => {
  const event = sampleEvent({
    path: 'a/<b>&c',
    requested_by: 'quote " backslash \\ line\u2028sep\u2029 control \u0001 lone \ud800 pair 😀 é',
    decision_id: 'plain',
    result: { big: new NumberText('123456789012345678901234567890'), exp: new NumberText('1e400'), html: '<script>&' },
    metrics: { timer_server_handler_ns: 1e21, odd: -0, nan: NaN, inf: Infinity, exact: new NumberText('1.0') as unknown as number },
    custom: { when: new Date(0), gone: undefined, fn: () => 1 },
    query: undefined,
  });
  (event as unknown as Record<string, unknown>).callback = () => 1;
  (event as unknown as Record<string, unknown>)['key "with" <html>'] = 'x';
  const text = assertSameText(event);
  assert.match(text, /"big":123456789012345678901234567890/);
  assert.ok(!text.includes('callback') && !text.includes('"query"'));
  assertSameText(event, { inputJson: '{"subject":{"id":"ålice"}}' });
  assertSameText(sampleEvent({ input: undefined, result: undefined }));
});

test('scalar members and results, and a timer map of numbers only, are written as the plain encoding writes them', () => {
  for (const result of [true, false, null, 0, -0, 1e21, 5e-7, NaN, Infinity, '', 'a<b>&"c"\u2028', 'plain']) {
    assertSameText(sampleEvent({ result, req_id: result === true ? 1 : -0 }));
  }
  // All numbers: written member by member, keys escaped as writeJson escapes them; with an integer-like key
  // among them, in writeJson's order too (sorted as text, as Go writes a map).
  const metrics = { timer_rego_query_eval_ns: 41000, 'odd <key> & "quote"': -0, 'x.y-z': 1e21, nan: NaN, inf: -Infinity, 7: 0.5 };
  assert.match(assertSameText(sampleEvent({ metrics })), /"metrics":\{"7":0\.5,"inf":null,"nan":null,"odd \\u003ckey\\u003e \\u0026 \\"quote\\"":0,"timer_rego_query_eval_ns":41000,/);
  // Anything else in the map, or a map that is not a plain object, goes through writeJson as a whole.
  assertSameText(sampleEvent({ metrics: { a: 1, b: '2', c: undefined } as unknown as Record<string, number> }));
  assertSameText(sampleEvent({ metrics: Object.assign(Object.create(null), { a: 1 }) }));
  assertSameText(sampleEvent({ metrics: Object.assign(new (class Timers {})(), { a: 1 }) as unknown as Record<string, number> }));
  assertSameText(sampleEvent({ metrics: { a: 1, toJSON: () => ({ replaced: true }) } as unknown as Record<string, number> }));
  assertSameText(sampleEvent({ metrics: {} }));
});

test('metrics of one shape after another: each event written with its own members, whatever the last one had', () => {
  const timers = (eval_ns: number) => ({ counter_server_query_cache_hit: 1, timer_rego_input_parse_ns: 21000, timer_rego_query_eval_ns: eval_ns, timer_server_handler_ns: 90000 });
  const sequence: Record<string, unknown>[] = [
    timers(1),
    timers(2),
    // The last one's members and one more; fewer; the same keys in another order; a non-number after matching keys.
    { ...timers(3), timer_rego_query_compile_ns: 7 },
    { counter_server_query_cache_hit: 0, timer_rego_input_parse_ns: 5 },
    { counter_server_query_cache_hit: 0 },
    { timer_rego_input_parse_ns: 5, counter_server_query_cache_hit: 0 },
    { timer_rego_input_parse_ns: 5, counter_server_query_cache_hit: '0' },
    { timer_rego_input_parse_ns: 5, counter_server_query_cache_hit: 0 },
    {},
    timers(4),
    { 2: 1, 10: 2, a: 3 },
    { 2: 1, 10: 2, a: 3 },
    timers(5),
  ];
  for (const metrics of sequence) assertSameText(sampleEvent({ metrics: metrics as Record<string, number> }));
});

test('labels and bundles: a deeply frozen object is written once, anything else as it is at each event', () => {
  const frozen = Object.freeze({ id: 'a', version: '1' });
  assertSameText(sampleEvent({ labels: frozen }));
  assertSameText(sampleEvent({ labels: frozen }));
  const open: Record<string, string> = { id: 'a', version: '1' };
  assertSameText(sampleEvent({ labels: open }));
  open.id = 'changed';
  assert.match(assertSameText(sampleEvent({ labels: open })), /"id":"changed"/);
  // Frozen on the outside only: the revision inside may change, so the text is not kept.
  const inner = { revision: 'r1' };
  const shallow = Object.freeze({ authz: inner });
  assertSameText(sampleEvent({ bundles: shallow }));
  inner.revision = 'r2';
  assert.match(assertSameText(sampleEvent({ bundles: shallow })), /"revision":"r2"/);
  // Frozen, but a getter may answer differently each time.
  let calls = 0;
  const computed = Object.freeze({ get id() { return `call-${++calls}`; }, version: '1' });
  assert.match(storedEventJson(sampleEvent({ labels: computed })), /"id":"call-1"/);
  assert.match(storedEventJson(sampleEvent({ labels: computed })), /"id":"call-2"/);
});

test('an input text the reader found no credential key in is stored unsearched; the result is still searched', () => {
  const headers = { Authorization: token, accept: '*/*' };
  const event = sampleEvent({ input: { request: { headers } }, result: { upstream: { headers } } });
  const inputJson = JSON.stringify(event.input);
  const trusted = JSON.parse(storedEventJson(event, { inputBytes: new TextEncoder().encode(inputJson), inputCredentialFree: true }));
  assert.deepEqual(trusted.input, event.input, 'the hint is the caller\'s word: the input is not searched');
  assert.deepEqual(trusted.result, { upstream: { headers: { accept: '*/*' } } });
  assert.deepEqual(trusted.erased, ['/result/upstream/headers/Authorization']);
  // Without the hint both are cut.
  assert.deepEqual(JSON.parse(storedEventJson(event, { inputBytes: new TextEncoder().encode(inputJson) })).input, { request: { headers: { accept: '*/*' } } });
});

test('the input bytes go into the stored text untouched, appended after what the sink holds', () => {
  const bytes = new TextEncoder().encode('{"subject":{"id":"bob"},"n":1.50}');
  const event = sampleEvent({ path: 'caf\u00e9/<x>', requested_by: 'tab\there', metrics: { a: 1, b: -2.5, c: 1e21, d: -0, e: Number.NaN } });
  const sink = new GrowingSink();
  sink.room(3);
  sink.bytes.write('ab\u00e9', 0, 'utf8');
  sink.used = 4;
  writeStoredEvent(event, { inputBytes: bytes }, sink);
  const written = Buffer.from(sink.bytes.subarray(0, sink.used));
  assert.equal(written.subarray(0, 4).toString('utf8'), 'ab\u00e9');
  assert.equal(written.subarray(4).toString('utf8'), reference(event, { inputJson: '{"subject":{"id":"bob"},"n":1.50}' }));
  assert.notEqual(written.indexOf(Buffer.from(bytes)), -1);
});

test('recordDecision: the event has EventV1 members in order, frozen shared labels and bundles, and the text the plain encoding writes', () => {
  const events: DecisionEvent[] = [];
  const labels = Object.freeze({ id: 'instance-1', version: '0.1.0' });
  const bundles = [{ name: 'authz', manifest: { revision: 'rev-7' } }];
  const ctx = { labels, engine: { bundles }, onDecision: (event: DecisionEvent) => void events.push(event) } as unknown as ServerContext;
  const input = { user: 'alice' };
  const record = (defined: boolean, error?: { code: string; message: string }) =>
    recordDecision(ctx, { path: ['gateway', 'authz', 'allow'], input, evaluated: { defined, result: defined ? { allow: true } : undefined, metrics: { timer_server_handler_ns: 5 } }, requestedBy: '10.0.0.1:1234', reqId: 9, ...(error ? { error } : {}) });
  const id = record(true);
  record(false, { code: 'eval_error', message: 'boom' });
  assert.equal(events[0].decision_id, id);
  assert.deepEqual(Object.keys(events[0]), ['labels', 'decision_id', 'bundles', 'path', 'input', 'result', 'requested_by', 'timestamp', 'metrics', 'req_id']);
  assert.deepEqual(Object.keys(events[1]), ['labels', 'decision_id', 'bundles', 'path', 'input', 'error', 'requested_by', 'timestamp', 'metrics', 'req_id']);
  assert.equal(events[0].bundles, events[1].bundles, 'one bundles object per activation');
  assert.ok(Object.isFrozen(events[0].bundles) && Object.isFrozen(events[0].bundles!.authz));
  assert.deepEqual(events[0].bundles, { authz: { revision: 'rev-7' } });
  for (const event of events) assertSameText(event);
});

test('recordDecision: the clock reading it is given dates the event, and the decision id carries the same millisecond', () => {
  const events: DecisionEvent[] = [];
  const ctx = { labels: Object.freeze({ id: 'i', version: 'v' }), engine: { bundles: [] }, onDecision: (event: DecisionEvent) => void events.push(event) } as unknown as ServerContext;
  const hours = 3_600_000_000_000n;
  // Readings an hour, a day and a week back, and one without a reading (now), in turn.
  const readings = [process.hrtime.bigint() - hours, process.hrtime.bigint() - 24n * hours, process.hrtime.bigint() - 168n * hours, undefined];
  for (const at of readings) recordDecision(ctx, { path: ['a'], input: undefined, evaluated: { defined: true, result: true }, requestedBy: '', at });
  for (const [i, event] of events.entries()) {
    const ns = parseTimestamp(event.timestamp)!;
    const expected = readings[i] === undefined ? BigInt(Date.now()) * 1_000_000n : nowNs(readings[i]);
    // The reading's own time, to the nanosecond; without one, now (within the clock's drift from Date.now).
    if (readings[i] !== undefined) assert.equal(ns, expected, event.timestamp);
    else assert.ok(ns <= expected + 1_000_000_000n && ns >= expected - 1_000_000_000n, event.timestamp);
    // The UUID version 7 id begins with the 48-bit Unix millisecond, in hex.
    const idMs = Number.parseInt(event.decision_id.replace('-', '').slice(0, 12), 16);
    assert.equal(idMs, Number(ns / 1_000_000n), `${event.decision_id} ${event.timestamp}`);
  }
});

test('events and timer maps whose members change from one event to the next: each written with its own members, in its own order', () => {
  // The writer reuses the last event's member list while the keys are the same: every change must be noticed.
  const base = sampleEvent({ metrics: { a: 1, b: 2 } });
  const { labels, decision_id, timestamp, ...rest } = base;
  const sequence: DecisionEvent[] = [
    base,
    sampleEvent({ metrics: { a: 1, b: 2 } }),
    sampleEvent({ metrics: { a: 1, b: 2, c: 3 } }),
    sampleEvent({ metrics: { a: 1 } }),
    sampleEvent({ metrics: { b: 2, a: 1 } }),
    sampleEvent({ metrics: { a: 1, b: 2, 0: 7 } }),
    sampleEvent({ metrics: { a: 1, b: 2 }, req_id: 9 }),
    { decision_id, timestamp, labels, ...rest },
    { labels, decision_id, timestamp },
    { ...base, labels: undefined as unknown as Record<string, string> },
    base,
  ];
  // Events whose prototype has enumerable members: JSON leaves them out, even when they complete the last
  // event's member list.
  const inherited = Object.assign(Object.create({ inherited: 'not stored' }), base) as DecisionEvent;
  const keys = Object.keys(base);
  const last = keys.at(-1)!;
  const lastFromPrototype = Object.assign(Object.create({ [last]: (base as unknown as Record<string, unknown>)[last] }), Object.fromEntries(keys.slice(0, -1).map((k) => [k, (base as unknown as Record<string, unknown>)[k]]))) as DecisionEvent;
  sequence.push(inherited, base, inherited, base, lastFromPrototype);
  for (const event of sequence) assertSameText(event);
  assert.doesNotMatch(storedEventJson(inherited), /inherited/);
  storedEventJson(base);
  assert.doesNotMatch(storedEventJson(lastFromPrototype), new RegExp(`"${last}"`));
  // A timer map that turns out not to be numbers only, after the numbers were written, is written whole instead.
  assertSameText(sampleEvent({ metrics: { a: 1, b: 2 } }));
  assertSameText(sampleEvent({ metrics: { a: 1, b: 'two' } as unknown as Record<string, number> }));
});
