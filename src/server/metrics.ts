// Prometheus metrics with OPA's names, labels and label values where OPA has them (OPA's monitoring.md and what
// `opa run --server` v1.22 exposes): the request duration histogram by code/handler/method, the status plugin's
// bundle metrics; Verdict's own carry the `verdict_` prefix. In a server of several workers every worker keeps one
// of these registries and the primary merges them (aggregateWorkerMetrics): counters and histograms are summed;
// gauges say how (`aggregator`) where a sum would be wrong.
import type { HttpSendOutcome } from '../builtins/http-send/client.js';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Aggregator, type Metric } from 'prom-client';
import type { BundleInfo } from '../bundle/manager.js';
import { ConfigError, type VerdictConfig } from '../config/config.js';
import { HTTP_AUTHZ_MOUNT } from '../envoy/config.js';

/** OPA's default buckets for http_request_duration_seconds. */
export const defaultRequestDurationBuckets = [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 0.01, 0.1, 1];

/** OPA's default bundle_loading_duration_ns buckets (status.prometheus_config sets others): 1 µs doubling twenty times (about 0.5 s). */
const bundleLoadingBuckets = Array.from({ length: 20 }, (_, i) => 1000 * 2 ** i);

/**
 * How often nodejs_eventloop_lag_* samples the event loop's delay. prom-client's default (10 ms) is a timer that
 * wakes every server thread a hundred times a second while the server is idle; once a second still shows the
 * stalls a scrape interval (15 s or more) is about, and lets an idle server sleep.
 */
const eventLoopSampleMs = 1000;

/**
 * Node's default metrics (process_*, nodejs_*), made on a thread's first ServerMetrics and registered in every
 * later one: prom-client starts an event loop delay monitor and a GC observer each time it makes them and never
 * stops either, so a thread that builds several ServerMetrics (the tests do) would pile them up.
 */
let threadDefaultMetrics: Metric[] | undefined;

function registerDefaultMetrics(registry: Registry): void {
  if (!threadDefaultMetrics) {
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults, eventLoopMonitoringPrecision: eventLoopSampleMs });
    // prom-client's types call these MetricObject; they are the metric instances registerMetric takes.
    threadDefaultMetrics = defaults.getMetricsAsArray() as unknown as Metric[];
  }
  for (const metric of threadDefaultMetrics) registry.registerMetric(metric);
}

/**
 * What Go's zero time.Time gives as Unix nanoseconds (it overflows int64): OPA reports it for a bundle that has
 * never had a successful request, download or activation, so dashboards see the same value here.
 */
const goZeroTimeNs = -6795364578871345152;

/** `server.metrics.prom.http_request_duration_seconds.buckets`, checked: increasing positive seconds. */
export function requestDurationBuckets(config: VerdictConfig): number[] {
  const key = 'server.metrics.prom.http_request_duration_seconds.buckets';
  const buckets = config.server?.metrics?.prom?.http_request_duration_seconds?.buckets;
  if (buckets === undefined) return defaultRequestDurationBuckets;
  if (!Array.isArray(buckets) || buckets.length === 0) throw new ConfigError(`${key}: expected a non-empty list of bucket bounds in seconds`);
  buckets.forEach((b, i) => {
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0) throw new ConfigError(`${key}[${i}]: ${JSON.stringify(b)} is not a positive number of seconds`);
    if (i > 0 && b <= buckets[i - 1]) throw new ConfigError(`${key}[${i}]: ${b} does not follow ${buckets[i - 1]}; bounds must increase`);
  });
  return buckets;
}

/** A registry's figures as getMetricsAsJSON() gives them, the form workers send them in. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * One server's figures from its workers' (a plain function: no node:cluster). Counters and histograms are summed,
 * gauges merged as their `aggregator` says. The default metrics named process_* (CPU seconds, resident and
 * virtual memory, open descriptors, start time) describe the whole process: workers that are threads of one
 * process all report the same process, so those are taken once (the largest, i.e. the latest
 * reading; the start time's smallest) instead of being counted once per thread. The nodejs_* ones (heap, event
 * loop lag, handles, GC) are each thread's own and are summed (lag averaged) as across processes.
 */
