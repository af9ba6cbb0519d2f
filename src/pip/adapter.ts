// The one interface every policy information point (PIP) adapter implements, and the JSON shapes that cross it.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Named lookup parameters, already resolved from the decision input by the enrichment step. */
export type LookupParams = Record<string, JsonValue>;

export interface PipAdapter {
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

/**
 * One adapter type (`pip.adapters.<name>.type`). Its `prepare` is the one reader of that type's `settings`: it
 * checks and compiles them, opening nothing (no file watcher, connection, pool or request), and throws
 * PipConfigError naming the key. Start-up validation stops there; building the server calls `open()` on the
 * result. `name` is the adapter's config key, used in error messages.
 */
export interface PipAdapterKind {
  prepare(name: string, settings: Record<string, unknown>, context: AdapterContext): PreparedAdapter;
}

/** For kinds whose adapter opens nothing when built (connections wait for the first lookup): built once, as is. */
export function openedOnFirstLookup(adapter: PipAdapter & { readonly requiredParams: readonly string[] }): PreparedAdapter {
  return { requiredParams: adapter.requiredParams, open: () => adapter };
}

/** An adapter whose settings are checked, not yet opened. */
export interface PreparedAdapter {
  /** Lookup params the adapter's templates and queries need; every pip.enrich rule using it must supply them. */
  readonly requiredParams: readonly string[];
  /** Opens what the adapter holds while it runs (file watcher, database handle or pool) and returns it. */
  open(): PipAdapter;
}
