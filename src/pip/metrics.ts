// Plain counters per adapter; the server exports them to Prometheus (names suggested in docs/pip.md).

/** Upper bounds of the latency histogram buckets, in ms (cumulative, Prometheus style; +Inf is `count`). */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500] as const;

export interface AdapterMetrics {
  /** Enrichments that asked for this adapter (cache hits included). */
  calls: number;
  hits: number;
  misses: number;
  /** Joined an identical lookup already in flight (single-flight). */
  shared: number;
  errors: number;
  /** Lookups that actually reached the PIP (misses not joined to an in-flight lookup). */
  lookups: number;
  latency: { buckets: number[]; sum_ms: number; count: number };
}

export class PipMetrics {
  private readonly byAdapter = new Map<string, AdapterMetrics>();

  constructor(adapterNames: Iterable<string>) {
    for (const name of adapterNames) {
      this.byAdapter.set(name, {
        calls: 0,
        hits: 0,
        misses: 0,
        shared: 0,
        errors: 0,
        lookups: 0,
        latency: { buckets: LATENCY_BUCKETS_MS.map(() => 0), sum_ms: 0, count: 0 },
      });
    }
  }

  adapter(name: string): AdapterMetrics {
    const m = this.byAdapter.get(name);
    if (!m) throw new Error(`no metrics for adapter "${name}"`);
    return m;
  }

  /** Time of one real lookup against the PIP. */
  observeLookup(name: string, ms: number): void {
    const m = this.adapter(name);
    m.lookups++;
    m.latency.count++;
    m.latency.sum_ms += ms;
    LATENCY_BUCKETS_MS.forEach((bound, i) => {
      if (ms <= bound) m.latency.buckets[i]++;
    });
  }

  /** A copy, safe to serialise or diff. */
  snapshot(): Record<string, AdapterMetrics> {
    return Object.fromEntries([...this.byAdapter].map(([k, v]) => [k, structuredClone(v)]));
  }
}

const COUNTERS: [keyof Omit<AdapterMetrics, 'latency'>, string, string][] = [
  ['calls', 'verdict_pip_calls_total', 'Enrichments that asked for this adapter.'],
  ['hits', 'verdict_pip_cache_hits_total', 'Lookups answered from the cache.'],
  ['misses', 'verdict_pip_cache_misses_total', 'Lookups not in the cache that went to the PIP.'],
  ['shared', 'verdict_pip_shared_lookups_total', 'Lookups that joined an identical one in flight.'],
  ['errors', 'verdict_pip_errors_total', 'Lookups that ended in an error (on_error applied).'],
];

/** Several processes' figures as one (the workers of one server): every counter and bucket summed per adapter. */
export function sumSnapshots(snapshots: Record<string, AdapterMetrics>[]): Record<string, AdapterMetrics> {
  const total: Record<string, AdapterMetrics> = {};
  for (const snapshot of snapshots) {
    for (const [name, m] of Object.entries(snapshot)) {
      const t = (total[name] ??= { calls: 0, hits: 0, misses: 0, shared: 0, errors: 0, lookups: 0, latency: { buckets: LATENCY_BUCKETS_MS.map(() => 0), sum_ms: 0, count: 0 } });
      for (const [field] of COUNTERS) t[field] += m[field];
      t.lookups += m.lookups;
      t.latency.sum_ms += m.latency.sum_ms;
      t.latency.count += m.latency.count;
      m.latency.buckets.forEach((n, i) => (t.latency.buckets[i] += n));
    }
  }
  return total;
}

/** The metrics in Prometheus text exposition format, for the server's /metrics. */
export function prometheusText(snapshot: Record<string, AdapterMetrics>): string {
  const lines: string[] = [];
  const label = (name: string) => `adapter="${name.replace(/["\\\n]/g, '\\$&')}"`;
  for (const [field, metric, help] of COUNTERS) {
    lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} counter`);
    for (const [name, m] of Object.entries(snapshot)) lines.push(`${metric}{${label(name)}} ${m[field]}`);
  }
  const h = 'verdict_pip_lookup_duration_seconds';
  lines.push(`# HELP ${h} Time of lookups that reached the PIP.`, `# TYPE ${h} histogram`);
  for (const [name, m] of Object.entries(snapshot)) {
    LATENCY_BUCKETS_MS.forEach((bound, i) => lines.push(`${h}_bucket{${label(name)},le="${bound / 1000}"} ${m.latency.buckets[i]}`));
    lines.push(`${h}_bucket{${label(name)},le="+Inf"} ${m.latency.count}`);
    lines.push(`${h}_sum{${label(name)}} ${m.latency.sum_ms / 1000}`, `${h}_count{${label(name)}} ${m.latency.count}`);
  }
  return lines.join('\n') + '\n';
}
