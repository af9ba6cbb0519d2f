import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionLogSettings } from '../../src/decisionlog/config.js';

test('no decision_logs section: logging on with the defaults (a week, 1 GiB), no upload', () => {
  assert.deepEqual(decisionLogSettings(undefined), {
    enabled: true,
    store: { retention: { maxAgeSeconds: 7 * 24 * 3600, maxBytes: 1024 ** 3, keepUnshipped: false } },
    dropPath: 'system/log/drop',
    maskPath: 'system/log/mask',
    headers: [],
    console: false,
  });
});

test('OPA keys and the store section map onto the options', () => {
  const settings = decisionLogSettings({
    service: 'collector',
    resource: '/v1/ingest',
    mask_decision: '/ops/log/mask',
    reporting: { upload_size_limit_bytes: 65536, min_delay_seconds: 5, max_delay_seconds: 10 },
    request_context: { http: { headers: ['X-Request-Id'] } },
    store: {
      file: '/var/lib/verdict/decisions.db',
      durability: 'sync',
      queue_limit: 500,
      when_full: 'drop',
      flush_delay_ms: 0,
      outcome_paths: ['result.permit'],
      principals: ['input.subject.id', { jwt: 'input.token' }],
      retention: { max_age_seconds: 86400 },
      mask_credentials: false,
    },
  }, ['collector']);
  assert.deepEqual(settings, {
    enabled: true,
    store: {
      file: '/var/lib/verdict/decisions.db',
      durability: 'sync',
      whenFull: 'drop',
      queueLimit: 500,
      flushDelayMs: 0,
      outcome: { paths: ['result.permit'] },
      principals: [{ path: 'input.subject.id' }, { jwt: 'input.token' }],
      maskCredentials: false,
      retention: { maxAgeSeconds: 86400, maxBytes: 1024 ** 3, keepUnshipped: true },
    },
    dropPath: 'system/log/drop',
    maskPath: 'ops/log/mask',
    headers: ['X-Request-Id'],
    console: false,
    upload: { service: 'collector', resource: '/v1/ingest', uploadSizeLimitBytes: 65536, minDelaySeconds: 5, maxDelaySeconds: 10 },
  });
  assert.equal(decisionLogSettings({ store: { enabled: false } }).enabled, false);
});

test('retention: each default replaced or turned off (0) on its own', () => {
  const retention = (r: unknown) => decisionLogSettings({ store: { retention: r } }).store.retention;
  assert.deepEqual(retention({ max_age_seconds: 0 }), { maxBytes: 1024 ** 3, keepUnshipped: false });
  assert.deepEqual(retention({ max_bytes: 0 }), { maxAgeSeconds: 604800, keepUnshipped: false });
  assert.deepEqual(retention({ max_age_seconds: 0, max_bytes: 0 }), { keepUnshipped: false });
  assert.deepEqual(retention({ max_bytes: 5e6 }), { maxAgeSeconds: 604800, maxBytes: 5e6, keepUnshipped: false });
  assert.deepEqual(decisionLogSettings({ service: 's' }, ['s']).store.retention, { maxAgeSeconds: 604800, maxBytes: 1024 ** 3, keepUnshipped: true });
});

test('credential headers may be copied into request_context only when credentials may be stored', () => {
  const settings = decisionLogSettings({ request_context: { http: { headers: ['Authorization'] } }, store: { mask_credentials: false } });
  assert.deepEqual(settings.headers, ['Authorization']);
  assert.equal(settings.store.maskCredentials, false);
});

test('bad settings are refused with the key that is wrong', () => {
  const bad: [unknown, RegExp][] = [
    [[], /^decision_logs must be an object$/],
    [{ store: { durability: 'eventually' } }, /decision_logs\.store\.durability must be one of default, sync, got "eventually"/],
    [{ store: { when_full: 'panic' } }, /when_full must be one of backpressure, drop/],
    [{ store: { queue_limit: 0 } }, /queue_limit must be a positive number, got 0/],
    [{ store: { retention: { max_bytes: '1GB' } } }, /retention\.max_bytes must be a positive number, or 0 for no limit, got "1GB"/],
    [{ store: { retention: { max_age_seconds: -1 } } }, /retention\.max_age_seconds must be a positive number, or 0 for no limit, got -1/],
    [{ store: { mask_credentials: 'no' } }, /decision_logs\.store\.mask_credentials must be a boolean, got "no"/],
    [{ request_context: { http: { headers: ['X-Request-Id', 'authorization'] } } }, /request_context\.http\.headers names authorization, a credential header the decision log does not store; remove it, or set decision_logs\.store\.mask_credentials: false/],
    [{ request_context: { http: { headers: ['Cookie'] } } }, /names Cookie, a credential header/],
    [{ store: { principals: [{ header: 'x' }] } }, /principals\[0\] must be/],
    [{ store: { outcome_paths: 'result.allow' } }, /outcome_paths must be a list of strings/],
    [{ service: 'c', reporting: { min_delay_seconds: 10, max_delay_seconds: 5 } }, /min_delay_seconds \(10\) must not exceed max_delay_seconds \(5\)/],
    [{ store: { flush_delay_ms: -1 } }, /flush_delay_ms must be a number of milliseconds \(0 or more\), got -1/],
    [{ console: 'yes' }, /decision_logs\.console must be a boolean/],
    [{ mask_decision: '/' }, /mask_decision must name a rule/],
    [{ service: 'nope' }, /decision_logs\.service "nope" names no service in the services section/],
    [{ reporting: { buffer_type: 'ring' } }, /buffer_type must be one of size, event, got "ring"/],
    [{ reporting: { buffer_size_limit_events: 5 } }, /buffer_size_limit_events needs buffer_type "event"/],
    [{ reporting: { buffer_type: 'event', buffer_size_limit_bytes: 5 } }, /buffer_size_limit_bytes needs buffer_type "size"/],
    [{ reporting: { buffer_size_limit_bytes: 5, max_decisions_per_second: 1 } }, /either buffer_size_limit_bytes or max_decisions_per_second/],
  ];
  for (const [section, message] of bad) assert.throws(() => decisionLogSettings(section, ['c']), { name: 'DecisionLogConfigError', message }, JSON.stringify(section));
});

test('as OPA, an OPA section without service, console or plugin uploads to the first service; partition_name extends /logs', () => {
  assert.equal(decisionLogSettings({}, ['first', 'second']).upload?.service, 'first');
  assert.equal(decisionLogSettings({ reporting: { min_delay_seconds: 1 } }, ['first']).upload?.service, 'first');
  assert.equal(decisionLogSettings({ console: true }, ['first']).upload, undefined);
  // Verdict's own store section alone does not turn uploading on.
  assert.equal(decisionLogSettings({ store: { file: 'x.db' } }, ['first']).upload, undefined);
  assert.equal(decisionLogSettings(undefined, ['first']).upload, undefined);
  assert.equal(decisionLogSettings({ partition_name: 'east' }, ['c']).upload?.resource, '/logs/east');
  assert.equal(decisionLogSettings({ partition_name: 'east', resource: '/r' }, ['c']).upload?.resource, '/r');
  const event = decisionLogSettings({ reporting: { buffer_type: 'event', trigger: 'immediate', max_decisions_per_second: 50 } }, ['c']);
  assert.deepEqual(event.upload, { service: 'c', bufferSizeLimitEvents: 10_000, immediate: true });
  assert.equal(event.maxDecisionsPerSecond, 50);
});
