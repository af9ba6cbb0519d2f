import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LookupCache } from '../../src/pip/cache.js';

describe('LookupCache', () => {
  let now = 0;
  const clock = () => now;

  it('expires entries after the TTL and failures after the negative TTL', () => {
    const cache = new LookupCache({ ttlMs: 100, negativeTtlMs: 10, maxEntries: 10 }, clock);
    now = 0;
    cache.set('found', { ok: true, value: ['admins'] });
    cache.set('missing', { ok: true, value: null });
    cache.set('down', { ok: false, kind: 'unavailable', message: 'connection refused' });
    now = 9;
    assert.deepEqual(cache.get('found'), { ok: true, value: ['admins'] });
    assert.deepEqual(cache.get('missing'), { ok: true, value: null });
    assert.equal(cache.get('down')?.ok, false);
    now = 10;
    assert.equal(cache.get('missing'), undefined);
    assert.equal(cache.get('down'), undefined);
    now = 99;
    assert.ok(cache.get('found'));
    now = 100;
    assert.equal(cache.get('found'), undefined);
  });

  it('evicts the least recently used entry when full', () => {
    const cache = new LookupCache({ ttlMs: 1000, negativeTtlMs: 0, maxEntries: 2 }, clock);
    now = 0;
    cache.set('a', { ok: true, value: 1 });
    cache.set('b', { ok: true, value: 2 });
    cache.get('a');
    cache.set('c', { ok: true, value: 3 });
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual(cache.get('a'), { ok: true, value: 1 });
    assert.deepEqual(cache.get('c'), { ok: true, value: 3 });
  });

  it('lets a value shorten its own lifetime but never lengthen it, and caches nothing with TTL 0', () => {
    const cache = new LookupCache({ ttlMs: 1000, negativeTtlMs: 0, maxEntries: 10 }, clock);
    now = 0;
    cache.set('token', { ok: true, value: { valid: true } }, 50);
    cache.set('long', { ok: true, value: 1 }, 5000);
    cache.set('neg', { ok: true, value: null });
    now = 50;
    assert.equal(cache.get('token'), undefined);
    assert.equal(cache.get('neg'), undefined);
    now = 999;
    assert.ok(cache.get('long'));
    now = 1000;
    assert.equal(cache.get('long'), undefined);
  });
});
