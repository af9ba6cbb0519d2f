// OPA's status plugin (docs: management-status): one report, built from the running server's parts, serves
// GET /v1/status, the upload to `status.service` (POST /status[/<partition_name>]) and the console log line.
// OPA pushes a report whenever a bundle or discovery download is processed (304s included) or a plugin's
// state changes; here the report is rebuilt on a short tick and sent whenever it differs from the last one
// sent (metrics aside), which catches every one of those events without each part having to announce itself.
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { ServiceClient } from '../bundle/service.js';
import type { PluginStatus } from '../server/context.js';
import type { Plugin } from '../server/plugins.js';
import type { StatusSettings } from './config.js';
import { prometheusJson } from './prometheus-json.js';

/** What the report is made of; each part is read when a report is built. */
export interface StatusSources {
  labels: () => Record<string, string>;
  bundles: () => Record<string, unknown>;
  /** The discovery bundle's status, once discovery has run. */
  discovery?: () => Record<string, unknown> | undefined;
  plugins: () => Record<string, PluginStatus>;
  /** OPA's `decision_logs` entry: the last upload failure, when the decision log uploads. */
  decisionLogs?: () => Record<string, unknown> | undefined;
  /** Verdict's own parts (PIP adapters), appended to the report. */
  extra?: () => Record<string, unknown>;
  registry: Registry;
  /** The figures reported under `metrics.prometheus`, when not `registry`'s (every worker's, summed). */
  reported?: () => Promise<Registry>;
  /** Reported by opa_info{version} with `status.prometheus`. */
  version: string;
}

const tickMs = 200;
const maxResponseBytes = 64 * 1024;

export class StatusPlugin implements Plugin {
  readonly name = 'status';
  readonly kind = 'other';
  private client?: ServiceClient;
  private timer?: NodeJS.Timeout;
  private lastSent?: string;
  private sending?: Promise<void>;
  private started = false;
  /** Whether opa_info and plugin_status_gauge are on /metrics. */
  private prometheusOn = false;

  constructor(
    private settings: StatusSettings | undefined,
    private readonly sources: StatusSources,
    private readonly logger: Logger,
  ) {
    this.apply(settings);
  }

  /** OPA lists the status plugin only while a status section configures it. */
  get unlisted(): boolean {
    return this.settings === undefined;
  }

  get enabled(): boolean {
    return this.settings !== undefined;
  }

  /** The status report (GET /v1/status `result`, the uploaded body, the console line). */
  async report(): Promise<Record<string, unknown>> {
    return { ...this.changing(), metrics: { prometheus: await prometheusJson((await this.sources.reported?.()) ?? this.sources.registry) }, ...this.sources.extra?.() };
  }

  async start(): Promise<void> {
    this.started = true;
    this.tickWhileConfigured();
    // Not awaited: a slow status service must not hold up start-up.
    void this.sendIfChanged();
  }

  /** Sends a last report when something changed since the previous one, as OPA flushes on stop. */
  async stop(): Promise<void> {
    this.started = false;
    this.tickWhileConfigured();
    await this.sending;
    await this.sendIfChanged(true);
  }

  status(): PluginStatus {
    return { state: this.started ? 'OK' : 'NOT_READY' };
  }

  /** Discovery changed the status section. */
  reconfigure(settings: StatusSettings | undefined): void {
    // Unchanged settings keep the service client (and its cached OAuth2 token).
    if (JSON.stringify(settings) === JSON.stringify(this.settings)) return;
    this.settings = settings;
    this.apply(settings);
    this.lastSent = undefined;
    this.tickWhileConfigured();
  }

  /** The tick runs only while there is a report to send: without a status section an idle server sleeps. */
  private tickWhileConfigured(): void {
    const due = this.started && this.settings !== undefined;
    if (due && !this.timer) {
      this.timer = setInterval(() => void this.sendIfChanged(), tickMs);
      this.timer.unref();
    } else if (!due && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private apply(settings: StatusSettings | undefined): void {
    this.client = settings?.service ? new ServiceClient(settings.service, { keys: settings.keys }) : undefined;
    if (settings?.prometheus && !this.prometheusOn) {
      const { plugins, registry, version } = this.sources;
      // OPA registers these on /metrics only with `status.prometheus`; its bundle metrics are always on here.
      const info = new Gauge({ name: 'opa_info', help: 'Information about the OPA environment.', labelNames: ['version'], registers: [registry], aggregator: 'max' });
      info.set({ version }, 1);
      new Gauge({
        name: 'plugin_status_gauge',
        help: 'Gauge for the plugin by status.',
        labelNames: ['name', 'status'],
        registers: [registry],
        // Every worker runs the same plugins: one series per plugin and state, not a count of workers.
        aggregator: 'max',
        collect() {
          this.reset();
          for (const [name, s] of Object.entries(plugins())) this.set({ name, status: s.state }, 1);
        },
      });
      this.prometheusOn = true;
    } else if (!settings?.prometheus && this.prometheusOn) {
      for (const name of ['opa_info', 'plugin_status_gauge']) this.sources.registry.removeSingleMetric(name);
      this.prometheusOn = false;
    }
  }

  /** The report without metrics. */
  private changing(): Record<string, unknown> {
    const bundles = this.sources.bundles();
    const discovery = this.sources.discovery?.();
    const decisionLogs = this.sources.decisionLogs?.();
    return {
      labels: this.sources.labels(),
      ...(Object.keys(bundles).length > 0 ? { bundles } : {}),
      ...(discovery ? { discovery } : {}),
      ...(decisionLogs ? { decision_logs: decisionLogs } : {}),
      plugins: this.sources.plugins(),
    };
  }

  /**
   * What makes a new report due: the report without metrics and with plugins reduced to OPA's state and
   * message (Verdict's plugin details, such as the decision log's counters, change with every decision).
   */
  private changeKey(): string {
    const { plugins, ...rest } = this.changing();
    const states = Object.entries(plugins as Record<string, PluginStatus>).map(([name, s]) => [name, s.state, s.message]);
    return JSON.stringify([rest, states]);
  }

  private sendIfChanged(final = false): Promise<void> {
    if (this.sending || !this.settings || (!this.started && !final)) return this.sending ?? Promise.resolve();
    const key = this.changeKey();
    if (key === this.lastSent) return Promise.resolve();
    this.sending = this.send(key).finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  private async send(key: string): Promise<void> {
    const settings = this.settings!;
    const report = await this.report();
    this.lastSent = key;
    if (settings.console) this.logger.info({ ...report, type: 'openpolicyagent.org/status' }, 'Status Log');
    if (!this.client) return;
    const resource = settings.partitionName ? `status/${settings.partitionName.replace(/^\/+/, '')}` : 'status';
    try {
      const res = await this.client.post(resource, Buffer.from(JSON.stringify(report)), { headers: { 'content-type': 'application/json' }, maxBytes: maxResponseBytes });
      if (res.status < 200 || res.status > 299) throw new Error(`server replied with HTTP ${res.status}`);
    } catch (err) {
      // As OPA: not retried on its own; the next change (the next bundle poll at the latest) sends a new report.
      this.logger.error({ service: settings.service?.name, err: (err as Error).message }, 'Status update failed.');
    }
  }
}
