// verdict.http_send (schemas/config.schema.json, already validated) → the client's settings.
import type { HttpSendConfig } from '../../config/config.js';
import { durationMs } from '../../pip/config.js';
import { DEFAULT_HTTP_SEND_SETTINGS, type HttpSendSettings } from './client.js';

export function httpSendSettings(config: HttpSendConfig | undefined): HttpSendSettings {
  const d = DEFAULT_HTTP_SEND_SETTINGS;
  return {
    defaultTimeoutMs: durationMs(config?.timeout, d.defaultTimeoutMs),
    maxRequestsPerDecision: config?.max_requests_per_decision ?? d.maxRequestsPerDecision,
    maxResponseBytes: config?.max_response_bytes ?? d.maxResponseBytes,
    cacheMaxEntries: config?.cache_max_entries ?? d.cacheMaxEntries,
    ...(config?.allowed_hosts ? { allowedHosts: config.allowed_hosts } : {}),
  };
}
