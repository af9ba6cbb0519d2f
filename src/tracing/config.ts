// OPA's `distributed_tracing` section, checked and turned into the exporter's settings. The schema has already
// checked the types; this checks values and combinations, so a wrong one stops start-up naming the key.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/config-error.js';

export interface TracingSettings {
  protocol: 'grpc' | 'http';
  /** The OTLP endpoint URL: http(s)://host:port for gRPC, http(s)://host:port/v1/traces for HTTP. */
  url: string;
  serviceName: string;
  /** 0..1, the share of new traces sampled; a caller's sampled flag is followed either way. */
  sampleRatio: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  /** Resource attributes besides service.name. */
  resource: Record<string, string>;
  batch: { maxQueueSize: number; maxExportBatchSize: number; scheduledDelayMillis: number; exportTimeoutMillis: number };
}

/** OPA's resource keys and the OpenTelemetry attribute each sets (as OPA does). */
const resourceAttributes: Record<string, string> = {
  service_version: 'service.version',
  service_instance_id: 'service.instance.id',
  service_namespace: 'service.namespace',
  deployment_environment: 'deployment.environment',
};

const fail = (key: string, message: string): never => {
  throw new ConfigError(`distributed_tracing.${key}: ${message}`);
};

/**
 * The tracing settings for a `distributed_tracing` section, or undefined when it has none. OPA treats a
 * section without `type` as tracing off; here that is refused, since every other key in it would be ignored.
 */
export function tracingSettings(section: Record<string, unknown> | undefined): TracingSettings | undefined {
  if (section === undefined) return undefined;
  const type = section.type;
  if (type !== 'grpc' && type !== 'http') fail('type', `must be "grpc" or "http" to enable tracing (got ${JSON.stringify(type ?? null)}); remove the section to leave tracing off`);
  const protocol = type as 'grpc' | 'http';
  const encryption = (section.encryption as string | undefined) ?? 'off';
  if (!['off', 'tls', 'mtls'].includes(encryption)) fail('encryption', `must be off, tls or mtls (got ${JSON.stringify(encryption)})`);
  const tlsKeys = ['tls_ca_cert_file', 'tls_cert_file', 'tls_private_key_file', 'allow_insecure_tls'] as const;
  if (encryption === 'off') {
    for (const k of tlsKeys) if (section[k] !== undefined) fail(k, 'applies only with encryption tls or mtls');
  }
  if (encryption === 'tls') {
    for (const k of ['tls_cert_file', 'tls_private_key_file'] as const) if (section[k] !== undefined) fail(k, 'a client certificate needs encryption mtls');
  }
  if (encryption === 'mtls') {
    for (const k of ['tls_cert_file', 'tls_private_key_file'] as const) if (section[k] === undefined) fail(k, 'encryption mtls needs a client certificate and key');
  }
  const readFile = (k: (typeof tlsKeys)[number]): Buffer | undefined => {
    const path = section[k] as string | undefined;
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      return fail(k, `cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const address = (section.address as string | undefined) ?? (protocol === 'grpc' ? 'localhost:4317' : 'localhost:4318');
  if (/^[a-z]+:\/\//i.test(address) || !/^[^/\s]+:\d+$/.test(address)) fail('address', `must be host:port, as in OPA (got ${JSON.stringify(address)})`);
  const scheme = encryption === 'off' ? 'http' : 'https';
  const percentage = (section.sample_percentage as number | undefined) ?? 100;
  if (!(percentage >= 0 && percentage <= 100)) fail('sample_percentage', `must be between 0 and 100 (got ${percentage})`);
  const resource: Record<string, string> = {};
  for (const [k, v] of Object.entries((section.resource as Record<string, string> | undefined) ?? {})) resource[resourceAttributes[k] ?? fail(`resource.${k}`, 'is not one of OPA\'s resource keys')] = v;
  // blocking: true is refused with the other keys' values (src/config/opa-keys.ts) before this runs.
  const options = (section.batch_span_processor_options as Record<string, unknown> | undefined) ?? {};
  const batch = {
    maxQueueSize: (options.max_queue_size as number | undefined) ?? 2048,
    maxExportBatchSize: (options.max_export_batch_size as number | undefined) ?? 512,
    scheduledDelayMillis: (options.batch_timeout_ms as number | undefined) ?? 5000,
    exportTimeoutMillis: (options.export_timeout_ms as number | undefined) ?? 30000,
  };
  if (batch.maxQueueSize < 1) fail('batch_span_processor_options.max_queue_size', 'must be at least 1');
  if (batch.maxExportBatchSize < 1 || batch.maxExportBatchSize > batch.maxQueueSize) fail('batch_span_processor_options.max_export_batch_size', `must be between 1 and max_queue_size (${batch.maxQueueSize})`);
  return {
    protocol,
    url: `${scheme}://${address}${protocol === 'http' ? '/v1/traces' : ''}`,
    serviceName: (section.service_name as string | undefined) ?? 'opa',
    sampleRatio: percentage / 100,
    ...(encryption === 'off'
      ? {}
      : { tls: { ca: readFile('tls_ca_cert_file'), cert: readFile('tls_cert_file'), key: readFile('tls_private_key_file'), rejectUnauthorized: section.allow_insecure_tls !== true } }),
    resource,
    batch,
  };
}
