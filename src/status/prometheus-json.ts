// The Prometheus registry as the JSON OPA puts under `metrics.prometheus` in status reports: one entry per
// metric family, keyed by name, in the shape of Prometheus' client_model (name, help, upper-case type, and a
// `metric` list with `label` pairs and a counter, gauge or histogram value).
import type { MetricObjectWithValues, MetricValue, MetricValueWithName, Registry } from 'prom-client';

interface LabelPair {
  name: string;
  value: string;
}

export async function prometheusJson(registry: Registry): Promise<Record<string, unknown>> {
  const families = await registry.getMetricsAsJSON();
  return Object.fromEntries(families.map((f) => [f.name, family(f as MetricObjectWithValues<MetricValueWithName<string>>)]));
}

function family(f: MetricObjectWithValues<MetricValueWithName<string>>): Record<string, unknown> {
  const type = String(f.type).toUpperCase();
  const metric = type === 'HISTOGRAM' ? histograms(f.name, f.values) : f.values.map((v) => ({ label: labelPairs(v), [type.toLowerCase()]: { value: v.value } }));
  return { name: f.name, help: f.help, type, metric };
}

function labelPairs(v: MetricValue<string>, skip?: string): LabelPair[] {
  return Object.entries(v.labels ?? {})
    .filter(([name]) => name !== skip)
    .map(([name, value]) => ({ name, value: String(value) }));
}

/** prom-client lists a histogram as _bucket/_sum/_count samples; client_model groups them per label set. */
function histograms(name: string, values: MetricValueWithName<string>[]): Record<string, unknown>[] {
  const series = new Map<string, { label: LabelPair[]; histogram: { sample_count: number; sample_sum: number; bucket: { upper_bound: number; cumulative_count: number }[] } }>();
  for (const v of values) {
    const label = labelPairs(v, 'le');
    const key = JSON.stringify(label);
    let entry = series.get(key);
    if (!entry) series.set(key, (entry = { label, histogram: { sample_count: 0, sample_sum: 0, bucket: [] } }));
    if (v.metricName === `${name}_bucket` && v.labels?.le !== '+Inf') entry.histogram.bucket.push({ upper_bound: Number(v.labels?.le), cumulative_count: v.value });
    else if (v.metricName === `${name}_sum`) entry.histogram.sample_sum = v.value;
    else if (v.metricName === `${name}_count`) entry.histogram.sample_count = v.value;
  }
  return [...series.values()];
}
