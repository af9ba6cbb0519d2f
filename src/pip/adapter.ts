// The one interface every policy information point (PIP) adapter implements, and the JSON shapes that cross it.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Named lookup parameters, already resolved from the decision input by the enrichment step. */
export type LookupParams = Record<string, JsonValue>;

export interface PipAdapter {
  /** Lookup params the adapter's templates and queries need; every pip.enrich rule using it must supply them. */
  readonly requiredParams?: readonly string[];
  /**
   * Fetch the facts for one set of parameters. Throws on failure (the enrichment step applies `on_error`);
   * returns null for "nothing found", which the cache keeps for `negative_ttl` only.
   * `signal` aborts when the adapter's timeout elapses.
   */
  lookup(params: LookupParams, signal: AbortSignal): Promise<JsonValue>;
  /** Optional cap on how long one result may be cached, in ms (a verified token must not outlive its `exp`). */
  maxCacheAge?(value: JsonValue): number | undefined;
  /** Adapter-specific health detail for /health (e.g. the file adapter's last failed reload). */
  status?(): { problem?: string };
  /** Release connections, pools and file watchers. */
  close?(): Promise<void>;
}

/** What an adapter may need to know of its enclosing config (e.g. to bound server-side query time). */
export interface AdapterContext {
  timeoutMs: number;
}

/** Builds an adapter from its validated `settings`; `name` is the adapter's config key, used in error messages. */
export type PipAdapterFactory = (name: string, settings: Record<string, unknown>, context: AdapterContext) => PipAdapter;
