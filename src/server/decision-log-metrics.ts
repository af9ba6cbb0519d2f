// The decision log on /metrics, read when scraped. OPA's names where OPA has the figure (its status plugin's
// decision_logs_* metrics with status.prometheus: upload status, buffer size, drop and upload counters);
// Verdict's local store has figures OPA lacks, under `verdict_decision_logs_*`. In a multi-process server only
// one worker uploads: the others report zero for the upload figures, so the merged sums are the uploader's.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DecisionLogPlugin } from '../decisionlog/index.js';

/** Returns a function that adds the upload figures for a buffer type the upload takes on later (discovery). */
export function registerDecisionLogMetrics(registry: Registry, dl: DecisionLogPlugin, bufferType: 'size' | 'event' | undefined): (bufferType: 'size' | 'event' | undefined) => void {
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const gauge = (name: string, help: string, read: () => number, aggregator: 'sum' | 'min' = 'sum') =>
    new Gauge({
      name,
      help,
      registers: [registry],
      aggregator,
      collect() {
        this.set(read());
      },
    });
  const store = () => dl.store.status();
  const upload = () => dl.uploader?.status();

  // OPA's: counters named by OPA's decision log plugin, with the `_total` its status plugin adds.
  const opaCounter = (name: string, read: () => number) => counter(`${name}_total`, `Counter for the decision logs metric ${name}.`, read);
  opaCounter('decision_logs_dropped_rate_limit_exceeded', () => dl.logger.status().dropped_by_rate);
  opaCounter('decision_logs_encoding_failure', () => store().encoding_failures + (upload()?.oversized_skipped ?? 0));
  // Upload figures, for each buffer type the upload has had (discovery may turn the upload on or change its type).
  const registered = new Set<'size' | 'event'>();
  const uploadMetrics = (type: 'size' | 'event' | undefined): void => {
    if (type === undefined || registered.has(type)) return;
    registered.add(type);
    opaCounter(type === 'event' ? 'decision_logs_dropped_buffer_size_limit_exceeded' : 'decision_logs_dropped_buffer_size_limit_bytes_exceeded', () => upload()?.buffer_skipped ?? 0);
    gauge(
      type === 'event' ? 'decision_logs_buffer_size_events' : 'decision_logs_buffer_size_bytes',
      type === 'event' ? 'Number of items waiting in the decision log event buffer.' : 'Number of bytes waiting in the decision log size buffer.',
      () => {
        const pending = dl.uploader?.pending();
        return pending ? (type === 'event' ? pending.events : pending.bytes) : 0;
      },
    );
    if (registered.size > 1) return;
    opaCounter('decision_logs_nd_builtin_cache_dropped', () => upload()?.nd_builtin_cache_dropped ?? 0);
    opaCounter('enc_log_exceeded_upload_size_limit_bytes', () => upload()?.oversized_skipped ?? 0);
    opaCounter('decision_logs_chunks_uploaded', () => upload()?.chunks_shipped ?? 0);
    opaCounter('decision_logs_chunks_upload_failed', () => upload()?.failed_attempts ?? 0);
    new Gauge({
      name: 'decision_logs_status_gauge',
      help: 'Gauge for the last decision log upload by status.',
      labelNames: ['code', 'http_code'],
      registers: [registry],
      aggregator: 'max',
      collect() {
        this.reset();
        const status = dl.uploader?.status();
        if (!status) return;
        const failing = status.state === 'ERROR';
        this.set({ code: failing ? 'decision_log_error' : '', http_code: failing ? String(status.last_error?.http_code ?? '') : '' }, 1);
      },
    });
  };
  uploadMetrics(bufferType);

  // Verdict's own: the local store.
  counter('verdict_decision_logs_written_total', 'Decision events committed to the local store.', () => store().written);
  counter('verdict_decision_logs_dropped_queue_full_total', 'Decision events dropped because the write queue was full (when_full: drop).', () => store().dropped_queue_full);
  counter('verdict_decision_logs_write_failures_total', 'Failed writes to the local store.', () => store().write_failures);
  counter('verdict_decision_logs_pruned_total', 'Decision events removed from the local store by retention.', () => store().pruned);
  counter('verdict_decision_logs_dropped_by_policy_total', 'Decision events dropped by the drop_decision rule.', () => dl.logger.status().dropped_by_policy);
  gauge('verdict_decision_logs_queue_length', 'Decision events waiting to be written to the local store.', () => store().queue_length);
  gauge('verdict_decision_logs_waiting', 'Requests waiting for room in the write queue (when_full: backpressure).', () => store().waiting);
  gauge('verdict_decision_logs_healthy', '1 when the local store is writable, 0 when it is failing or closed.', () => (store().state === 'OK' ? 1 : 0), 'min');
  return uploadMetrics;
}
