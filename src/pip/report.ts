// What the enrichment step tells the decision log about one decision.

export interface AdapterRun {
  adapter: string;
  /** ok: a value landed in input.pip; error: the lookup failed and on_error applied; skipped: an input was absent. */
  outcome: 'ok' | 'error' | 'skipped';
  /** hit: served from cache; miss: looked up; shared: joined an identical lookup already in flight. */
  cache: 'hit' | 'miss' | 'shared' | 'off';
  latency_ms: number;
  /** For errors and skips: why, e.g. "timeout: timed out after 50 ms" or "input.subject.id is absent". */
  reason?: string;
  /** For errors: which on_error policy was applied. */
  on_error?: 'deny' | 'skip' | 'default';
}

export interface EnrichmentReport {
  path: string;
  adapters: AdapterRun[];
  latency_ms: number;
  /** Set when a deny-on-error adapter failed and the decision must fail closed. */
  denied_by?: string;
}
