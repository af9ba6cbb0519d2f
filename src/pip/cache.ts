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
  /** Its size as the caller measured it, counted against maxBytes. */
  bytes: number;
}

export interface CacheLimits {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  /** Most bytes (as measured by the callers of set) kept; older entries go first when a new one would exceed it. */
  maxBytes?: number;
}

export class LookupCache {
  // A Map iterates in insertion order: the first entry is the one queued longest ago.
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;

  constructor(
    private readonly limits: CacheLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The sum of the entries' sizes, as given to set(). */
  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): CachedOutcome | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(key, entry);
      return undefined;
    }
    entry.used = true;
    return entry.outcome;
  }

  /** Store an outcome; `maxAgeMs` can only shorten the configured TTL (e.g. a token's remaining lifetime). */
  set(key: string, outcome: CachedOutcome, maxAgeMs?: number, bytes = 0): void {
    const negative = !outcome.ok || outcome.value === null;
    let ttl = negative ? this.limits.negativeTtlMs : this.limits.ttlMs;
    if (maxAgeMs !== undefined) ttl = Math.min(ttl, maxAgeMs);
    const maxBytes = this.limits.maxBytes ?? Number.POSITIVE_INFINITY;
    if (ttl <= 0 || this.limits.maxEntries <= 0 || bytes > maxBytes) return;
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    this.entries.set(key, { outcome, expiresAt: this.now() + ttl, used: false, bytes });
    this.totalBytes += bytes;
    while (this.entries.size > this.limits.maxEntries || this.totalBytes > maxBytes) this.evictOne();
  }

  /** Drops every expired entry now (they are otherwise dropped only when read or evicted). */
  removeExpired(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.remove(key, entry);
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }

  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (!entry.used) {
        this.totalBytes -= entry.bytes;
        return;
      }
      entry.used = false; // second chance: back of the queue
      this.entries.set(key, entry);
    }
  }
}
