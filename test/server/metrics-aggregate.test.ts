// Summing the workers' metrics into one server's (aggregateWorkerMetrics): request counts add up across
// workers, and when the workers are threads of one process the process-wide figures (CPU seconds, memory,
// descriptors) are counted once, not once per thread.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { aggregateWorkerMetrics, type MetricsJson } from '../../src/server/metrics.js';

const metricsModule = new URL('../../src/server/metrics.js', import.meta.url).href;

// A thread with its own ServerMetrics: it answers `requests` requests, burns `cpuMs` of CPU, then sends its
// figures when asked.
function metricsThread(requests: number, cpuMs: number): Worker {
  return new Worker(
    `(async () => {
      const { parentPort } = require('node:worker_threads');
      const { ServerMetrics } = await import(${JSON.stringify(metricsModule)});
      const metrics = new ServerMetrics();
      for (let i = 0; i < ${requests}; i++) metrics.observeRequest('POST', '/v1/data/x', 200, 0.001);
      const until = process.cpuUsage().user + ${cpuMs} * 1000;
      while (process.cpuUsage().user < until);
      parentPort.postMessage('ready');
      parentPort.once('message', async () => {
        parentPort.postMessage(await metrics.registry.getMetricsAsJSON());
        parentPort.close();
      });
    })()`,
    { eval: true },
  );
}

const next = (worker: Worker) => new Promise<unknown>((resolve, reject) => {
  worker.once('message', resolve);
  worker.once('error', reject);
});

/** A metric's value; for a histogram (`sample` given) the value of that sample, e.g. its _count. */
function value(metrics: MetricsJson, name: string, sample?: string): number {
  const metric = metrics.find((m) => m.name === name);
  assert.ok(metric, `${name} is reported`);
  const found = metric.values.find((v) => (v as { metricName?: string }).metricName === sample);
  assert.ok(found, `${sample ?? name} has a value`);
  return found.value;
}

async function threadsFigures(): Promise<MetricsJson[]> {
  const threads = [metricsThread(3, 150), metricsThread(5, 150), metricsThread(7, 150)];
  await Promise.all(threads.map(next));
  return (await Promise.all(threads.map((t) => {
    const answer = next(t);
    t.postMessage('send');
    return answer;
  }))) as MetricsJson[];
}

test('threads of one process: requests summed, process CPU and memory counted once', async () => {
  const sets = await threadsFigures();
  const cpuAfter = process.cpuUsage();
  const processCpu = (cpuAfter.user + cpuAfter.system) / 1e6;
  const server = await aggregateWorkerMetrics(sets).getMetricsAsJSON();
  assert.equal(value(server, 'http_request_duration_seconds', 'http_request_duration_seconds_count'), 15);
  // Every thread burnt 150 ms: the process used at least 450 ms, and each thread saw the process's figure.
  const cpu = value(server, 'process_cpu_seconds_total');
  assert.ok(cpu >= 0.45, `process CPU ${cpu}s covers the three threads' work`);
  assert.ok(cpu <= processCpu, `process CPU ${cpu}s is not more than the process used (${processCpu}s)`);
  assert.equal(cpu, Math.max(...sets.map((s) => value(s, 'process_cpu_seconds_total'))));
  assert.equal(value(server, 'process_resident_memory_bytes'), Math.max(...sets.map((s) => value(s, 'process_resident_memory_bytes'))));
  assert.equal(value(server, 'process_start_time_seconds'), Math.min(...sets.map((s) => value(s, 'process_start_time_seconds'))));
  // Each thread's own heap is its own: summed.
  const heaps = sets.map((s) => value(s, 'nodejs_heap_size_used_bytes'));
  assert.equal(value(server, 'nodejs_heap_size_used_bytes'), heaps.reduce((a, b) => a + b, 0));
});
