// The measuring half of `verdict bench`: repeats an evaluation the way Go's testing.Benchmark does (1 run, then
// runs predicted to last a second, growing at most 100x a step), timing each evaluation, keeping a histogram of
// those times (a uniform sample of 1028, as OPA's metrics histograms) and, with memory reporting, the bytes the
// runs allocated on the JavaScript heap (heap growth plus what each garbage collection freed, from V8's GC
// profiler). V8 counts no allocations, so there is no allocation count.
import { getHeapStatistics, GCProfiler } from 'node:v8';
import { histogramSummary } from '../histogram-summary.js';

/** One pass of the benchmark's evaluation: nothing when it succeeded, else the error's message (stops the run). */
export type BenchStep = () => string | undefined | Promise<string | undefined>;

export interface BenchResult {
  /** Evaluations in the final run. */
  n: number;
  /** Nanoseconds they took together. */
  ns: number;
  /** JavaScript heap bytes the final run allocated; undefined without memory reporting. */
  bytes?: number;
  /** `histogram_timer_rego_query_eval_ns_*` statistics of the final run; undefined without metrics. */
  histogram?: Record<string, number>;
}

export class BenchFailure extends Error {}

const GOAL_NS = 1e9;
const MAX_N = 1e9;

export async function benchmark(step: BenchStep, options: { memory: boolean; metrics: boolean }): Promise<BenchResult> {
  let n = 1;
  let result = await runN(step, n, options);
  while (result.ns < GOAL_NS && n < MAX_N) {
    const last = n;
    let predicted = Math.floor((GOAL_NS * last) / Math.max(result.ns, 1));
    predicted += Math.floor(predicted / 5);
    n = Math.min(Math.max(Math.min(predicted, 100 * last), last + 1), MAX_N);
    result = await runN(step, n, options);
  }
  return result;
}

async function runN(step: BenchStep, n: number, options: { memory: boolean; metrics: boolean }): Promise<BenchResult> {
  const sample = options.metrics ? new UniformSample(1028) : undefined;
  const profiler = options.memory ? new GCProfiler() : undefined;
  profiler?.start();
  const heapBefore = options.memory ? getHeapStatistics().used_heap_size : 0;
  let total = 0n;
  for (let i = 0; i < n; i++) {
    const began = process.hrtime.bigint();
    const stepped = step();
    const error = stepped instanceof Promise ? await stepped : stepped;
    const took = process.hrtime.bigint() - began;
    total += took;
    if (error !== undefined) {
      profiler?.stop();
      throw new BenchFailure(error);
    }
    sample?.update(Number(took));
  }
  const result: BenchResult = { n, ns: Number(total) };
  if (profiler) {
    const freed = profiler.stop().statistics.reduce((sum, gc) => sum + Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize), 0);
    result.bytes = Math.max(0, getHeapStatistics().used_heap_size - heapBefore + freed);
  }
  if (sample) result.histogram = Object.fromEntries(Object.entries(sample.statistics()).map(([k, v]) => [`histogram_timer_rego_query_eval_ns_${k}`, v]));
  return result;
}

/** Reservoir sampling (Vitter's algorithm R) with the statistics OPA's histograms report. */
class UniformSample {
  private readonly values: number[] = [];
  private count = 0;

  constructor(private readonly size: number) {}

  update(value: number): void {
    this.count++;
    if (this.values.length < this.size) this.values.push(value);
    else {
      const slot = Math.floor(Math.random() * this.count);
      if (slot < this.size) this.values[slot] = value;
    }
  }

  statistics(): Record<string, number> {
    return histogramSummary(this.values, this.count);
  }
}
