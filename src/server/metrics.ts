// Prometheus metrics with OPA's names where OPA has one (docs/docs/monitoring.md): the request duration
// histogram by code/handler/method, plus Verdict's own evaluation latency.
import type { HttpSendOutcome } from '../builtins/http-send/client.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BundleInfo } from '../bundle/manager.js';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'A histogram of duration for requests.',
    labelNames: ['code', 'handler', 'method'],
    buckets: [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 0.01, 0.1, 1],
    registers: [this.registry],
  });

  /** Verdict's own: time inside the engine per decision (policy evaluation only, no HTTP). */
  readonly evaluationDuration = new Histogram({
    name: 'verdict_evaluation_duration_seconds',
    help: 'A histogram of policy evaluation time per decision.',
    buckets: [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 0.01, 0.1, 1],
    registers: [this.registry],
  });

  /** Verdict's own: the policies' http.send requests by outcome (sent, failed, cache_hit) and their latency. */
  readonly httpSendRequests = new Counter({
    name: 'verdict_http_send_requests_total',
    help: 'http.send requests made by policies, by outcome (sent, failed, cache_hit).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly httpSendDuration = new Histogram({
    name: 'verdict_http_send_duration_seconds',
    help: 'A histogram of http.send request latency (sent and failed requests).',
    buckets: [1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly observeHttpSend = (event: HttpSendOutcome): void => {
    this.httpSendRequests.inc({ outcome: event.outcome });
    if (event.outcome !== 'cache_hit') this.httpSendDuration.observe(event.seconds);
  };

  // OPA's bundle metrics (monitoring.md, with status.prometheus): always on here.
  readonly bundleLoaded = new Counter({ name: 'bundle_loaded_counter', help: 'Counter for the bundle loaded.', labelNames: ['name'], registers: [this.registry] });
  readonly bundleFailedLoad = new Counter({
    name: 'bundle_failed_load_counter',
    help: 'Counter for the failed bundle load.',
    labelNames: ['name'],
    registers: [this.registry],
  });
  readonly bundleLoadingDuration = new Histogram({
    name: 'bundle_loading_duration_ns',
    help: 'Histogram for the bundle loading duration by stage.',
    labelNames: ['name', 'stage'],
    buckets: [1e5, 1e6, 1e7, 1e8, 1e9, 1e10],
    registers: [this.registry],
  });

  private bundles: () => BundleInfo[] = () => [];

  // OPA's per-bundle timestamps, in nanoseconds since the epoch as OPA reports them; read from the bundle
  // manager's records when scraped.
  readonly lastBundleRequest = this.bundleTimeGauge('last_bundle_request', 'Gauge for the last bundle request.', (b) => b.download?.lastRequest);
  readonly lastSuccessBundleRequest = this.bundleTimeGauge('last_success_bundle_request', 'Gauge for the last success bundle request.', (b) => b.download?.lastSuccessfulRequest);
  readonly lastSuccessBundleDownload = this.bundleTimeGauge('last_success_bundle_download', 'Gauge for the last success bundle download.', (b) => b.download?.lastSuccessfulDownload);
  readonly lastSuccessBundleActivation = this.bundleTimeGauge('last_success_bundle_activation', 'Gauge for the last success bundle activation.', (b) => b.activatedAt);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the bundle gauges read from (the server's bundle manager). */
  observeBundles(list: () => BundleInfo[]): void {
    this.bundles = list;
  }

  private bundleTimeGauge(name: string, help: string, pick: (b: BundleInfo) => Date | undefined): Gauge {
    const metrics = this;
    return new Gauge({
      name,
      help,
      labelNames: ['name'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const b of metrics.bundles()) {
          const at = pick(b);
          if (at) this.set({ name: b.name }, at.getTime() * 1e6);
        }
      },
    });
  }

  /** OPA's handler label for a request path. */
  static handlerOf(path: string): string {
    if (path.startsWith('/v1/data')) return 'v1/data';
    if (path.startsWith('/v0/data')) return 'v0/data';
    if (path.startsWith('/v1/policies')) return 'v1/policies';
    if (path.startsWith('/v1/config')) return 'v1/config';
    if (path.startsWith('/v1/status')) return 'v1/status';
    if (path.startsWith('/health')) return 'health';
    if (path.startsWith('/v1/authz')) return 'v1/authz';
    if (path === '/') return 'index';
    return 'catchall';
  }
}
