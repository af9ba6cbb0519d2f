// The `status` section of OPA's configuration (docs: configuration, "Status"), checked the way OPA's status
// plugin checks it: a service named that does not exist is an error, and without `service`, `console` or
// `prometheus` the first service is used. Keys Verdict cannot honour are refused here, naming themselves.
import { normaliseServices, type ServiceClientOptions, type ServiceConfig } from '../bundle/service.js';
import type { VerdictConfig } from '../config/config.js';
import { isJsonObject as isObject } from '../json/kinds.js';

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

/**
 * `status.prometheus_config.collectors.bundle_loading_duration_ns.buckets`: the bundle_loading_duration_ns
 * histogram's upper bounds in nanoseconds, or undefined for OPA's defaults. It is OPA's only collector with
 * settings; another key is refused (OPA would only warn and ignore it).
 */
export function bundleLoadingBuckets(config: VerdictConfig): number[] | undefined {
  const section = (config.status as StatusSection | undefined)?.prometheus_config;
  if (section === undefined) return undefined;
  const fail = (key: string, message: string): never => {
    throw new StatusConfigError(`status.prometheus_config${key}: ${message}`);
  };
  const only = (value: unknown, key: string, allowed: string): Record<string, unknown> => {
    if (!isObject(value)) return fail(key, 'must be an object');
    for (const k of Object.keys(value)) if (k !== allowed) fail(`${key}.${k}`, `unknown key (OPA has ${allowed} only)`);
    return value;
  };
  const collectors = only(section, '', 'collectors').collectors;
  if (collectors === undefined) return undefined;
  const histogram = only(collectors, '.collectors', 'bundle_loading_duration_ns').bundle_loading_duration_ns;
  if (histogram === undefined) return undefined;
  const buckets = only(histogram, '.collectors.bundle_loading_duration_ns', 'buckets').buckets;
  if (buckets === undefined) return undefined;
  const key = '.collectors.bundle_loading_duration_ns.buckets';
  if (!Array.isArray(buckets) || buckets.length === 0 || !buckets.every((b) => typeof b === 'number' && Number.isFinite(b))) return fail(key, 'must be a non-empty list of numbers (nanoseconds)');
  if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1])) fail(key, `must be in increasing order (got ${JSON.stringify(buckets)})`);
  return buckets as number[];
}

/** The status settings of a configuration, or undefined when OPA would not start a status plugin for it. */
export function statusSettings(config: VerdictConfig): StatusSettings | undefined {
  const section = config.status as StatusSection | undefined;
  if (section === undefined || section === null) return undefined;
  if (section.plugin !== undefined) throw new StatusConfigError(`status.plugin: Verdict has no custom status plugins; use status.service or status.console`);
  bundleLoadingBuckets(config);
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
