// Per-adapter lookup cache: entries expire after a TTL, and when the cache is full a least-recently-used entry
// goes ("second chance": a hit only sets a flag, eviction skips flagged entries once, so reads stay cheap on
// the request path). "Nothing found" / failed lookups are kept for a shorter negative TTL so a missing user or a
// down PIP is not asked again on every request.

import type { JsonValue } from './adapter.js';

export type CachedOutcome = { ok: true; value: JsonValue } | { ok: false; kind: string; message: string };

interface Entry {
  outcome: CachedOutcome;
  expiresAt: number;
  /** Read since it was (re)queued: survives one eviction round. */
  used: boolean;
}

export interface CacheLimits {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
}

export class LookupCache {
  // A Map iterates in insertion order: the first entry is the one queued longest ago.
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
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    entry.used = true;
    return entry.outcome;
  }

  /** Store an outcome; `maxAgeMs` can only shorten the configured TTL (e.g. a token's remaining lifetime). */
  set(key: string, outcome: CachedOutcome, maxAgeMs?: number): void {
    const negative = !outcome.ok || outcome.value === null;
    let ttl = negative ? this.limits.negativeTtlMs : this.limits.ttlMs;
    if (maxAgeMs !== undefined) ttl = Math.min(ttl, maxAgeMs);
    if (ttl <= 0 || this.limits.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { outcome, expiresAt: this.now() + ttl, used: false });
    while (this.entries.size > this.limits.maxEntries) this.evictOne();
  }

  clear(): void {
    this.entries.clear();
  }

  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (!entry.used) return;
      entry.used = false; // second chance: back of the queue
      this.entries.set(key, entry);
    }
  }
}
