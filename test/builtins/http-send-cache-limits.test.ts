// OPA's caching.inter_query_builtin_cache bounds http.send's inter-query cache: max_size_bytes (scaled by
// forced_eviction_threshold_percentage) evicts the oldest responses, stale_entry_eviction_period_seconds sweeps
// expired ones out without a read. Measured against a loopback server that counts the requests it gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpSendClient } from '../../src/builtins/http-send/client.js';
import { parseRequest } from '../../src/builtins/http-send/request.js';
import { httpSendSettings } from '../../src/builtins/http-send/settings.js';
import { parseConfig } from '../../src/config/config.js';

async function origin(t: { after: (fn: () => unknown) => void }) {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    res.setHeader('content-type', 'text/plain').end('x'.repeat(1000));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

function clientFor(caching: string): HttpSendClient {
  const config = parseConfig(`caching:\n  inter_query_builtin_cache:\n${caching}`, 'test');
  return new HttpSendClient(httpSendSettings(undefined, config.caching));
}

const get = (client: HttpSendClient, url: string, seconds = 60) =>
  client.send(parseRequest({ method: 'GET', url, force_cache: true, force_cache_duration_seconds: seconds }));

test('max_size_bytes keeps the newest responses that fit; the oldest is fetched again', async (t) => {
  const { base, hits } = await origin(t);
  const client = clientFor('    max_size_bytes: 3500\n');
  for (const path of ['/a', '/b', '/c', '/d']) await get(client, base + path);
  assert.ok(client.cachedBytes <= 3500, `${client.cachedBytes} bytes cached`);
  await get(client, base + '/d');
  assert.equal(hits.get('/d'), 1, 'the newest is still cached');
  await get(client, base + '/a');
  assert.equal(hits.get('/a'), 2, 'the oldest was evicted');
});

test('forced_eviction_threshold_percentage lowers the bound; a response larger than it is not cached', async (t) => {
  const { base, hits } = await origin(t);
  const client = clientFor('    max_size_bytes: 3500\n    forced_eviction_threshold_percentage: 50\n');
  await get(client, base + '/a');
  await get(client, base + '/b');
  assert.ok(client.cachedBytes <= 1750, `${client.cachedBytes} bytes cached`);
  await get(client, base + '/a');
  assert.equal(hits.get('/a'), 2);
  const tiny = clientFor('    max_size_bytes: 100\n');
  await get(tiny, base + '/c');
  await get(tiny, base + '/c');
  assert.equal(hits.get('/c'), 2);
  assert.equal(tiny.cachedBytes, 0);
});

test('stale_entry_eviction_period_seconds sweeps expired responses out without a read', async (t) => {
  const { base } = await origin(t);
  const swept = clientFor('    max_size_bytes: 100000\n    stale_entry_eviction_period_seconds: 1\n');
  const kept = clientFor('    max_size_bytes: 100000\n');
  await get(swept, base + '/a', 1);
  await get(kept, base + '/a', 1);
  assert.ok(swept.cachedBytes > 0);
  await new Promise((r) => setTimeout(r, 2_300));
  assert.equal(swept.cachedBytes, 0);
  assert.ok(kept.cachedBytes > 0, 'without the period, expired entries go only when read');
});
