// The summary OPA prints for a histogram metric (go-metrics' sample statistics): percentiles interpolated between
// the two sorted samples around position p·(n+1), with count, min, max, mean, median and standard deviation.
// Used by `?instrument` and `verdict bench`, which report histograms under OPA's keys.

/** `count` is how many values were observed, which exceeds samples.length when they are a reservoir sample. */
export function histogramSummary(samples: readonly number[], count = samples.length): Record<string, number> {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = n === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / n;
  const percentile = (p: number): number => {
    if (n === 0) return 0;
    const pos = p * (n + 1);
    if (pos < 1) return sorted[0]!;
    if (pos >= n) return sorted[n - 1]!;
    const lower = sorted[Math.floor(pos) - 1]!;
    return lower + (pos - Math.floor(pos)) * (sorted[Math.floor(pos)]! - lower);
  };
  return {
    '75%': percentile(0.75),
    '90%': percentile(0.9),
    '95%': percentile(0.95),
    '99%': percentile(0.99),
    '99.9%': percentile(0.999),
    '99.99%': percentile(0.9999),
    count,
    max: n === 0 ? 0 : sorted[n - 1]!,
    mean,
    median: percentile(0.5),
    min: n === 0 ? 0 : sorted[0]!,
    stddev: n === 0 ? 0 : Math.sqrt(sorted.reduce((a, v) => a + (v - mean) ** 2, 0) / n),
  };
}
