// verdict.http_send and OPA's caching.inter_query_builtin_cache (schemas/config.schema.json, already validated)
// → the client's settings.
import type { HttpSendConfig, VerdictConfig } from '../../config/config.js';
import { durationMs } from '../../pip/config.js';
import { DEFAULT_HTTP_SEND_SETTINGS, type HttpSendSettings } from './client.js';

export function httpSendSettings(config: HttpSendConfig | undefined, caching?: VerdictConfig['caching']): HttpSendSettings {
  const d = DEFAULT_HTTP_SEND_SETTINGS;
  const limits = caching?.inter_query_builtin_cache;
  return {
    ...(limits?.max_size_bytes !== undefined
      ? { cacheMaxBytes: Math.floor((limits.max_size_bytes * (limits.forced_eviction_threshold_percentage ?? 100)) / 100) }
      : {}),
    ...(limits?.stale_entry_eviction_period_seconds ? { cacheStaleEvictionSeconds: limits.stale_entry_eviction_period_seconds } : {}),
    defaultTimeoutMs: durationMs(config?.timeout, d.defaultTimeoutMs),
    maxRequestsPerDecision: config?.max_requests_per_decision ?? d.maxRequestsPerDecision,
    maxResponseBytes: config?.max_response_bytes ?? d.maxResponseBytes,
    cacheMaxEntries: config?.cache_max_entries ?? d.cacheMaxEntries,
    ...(config?.allowed_hosts ? { allowedHosts: config.allowed_hosts } : {}),
  };
}
