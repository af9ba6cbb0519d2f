// The enrichment step between request parsing and evaluation: for one decision path and input, run the adapters
// configured for that path (concurrently, each bounded by its timeout, cached, identical lookups made once) and
// hand back a copy of the input with their results at input.pip.<adapter>, plus a report for the decision log.

import type { JsonValue, LookupParams, PipAdapter, PipAdapterKind } from './adapter.js';
import { LookupCache, type CachedOutcome } from './cache.js';
import { normalisePath, type AdapterConfig, type EnrichRule, type PipConfig } from './config.js';
import { PipDenyError, PipInputError, describeLookupError } from './errors.js';
import { resolveInputPath } from './input-path.js';
import { PipMetrics } from './metrics.js';
import { prepareAdapters } from './prepare.js';
import type { AdapterRun, EnrichmentReport } from './report.js';
import { SingleFlight } from './single-flight.js';
import { currentTrace, traced, withTrace } from '../tracing/index.js';
import { isJsonObject as isPlainObject } from '../json/kinds.js';

export interface EnrichmentResult {
  /** The caller's input (never mutated) with `pip` holding the adapters' results; the input itself when no adapter ran. */
  input: unknown;
  report: EnrichmentReport;
}

interface AdapterSlot {
  config: AdapterConfig;
  adapter: PipAdapter;
  cache: LookupCache;
  flights: SingleFlight<CachedOutcome>;
  lastError?: { at: string; reason: string };
  /** Whether the most recent lookup that reached the PIP failed (cleared by the next one that succeeds). */
  failing: boolean;
}

/** What /health can show per adapter. */
export interface AdapterStatus {
  type: AdapterConfig['type'];
  cache_entries: number;
  /** The most recent failed lookup, if any. */
  last_error?: { at: string; reason: string };
  /** The most recent lookup that reached the PIP failed: the PIP looks down now. */
  failing: boolean;
  /** A standing problem the adapter reports itself (e.g. a data file that no longer parses). */
  problem?: string;
}

type CacheUse = AdapterRun['cache'];

const RULES_MEMO_LIMIT = 1024;

export class Enricher {
  readonly metrics: PipMetrics;
  private readonly slots = new Map<string, AdapterSlot>();
  private readonly rulesByPath = new Map<string, EnrichRule[]>();

  /**
   * Checks every configured adapter, then opens them; throws PipConfigError when an adapter's settings or params
   * do not fit (before any is opened), or when one cannot be opened.
   */
  constructor(
    private readonly config: PipConfig,
    kinds: Record<string, PipAdapterKind>,
  ) {
    const prepared = prepareAdapters(config, kinds);
    try {
      for (const a of Object.values(config.adapters)) {
        const adapter = prepared.get(a.name)!.open();
        this.slots.set(a.name, { config: a, adapter, cache: new LookupCache(a.cache), flights: new SingleFlight(), failing: false });
      }
    } catch (err) {
      void this.close(); // pools and file watchers of the adapters already built must not outlive a bad config
      throw err;
    }
    this.metrics = new PipMetrics(this.slots.keys());
  }

  /** Whether any adapter is configured for this decision path (so the server can skip the step cheaply). */
  appliesTo(path: string): boolean {
    return this.rulesFor(normalisePath(path)).length > 0;
  }

  async enrichInput(path: string, input: unknown): Promise<EnrichmentResult> {
    return this.enrich(path, input);
  }

