// The `status` section of OPA's configuration (docs: configuration, "Status"), checked the way OPA's status
// plugin checks it: a service named that does not exist is an error, and without `service`, `console` or
// `prometheus` the first service is used. Keys Verdict cannot honour are refused here, naming themselves.
import { normaliseServices, type ServiceClientOptions, type ServiceConfig } from '../bundle/service.js';
import type { VerdictConfig } from '../config/config.js';

export interface StatusSettings {
  /** Where reports are POSTed (`status.service`); absent: no upload. */
  service?: ServiceConfig;
  /** `status.partition_name`: reports go to /status/<partition_name>. */
  partitionName?: string;
  /** `status.console`: each report is also logged at info level. */
  console: boolean;
  /** `status.prometheus`: /metrics gains plugin_status_gauge. */
  prometheus: boolean;
  /** The config's `keys`, for credentials that sign with one (OAuth2 client assertions). */
  keys?: ServiceClientOptions['keys'];
}

export class StatusConfigError extends Error {
  override name = 'StatusConfigError';
}

interface StatusSection {
  service?: string;
  partition_name?: string;
  console?: boolean;
  prometheus?: boolean;
  trigger?: string;
  plugin?: string;
  prometheus_config?: unknown;
}

/** The status settings of a configuration, or undefined when OPA would not start a status plugin for it. */
export function statusSettings(config: VerdictConfig): StatusSettings | undefined {
  const section = config.status as StatusSection | undefined;
  if (section === undefined || section === null) return undefined;
  if (section.plugin !== undefined) throw new StatusConfigError(`status.plugin: Verdict has no custom status plugins; use status.service or status.console`);
  if (section.prometheus_config !== undefined) {
    throw new StatusConfigError('status.prometheus_config: the bundle_loading_duration_ns buckets are fixed in Verdict (OPA\'s defaults: 1 µs doubling to about 0.5 s)');
  }
  if (section.trigger === 'manual') {
    throw new StatusConfigError('status.trigger: "manual" needs a caller to trigger each report, which `verdict run` does not have; use "periodic"');
  }
  const services = normaliseServices(config.services as Parameters<typeof normaliseServices>[0]);
  const console = section.console === true;
  const prometheus = section.prometheus === true;
  if (!section.service && services.length === 0 && !console && !prometheus) return undefined;
  let service: ServiceConfig | undefined;
  if (section.service) {
    service = services.find((s) => s.name === section.service);
    if (!service) throw new StatusConfigError(`status.service: invalid service name ${JSON.stringify(section.service)} in status`);
  } else if (!console && !prometheus) {
    // OPA's backwards-compatible default, only when no console or Prometheus output says what was meant.
    service = services[0];
  }
  return { service, partitionName: section.partition_name, console, prometheus, keys: config.keys as ServiceClientOptions['keys'] };
}