export function aggregateWorkerMetrics(workers: MetricsJson[]): Registry {
  const once = (name: string): Aggregator | undefined => (!name.startsWith('process_') ? undefined : name === 'process_start_time_seconds' ? 'min' : 'max');
  return AggregatorRegistry.aggregate(workers.map((metrics) => metrics.map((m) => ({ ...m, aggregator: once(m.name) ?? m.aggregator }))));
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'code' | 'handler' | 'method'>;

  /** Verdict's own: time inside the engine per decision (policy evaluation only, no HTTP). */
  readonly evaluationDuration = new Histogram({
    name: 'verdict_evaluation_duration_seconds',
    help: 'A histogram of policy evaluation time per decision.',
    buckets: defaultRequestDurationBuckets,
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

  // OPA's bundle metrics (its status plugin's, with status.prometheus): always on here.
  readonly bundleLoaded = new Counter({ name: 'bundle_loaded_counter', help: 'Counter for the bundle loaded.', labelNames: ['name'], registers: [this.registry] });
  readonly bundleFailedLoad = new Counter({
    name: 'bundle_failed_load_counter',
    help: 'Counter for the failed bundle load.',
    labelNames: ['code', 'message', 'name'],
    registers: [this.registry],
  });
  /** Stages as OPA names them: timer_bundle_request_ns (download) and timer_rego_load_bundles_ns (activation). */
  readonly bundleLoadingDuration: Histogram<'name' | 'stage'>;

  private bundles: () => BundleInfo[] = () => [];

  // OPA's per-bundle timestamps, in nanoseconds since the epoch as OPA reports them; read from the bundle
  // manager's records when scraped. Only the worker that downloads has them: the merge keeps the latest.
  readonly lastBundleRequest = this.bundleTimeGauge('last_bundle_request', 'Gauge for the last bundle request.', (b) => b.download?.lastRequest);
  readonly lastSuccessBundleRequest = this.bundleTimeGauge('last_success_bundle_request', 'Gauge for the last success bundle request.', (b) => b.download?.lastSuccessfulRequest);
  readonly lastSuccessBundleDownload = this.bundleTimeGauge('last_success_bundle_download', 'Gauge for the last success bundle download.', (b) => b.download?.lastSuccessfulDownload);
  readonly lastSuccessBundleActivation = this.bundleTimeGauge('last_success_bundle_activation', 'Gauge for the last success bundle activation.', (b) => b.activatedAt, (b) => ({ active_revision: b.revision ?? '' }));

  constructor(requestBuckets: number[] = defaultRequestDurationBuckets, bundleBuckets: number[] = bundleLoadingBuckets) {
    this.requestDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'A histogram of duration for requests.',
      labelNames: ['code', 'handler', 'method'],
      buckets: requestBuckets,
      registers: [this.registry],
    });
    this.bundleLoadingDuration = new Histogram({
      name: 'bundle_loading_duration_ns',
      help: 'Histogram for the bundle loading duration by stage.',
      labelNames: ['name', 'stage'],
      buckets: bundleBuckets,
      registers: [this.registry],
    });
    registerDefaultMetrics(this.registry);
  }

  /** Where the bundle gauges read from (the server's bundle manager). */
  observeBundles(list: () => BundleInfo[]): void {
    this.bundles = list;
  }

  /**
   * A bundle activated or failed: the last download request's time (remote bundles, failed requests included)
   * and, when it activated, the activation's, under OPA's stage names.
   */
  observeBundleLoading(info: BundleInfo, { activated }: { activated: boolean }): void {
    if (info.download?.requestNs !== undefined) this.bundleLoadingDuration.observe({ name: info.name, stage: 'timer_bundle_request_ns' }, info.download.requestNs);
    if (activated && info.activationNs !== undefined) this.bundleLoadingDuration.observe({ name: info.name, stage: 'timer_rego_load_bundles_ns' }, info.activationNs);
  }

  /**
   * A request answered: counted under OPA's handler label, unless OPA would not count it either; with `authz`
   * (`--authorization=basic`) also under "authz", as OPA times its authorizer around every request.
   */
  observeRequest(method: string, url: string, code: number, seconds: number, authz = false): void {
    const handler = ServerMetrics.handlerOf(method, url);
    // Labels in OPA's (alphabetical) order: prom-client prints them as given.
    const observe = (label: string) => this.requestDuration.observe({ code: String(code), handler: label, method: method.toLowerCase() }, seconds);
    if (handler) observe(handler);
    if (authz) observe('authz');
  }

  private bundleTimeGauge(name: string, help: string, pick: (b: BundleInfo) => Date | undefined, extra: (b: BundleInfo) => Record<string, string> = () => ({})): Gauge {
    const metrics = this;
    return new Gauge({
      name,
      help,
      labelNames: [...Object.keys(extra({ name: '', source: 'download', location: '', activations: 0, failures: 0 })), 'name'],
      registers: [this.registry],
      aggregator: 'max',
      collect() {
        this.reset();
        // OPA lists every configured remote bundle; local and uploaded ones have no request to time.
        for (const b of metrics.bundles()) {
          if (!b.download) continue;
          const at = pick(b);
          this.set({ ...extra(b), name: b.name }, at ? at.getTime() * 1e6 : goZeroTimeNs);
        }
      },
    });
  }

  /**
   * OPA's handler label for a request, following its router: a route's label for the methods it serves (HEAD
   * where GET is served), "catchall" for the other methods on the data, policy and query paths (405), and
   * nothing for what OPA leaves uncounted (/metrics, unknown paths, /v1/compile and /health with a wrong method).
   * Verdict's own surfaces count under their paths (v1/authz, v1/bundles, v1/decisions, ui).
   */
  static handlerOf(method: string, url: string): string | undefined {
    const path = url.split('?', 1)[0];
    const m = method === 'HEAD' ? 'GET' : method;
    const under = (prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
    const route = (label: string, methods: string[], otherwise?: string) => (methods.includes(m) ? label : otherwise);
    if (under('/v0/data')) return route('v0/data', ['POST'], 'catchall');
    if (path === '/v1/data' || path === '/v1/data/') return route('v1/data', ['GET', 'PUT', 'PATCH', 'POST', ...(path === '/v1/data/' ? ['DELETE'] : [])], 'catchall');
    if (under('/v1/data')) return route('v1/data', ['GET', 'PUT', 'PATCH', 'POST', 'DELETE'], 'catchall');
    if (path === '/v1/policies') return route('v1/policies', ['GET'], 'catchall');
    if (under('/v1/policies')) return route('v1/policies', ['GET', 'PUT', 'DELETE'], 'catchall');
    if (path === '/v1/query') return route('v1/query', ['GET', 'POST'], 'catchall');
    if (under('/v1/query')) return 'catchall';
    if (path === '/v1/compile') return route('v1/compile', ['POST']);
    if (under('/v1/compile')) return route('v1/compile', ['GET', 'POST']);
    if (path === '/v1/config') return route('v1/config', ['GET']);
    if (path === '/v1/status') return route('v1/status', ['GET']);
    if (under('/health')) return route('health', ['GET']);
    if (path === '/') return route('index', ['GET', 'POST']);
    if (under(HTTP_AUTHZ_MOUNT)) return HTTP_AUTHZ_MOUNT.slice(1);
    if (under('/v1/bundles')) return 'v1/bundles';
    if (under('/v1/decisions')) return 'v1/decisions';
    if (under('/ui')) return 'ui';
    return undefined;
  }
}
