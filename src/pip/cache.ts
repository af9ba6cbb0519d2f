// Per-adapter lookup cache: entries expire after a TTL, the least recently used entry goes when the cache is full,
// and "nothing found" / failed lookups are kept for a shorter negative TTL so a missing user or a down PIP is not
// asked again on every request.

import type { JsonValue } from './adapter.js';

export type CachedOutcome = { ok: true; value: JsonValue } | { ok: false; kind: string; message: string };

interface Entry {
  outcome: CachedOutcome;
  expiresAt: number;
}

export interface CacheLimits {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
}

export class LookupCache {
  // A Map iterates in insertion order; re-inserting on read keeps the least recently used entry first.
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limits: CacheLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedOutcome | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.outcome;
  }

  /** Store an outcome; `maxAgeMs` can only shorten the configured TTL (e.g. a token's remaining lifetime). */
  set(key: string, outcome: CachedOutcome, maxAgeMs?: number): void {
    const negative = !outcome.ok || outcome.value === null;
    let ttl = negative ? this.limits.negativeTtlMs : this.limits.ttlMs;
    if (maxAgeMs !== undefined) ttl = Math.min(ttl, maxAgeMs);
    if (ttl <= 0 || this.limits.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { outcome, expiresAt: this.now() + ttl });
    while (this.entries.size > this.limits.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
