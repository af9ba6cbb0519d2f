// Prometheus metrics with OPA's names where OPA has one (docs/docs/monitoring.md): the request duration
// histogram by code/handler/method, plus Verdict's own evaluation latency.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
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