  /**
   * enrichInput for hot paths: returns the result itself (and throws PipInputError / PipDenyError directly) when
   * no lookup has to wait, i.e. no adapter applies to the path or every lookup was a cache hit; a promise otherwise.
   */
  enrich(path: string, input: unknown): EnrichmentResult | Promise<EnrichmentResult> {
    const started = performance.now();
    const normalised = normalisePath(path);
    const callerInput = this.screenCallerPip(input);
    const rules = this.rulesFor(normalised);
    const report: EnrichmentReport = { path: normalised, adapters: [], latency_ms: 0 };
    if (rules.length === 0) return { input: callerInput, report };

    if (!isPlainObject(callerInput)) {
      report.adapters = rules.map((r) => ({
        adapter: r.adapter, outcome: 'skipped', cache: 'off', latency_ms: 0, reason: 'input is not an object',
      }));
      return { input: callerInput, report };
    }

    const results: Record<string, JsonValue> = {};
    const view = { ...callerInput, pip: results };
    // Cache hits finish synchronously; only lookups that wait on a PIP (or on such a lookup) are promises.
    const runs = new Map<string, AdapterRun | Promise<AdapterRun>>();
    let waiting = false;
    for (const rule of rules) {
      const run = this.runRule(rule, view, results, runs);
      waiting ||= run instanceof Promise;
      runs.set(rule.adapter, run);
    }
    const finish = (adapters: AdapterRun[]): EnrichmentResult => {
      report.adapters = adapters;
      report.latency_ms = round(performance.now() - started);
      const denied = adapters.find((r) => r.outcome === 'error' && r.on_error === 'deny');
      if (denied) {
        report.denied_by = denied.adapter;
        throw new PipDenyError(denied.adapter, denied.reason ?? 'lookup failed', report);
      }
      return { input: view, report };
    };
    return waiting ? Promise.all(runs.values()).then(finish) : finish([...runs.values()] as AdapterRun[]);
  }

