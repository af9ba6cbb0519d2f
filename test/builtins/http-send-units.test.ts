// The small pure parts of http.send: the host allow-list patterns, cache freshness from response headers and
// the request checks that need no network (the rest is compared with OPA in http-send-differential).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostAllowList } from '../../src/builtins/http-send/allow-list.js';
import { cacheLifetimeMs } from '../../src/builtins/http-send/freshness.js';
import { HttpSendError, parseRequest } from '../../src/builtins/http-send/request.js';
import { httpSendSettings } from '../../src/builtins/http-send/settings.js';
import { parseConfig } from '../../src/config/config.js';

test('allowed_hosts: exact names, *.suffix (not the bare suffix), ports, IPv6, case', () => {
  const list = new HostAllowList(['pip.internal', '*.corp.example', '10.0.0.7:8443', '[::1]', 'Upper.Example']);
  const ok = (url: string) => list.allows(new URL(url));
  assert.ok(ok('http://pip.internal/x'));
  assert.ok(ok('https://pip.internal:9999/x'), 'no port in the entry: any port');
  assert.ok(ok('https://a.b.corp.example/'));
  assert.ok(!ok('https://corp.example/'), 'the wildcard covers hosts under the suffix only');
  assert.ok(!ok('https://evilcorp.example/'));
  assert.ok(ok('http://10.0.0.7:8443/'));
  assert.ok(!ok('http://10.0.0.7/'), 'port 80 is not 8443');
  assert.ok(ok('http://[::1]:1234/'));
  assert.ok(ok('http://upper.example/'));
  assert.ok(!ok('http://pip.internal.attacker.test/'));
  assert.throws(() => new HostAllowList(['pip.internal/path']), /not a host or host:port/);
});

test('cache: true freshness follows max-age (minus Age), then Expires − Date; no-store / no-cache / nothing: none', () => {
  assert.equal(cacheLifetimeMs({ 'cache-control': 'public, max-age=60' }), 60_000);
  assert.equal(cacheLifetimeMs({ 'cache-control': 'max-age=60', age: '15' }), 45_000);
  assert.equal(cacheLifetimeMs({ 'cache-control': 'max-age=60, no-store' }), 0);
  assert.equal(cacheLifetimeMs({ 'cache-control': 'no-cache' }), 0);
  const date = 'Sun, 22 Nov 2026 05:00:00 GMT';
  assert.equal(cacheLifetimeMs({ date, expires: 'Sun, 22 Nov 2026 05:02:00 GMT' }), 120_000);
  assert.equal(cacheLifetimeMs({ 'cache-control': 'max-age=5', date, expires: 'Sun, 22 Nov 2026 05:02:00 GMT' }), 5_000, 'max-age wins');
  assert.equal(cacheLifetimeMs({ expires: 'garbage' }), 0);
  assert.equal(cacheLifetimeMs({}), 0);
});

test('request checks: timeout spellings, boolean strings, body vs raw_body, cache key ignores listed headers', () => {
  const base = { method: 'get', url: 'http://h/' };
  assert.equal(parseRequest({ ...base, timeout: '1m30s' }).timeoutMs, 90_000);
  assert.equal(parseRequest({ ...base, timeout: 250_000_000 }).timeoutMs, 250, 'a number is nanoseconds');
  assert.equal(parseRequest(base).method, 'GET');
  assert.equal(parseRequest({ ...base, enable_redirect: 1 }).enableRedirect, true, 'OPA parses the Rego text: 1 is true');
  assert.throws(() => parseRequest({ ...base, enable_redirect: 'true' }), HttpSendError, 'and "true" (quoted) is not');
  assert.equal(parseRequest({ ...base, force_cache: true, force_cache_duration_seconds: 60 }).forceCacheSeconds, 60);
  assert.throws(() => parseRequest({ ...base, force_cache: true, force_cache_duration_seconds: 1.5 }), /ParseInt/);
  assert.equal(parseRequest({ ...base, body: { a: 1 }, raw_body: 'raw' }).body, 'raw');
  assert.equal(parseRequest({ ...base, body: { a: [1, 'x'] } }).body, '{"a":[1,"x"]}');
  const a = parseRequest({ ...base, headers: { 'X-Request-Id': '1', A: 'b' }, cache_ignored_headers: ['x-request-id'] });
  const b = parseRequest({ ...base, headers: { 'X-Request-Id': '2', A: 'b' }, cache_ignored_headers: ['x-request-id'] });
  assert.equal(a.cacheKey, b.cacheKey);
});

test('verdict.http_send config: validated by the config schema, defaults as documented', () => {
  const config = parseConfig('verdict:\n  http_send:\n    allowed_hosts: ["pip.internal", "*.corp.example:8443"]\n    timeout: 750ms\n', 'test');
  assert.deepEqual(httpSendSettings(config.verdict?.http_send), {
    defaultTimeoutMs: 750,
    maxRequestsPerDecision: 32,
    maxResponseBytes: 16 * 1024 * 1024,
    cacheMaxEntries: 1000,
    allowedHosts: ['pip.internal', '*.corp.example:8443'],
  });
  assert.equal(httpSendSettings(undefined).defaultTimeoutMs, 5000);
  assert.throws(() => parseConfig('verdict:\n  http_send:\n    allowed_hosts: ["https://pip.internal/x"]\n', 'test'), /http_send/);
  assert.throws(() => parseConfig('verdict:\n  http_send:\n    timeout: soon\n', 'test'), /http_send/);
  assert.throws(() => parseConfig('verdict:\n  http_send:\n    allow: []\n', 'test'), /http_send/);
});
