// Prometheus metrics with OPA's names where OPA has one (docs/docs/monitoring.md): the request duration
// histogram by code/handler/method, plus Verdict's own evaluation latency.
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'A histogram of duration for requests.',
    labelNames: ['code', 'handler', 'method'],
    buckets: [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 0.01, 0.1, 1],
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
    if (path === '/') return 'index';
    return 'catchall';
  }
}