  status(): Record<string, AdapterStatus> {
    const out: Record<string, AdapterStatus> = {};
    for (const [name, slot] of this.slots) {
      out[name] = { type: slot.config.type, cache_entries: slot.cache.size, failing: slot.failing, last_error: slot.lastError, problem: slot.adapter.status?.().problem };
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.slots.values()].map((s) => s.adapter.close?.()));
  }

  private screenCallerPip(input: unknown): unknown {
    if (!isPlainObject(input) || !Object.prototype.hasOwnProperty.call(input, 'pip')) return input;
    if (this.config.callerPip === 'reject') {
      throw new PipInputError('input.pip is reserved for policy information point results and must not be supplied');
    }
    const { pip: _dropped, ...rest } = input;
    return rest;
  }

  /** Per adapter, the rule with the longest path prefix matching `path`; remembered for the paths seen most. */
  private rulesFor(path: string): EnrichRule[] {
    let rules = this.rulesByPath.get(path);
    if (!rules) {
      rules = this.matchRules(path);
      // Paths come from requests: keep the memo bounded so odd paths cannot grow it without limit.
      if (this.rulesByPath.size >= RULES_MEMO_LIMIT) this.rulesByPath.clear();
      this.rulesByPath.set(path, rules);
    }
    return rules;
  }

  private matchRules(path: string): EnrichRule[] {
    const best = new Map<string, { rule: EnrichRule; length: number }>();
    for (const rule of this.config.enrich) {
      for (const prefix of rule.paths) {
        const matches = prefix === '' || path === prefix || path.startsWith(prefix + '/');
        const current = best.get(rule.adapter);
        if (matches && (!current || prefix.length > current.length)) best.set(rule.adapter, { rule, length: prefix.length });
      }
    }
    return dependenciesFirst([...best.values()].map((b) => b.rule));
  }

  private runRule(
    rule: EnrichRule,
    view: Record<string, unknown>,
    results: Record<string, JsonValue>,
    runs: Map<string, AdapterRun | Promise<AdapterRun>>,
  ): AdapterRun | Promise<AdapterRun> {
    // Results this rule reads (input.pip.<other>) must be in place first; others run concurrently.
    const pending = rule.dependsOn.map((d) => runs.get(d)).filter((r) => r instanceof Promise);
    if (pending.length > 0) {
      const trace = currentTrace();
      return Promise.all(pending).then(() => withTrace(trace, () => this.startRule(rule, view, results)));
    }
    return this.startRule(rule, view, results);
  }

  private startRule(rule: EnrichRule, view: Record<string, unknown>, results: Record<string, JsonValue>): AdapterRun | Promise<AdapterRun> {
    const slot = this.slots.get(rule.adapter)!;
    const started = performance.now();
    const params: LookupParams = {};
    let key = ''; // the cache key: params in name order (config sorts them), values in a key-order-free form
    for (const param in rule.inputs) {
      const inputPath = rule.inputs[param];
      const value = resolveInputPath(view, inputPath);
      if (value === undefined) {
        return { adapter: rule.adapter, outcome: 'skipped', cache: 'off', latency_ms: 0, reason: `${inputPath.text} is absent` };
      }
      params[param] = value as JsonValue;
      key += `${param}=${typeof value === 'object' && value !== null ? stableKey(value) : JSON.stringify(value)};`;
    }
    this.metrics.adapter(rule.adapter).calls++;
    const cached = slot.cache.get(key);
    if (cached) return this.finishRule(rule, slot, results, cached, 'hit', started);
    return this.lookup(slot, key, params).then(({ outcome, cache }) => this.finishRule(rule, slot, results, outcome, cache, started));
  }

  private finishRule(
    rule: EnrichRule,
    slot: AdapterSlot,
    results: Record<string, JsonValue>,
    outcome: CachedOutcome,
    cache: CacheUse,
    started: number,
  ): AdapterRun {
    const metrics = this.metrics.adapter(rule.adapter);
    const run: AdapterRun = { adapter: rule.adapter, outcome: 'ok', cache, latency_ms: round(performance.now() - started) };
    if (cache === 'hit') metrics.hits++;
    else if (cache === 'shared') metrics.shared++;
    else metrics.misses++;
    if (outcome.ok) {
      results[rule.adapter] = outcome.value;
      return run;
    }
    metrics.errors++;
    slot.lastError = { at: new Date().toISOString(), reason: `${outcome.kind}: ${outcome.message}` };
    const onError = slot.config.onError;
    run.outcome = 'error';
    run.reason = `${outcome.kind}: ${outcome.message}`;
    run.on_error = onError.kind;
    if (onError.kind === 'default') results[rule.adapter] = onError.value;
    return run;
  }

  /** A cache miss: join the identical lookup in flight, or start one. */
  private async lookup(slot: AdapterSlot, key: string, params: LookupParams): Promise<{ outcome: CachedOutcome; cache: CacheUse }> {
    const flight = slot.flights.run(key, () => this.fetch(slot, key, params));
    return { outcome: await flight.promise, cache: flight.shared ? 'shared' : 'miss' };
  }

  /** One real lookup against the PIP, bounded by the adapter's timeout even if the adapter ignores its signal. */
  private async fetch(slot: AdapterSlot, key: string, params: LookupParams): Promise<CachedOutcome> {
    const { name, timeoutMs } = slot.config;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { timeout: true }));
      }, timeoutMs);
    });
    const started = performance.now();
    let outcome: CachedOutcome;
    try {
      const value = await traced('pip.lookup', 'client', () => ({ 'pip.adapter': name }), () => Promise.race([slot.adapter.lookup(params, controller.signal), timedOut]));
      outcome = { ok: true, value };
    } catch (err) {
      const described = describeLookupError(err, controller.signal);
      outcome = { ok: false, kind: described.kind, message: controller.signal.aborted ? `timed out after ${timeoutMs} ms` : described.message };
    } finally {
      clearTimeout(timer);
    }
    this.metrics.observeLookup(name, performance.now() - started);
    slot.failing = !outcome.ok;
    slot.cache.set(key, outcome, outcome.ok ? slot.adapter.maxCacheAge?.(outcome.value) : undefined);
    return outcome;
  }
}

/** Orders rules so each comes after the rules whose results it reads (config guarantees there is no cycle). */
function dependenciesFirst(rules: EnrichRule[]): EnrichRule[] {
  const byAdapter = new Map(rules.map((r) => [r.adapter, r]));
  const ordered: EnrichRule[] = [];
  const placed = new Set<string>();
  const place = (rule: EnrichRule): void => {
    if (placed.has(rule.adapter)) return;
    placed.add(rule.adapter);
    for (const dep of rule.dependsOn) {
      const depRule = byAdapter.get(dep);
      if (depRule) place(depRule);
    }
    ordered.push(rule);
  };
  rules.forEach(place);
  return ordered;
}

/** A JSON-like text of a value that does not depend on the order of object keys. */
function stableKey(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableKey).join(',')}]`;
  if (isPlainObject(value)) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableKey(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
