// Every key of OPA's configuration file (OPA v1.22 docs/configuration.md) and what Verdict does with it: works
// with OPA's meaning, or refused at start-up with the reason. A config that sets a refused key stops start-up
// naming the key, so nothing a user relies on is accepted and then ignored. `[_]` stands for any entry of a map
// or list (`services[_].url`, `bundles[_].resource`). docs/configuration.md's table is checked against this list.

export type KeyStatus = 'works' | `refused: ${string}`;
export type KeyType = 'string' | 'boolean' | 'integer' | 'number' | 'object' | 'string[]' | 'number[]';

export interface OpaConfigKey {
  path: string;
  type: KeyType;
  status: KeyStatus;
  /** What differs from OPA, or which values are refused, when the key works. */
  note?: string;
  /** A valid value, where the type alone does not give one (enums, references to other keys). */
  example?: unknown;
  /** Keys the enclosing section needs beside this one to be valid (the schema requires them together). */
  siblings?: Record<string, unknown>;
  /** Refused only for values this accepts (e.g. `nd_builtin_cache: true`); otherwise refused whenever present. */
  refusedWhen?: (value: unknown) => boolean;
}

const notYet = (what: string): KeyStatus => `refused: ${what} is not implemented in Verdict yet`;
const disk = 'refused: Verdict keeps data in memory and bundles on disk; OPA\'s badger disk store (storage.disk) is not available';
const customPlugin = 'refused: custom plugins are Go code compiled into OPA; Verdict has none';

export const opaConfigKeys: OpaConfigKey[] = [
  // Services.
  { path: 'services[_].name', type: 'string', status: 'works' },
  { path: 'services[_].url', type: 'string', status: 'works', example: 'http://127.0.0.1:8282' },
  { path: 'services[_].response_header_timeout_seconds', type: 'integer', status: 'works' },
  { path: 'services[_].headers', type: 'object', status: 'works', example: { 'X-Team': 'a' } },
  { path: 'services[_].tls.ca_cert', type: 'string', status: 'works' },
  { path: 'services[_].tls.system_ca_required', type: 'boolean', status: 'works' },
  { path: 'services[_].allow_insecure_tls', type: 'boolean', status: 'works' },
  { path: 'services[_].type', type: 'string', status: 'works', note: 'oci: bundles pulled from an OCI registry (docs/bundles.md)', example: 'oci' },
  { path: 'services[_].credentials.bearer.token', type: 'string', status: 'works' },
  { path: 'services[_].credentials.bearer.token_path', type: 'string', status: 'works' },
  { path: 'services[_].credentials.bearer.scheme', type: 'string', status: 'works' },
  { path: 'services[_].credentials.client_tls.cert', type: 'string', status: 'works', siblings: { private_key: 'key.pem' } },
  { path: 'services[_].credentials.client_tls.private_key', type: 'string', status: 'works', siblings: { cert: 'cert.pem' } },
  { path: 'services[_].credentials.client_tls.private_key_passphrase', type: 'string', status: 'works', siblings: { cert: 'cert.pem', private_key: 'key.pem' } },
  { path: 'services[_].credentials.oauth2.token_url', type: 'string', status: 'works' },
  { path: 'services[_].credentials.oauth2.client_id', type: 'string', status: 'works', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.client_secret', type: 'string', status: 'works', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.scopes', type: 'string[]', status: 'works', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.additional_headers', type: 'object', status: 'works', example: {}, siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.additional_parameters', type: 'object', status: 'works', example: {}, siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.grant_type', type: 'string', status: 'works', note: 'client_credentials and jwt_bearer', example: 'client_credentials', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.signing_key', type: 'string', status: 'works', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.thumbprint', type: 'string', status: 'works', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.additional_claims', type: 'object', status: 'works', example: {}, siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.include_jti_claim', type: 'boolean', status: 'works', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.client_assertion_type', type: 'string', status: 'works', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.client_assertion', type: 'string', status: 'works', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.client_assertion_path', type: 'string', status: 'works', siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.aws_kms', type: 'object', status: notYet('signing OAuth2 client assertions with AWS KMS'), example: {}, siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.aws_signing', type: 'object', status: notYet('signing OAuth2 client assertions with AWS KMS'), example: {}, siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.azure_keyvault', type: 'object', status: notYet('signing OAuth2 client assertions with Azure Key Vault'), example: {}, siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.oauth2.azure_signing', type: 'object', status: notYet('signing OAuth2 client assertions with Azure Key Vault'), example: {}, siblings: { token_url: 'https://idp.example.org/token' } },
  { path: 'services[_].credentials.s3_signing', type: 'object', status: 'works', note: 'environment, profile, web identity, assume role, EC2 and ECS metadata; signature_version 4a and service ecr are refused', example: { environment_credentials: {} } },
  { path: 'services[_].credentials.gcp_metadata', type: 'object', status: 'works', example: { audience: 'https://bundles.example.org' } },
  { path: 'services[_].credentials.azure_managed_identity', type: 'object', status: 'works', example: {} },
  { path: 'services[_].credentials.plugin', type: 'string', status: customPlugin },

  // Bundles.
  { path: 'bundles[_].resource', type: 'string', status: 'works' },
  { path: 'bundles[_].service', type: 'string', status: 'works', example: 's' },
  { path: 'bundles[_].polling.min_delay_seconds', type: 'integer', status: 'works' },
  { path: 'bundles[_].polling.max_delay_seconds', type: 'integer', status: 'works' },
  { path: 'bundles[_].polling.long_polling_timeout_seconds', type: 'integer', status: 'works' },
  { path: 'bundles[_].trigger', type: 'string', status: 'works', note: 'manual: download on POST /v1/bundles/{name}/trigger (admin API)', example: 'periodic' },
  { path: 'bundles[_].persist', type: 'boolean', status: 'works' },
  { path: 'bundles[_].signing.keyid', type: 'string', status: 'works' },
  { path: 'bundles[_].signing.scope', type: 'string', status: 'works' },
  { path: 'bundles[_].signing.exclude_files', type: 'string[]', status: 'works' },
  { path: 'bundles[_].size_limit_bytes', type: 'integer', status: 'works' },

  // Status and discovery.
  { path: 'status.service', type: 'string', status: 'works', example: 's' },
  { path: 'status.partition_name', type: 'string', status: 'works' },
  { path: 'status.console', type: 'boolean', status: 'works' },
  { path: 'status.prometheus', type: 'boolean', status: 'works' },
  { path: 'status.prometheus_config', type: 'object', status: 'works', note: 'collectors.bundle_loading_duration_ns.buckets; other collectors are refused', example: {} },
  { path: 'status.plugin', type: 'string', status: customPlugin },
  { path: 'status.trigger', type: 'string', status: 'works', note: 'periodic; manual is refused (only a Go program embedding OPA can trigger)', example: 'periodic', refusedWhen: (v) => v === 'manual' },
  { path: 'discovery.resource', type: 'string', status: 'works' },
  { path: 'discovery.service', type: 'string', status: 'works', example: 's' },
  { path: 'discovery.decision', type: 'string', status: 'works' },
  { path: 'discovery.polling', type: 'object', status: 'works', example: {} },
  { path: 'discovery.trigger', type: 'string', status: 'works', note: 'periodic; manual is refused (only a Go program embedding OPA can trigger)', example: 'periodic', refusedWhen: (v) => v === 'manual' },
  { path: 'discovery.signing', type: 'object', status: 'works', example: {} },
  { path: 'discovery.persist', type: 'boolean', status: 'works', note: 'false only: a persisted discovery bundle is refused', example: false, refusedWhen: (v) => v === true },
  { path: 'discovery.prefix', type: 'string', status: 'works' },
  { path: 'discovery.name', type: 'string', status: 'works' },

  // Decision logs (Verdict's own `decision_logs.store` is documented in docs/decision-log.md).
  { path: 'decision_logs.service', type: 'string', status: 'works', note: 'events wait in the local SQLite store until the collector answers 2xx', example: 's' },
  { path: 'decision_logs.partition_name', type: 'string', status: 'works', note: 'uploads to /logs/<partition_name> unless resource is set' },
  { path: 'decision_logs.resource', type: 'string', status: 'works' },
  { path: 'decision_logs.reporting.buffer_type', type: 'string', status: 'works', note: 'both buffer in the local store; the type selects which limit applies', example: 'size' },
  { path: 'decision_logs.reporting.buffer_size_limit_events', type: 'integer', status: 'works', note: 'needs buffer_type event; older unshipped events are skipped (kept in the store)' },
  { path: 'decision_logs.reporting.buffer_size_limit_bytes', type: 'integer', status: 'works', note: 'older unshipped events beyond it are skipped (kept in the store, not uploaded)' },
  { path: 'decision_logs.reporting.max_decisions_per_second', type: 'number', status: 'works', note: 'per worker' },
  { path: 'decision_logs.reporting.upload_size_limit_bytes', type: 'integer', status: 'works' },
  { path: 'decision_logs.reporting.min_delay_seconds', type: 'integer', status: 'works' },
  { path: 'decision_logs.reporting.max_delay_seconds', type: 'integer', status: 'works' },
  { path: 'decision_logs.reporting.trigger', type: 'string', status: 'works', note: 'periodic and immediate; manual is refused (only a Go program embedding OPA can trigger)', example: 'immediate', refusedWhen: (v) => v === 'manual' },
  { path: 'decision_logs.mask_decision', type: 'string', status: 'works' },
  { path: 'decision_logs.drop_decision', type: 'string', status: 'works' },
  { path: 'decision_logs.plugin', type: 'string', status: customPlugin },
  { path: 'decision_logs.console', type: 'boolean', status: 'works' },
  { path: 'decision_logs.request_context.http.headers', type: 'string[]', status: 'works' },

  // Keys.
  { path: 'keys[_].key', type: 'string', status: 'works' },
  { path: 'keys[_].private_key', type: 'string', status: 'works' },
  { path: 'keys[_].algorithm', type: 'string', status: 'works', example: 'RS256' },
  { path: 'keys[_].scope', type: 'string', status: 'works' },

  // Caching.
  { path: 'caching.inter_query_builtin_cache.max_size_bytes', type: 'integer', status: 'works', note: 'http.send responses, measured by their JSON size' },
  { path: 'caching.inter_query_builtin_cache.forced_eviction_threshold_percentage', type: 'integer', status: 'works', example: 80 },
  { path: 'caching.inter_query_builtin_cache.stale_entry_eviction_period_seconds', type: 'integer', status: 'works' },
  { path: 'caching.inter_query_builtin_value_cache.max_num_entries', type: 'integer', status: 'refused: Verdict keeps no inter-query value cache (regex, glob, JSON schema and GraphQL work is done per evaluation inside the compiled policy), so there is nothing to size' },
  { path: 'caching.inter_query_builtin_value_cache.named', type: 'object', status: 'refused: Verdict keeps no inter-query value cache (io_jwt, graphql), so there is nothing to size', example: {} },

  // Distributed tracing (docs/tracing.md).
  { path: 'distributed_tracing.type', type: 'string', status: 'works', note: 'grpc or http; a section without it is refused (OPA ignores it)', example: 'grpc' },
  { path: 'distributed_tracing.address', type: 'string', status: 'works', note: 'host:port', example: '127.0.0.1:4317', siblings: { type: 'grpc' } },
  { path: 'distributed_tracing.service_name', type: 'string', status: 'works', siblings: { type: 'grpc' } },
  { path: 'distributed_tracing.sample_percentage', type: 'number', status: 'works', example: 10, siblings: { type: 'grpc' } },
  { path: 'distributed_tracing.encryption', type: 'string', status: 'works', note: 'off, tls or mtls', example: 'off', siblings: { type: 'grpc' } },
  { path: 'distributed_tracing.tls_ca_cert_file', type: 'string', status: 'works', siblings: { type: 'grpc', encryption: 'tls' } },
  { path: 'distributed_tracing.tls_cert_file', type: 'string', status: 'works', siblings: { type: 'grpc', encryption: 'mtls', tls_private_key_file: 'key.pem' } },
  { path: 'distributed_tracing.tls_private_key_file', type: 'string', status: 'works', siblings: { type: 'grpc', encryption: 'mtls', tls_cert_file: 'cert.pem' } },
  { path: 'distributed_tracing.allow_insecure_tls', type: 'boolean', status: 'works', siblings: { type: 'grpc', encryption: 'tls' } },
  { path: 'distributed_tracing.resource', type: 'object', status: 'works', note: 'service_version, service_instance_id, service_namespace, deployment_environment', example: {}, siblings: { type: 'grpc' } },
  { path: 'distributed_tracing.batch_span_processor_options', type: 'object', status: 'works', note: 'blocking: true is refused (decisions never wait for the collector)', example: {}, siblings: { type: 'grpc' }, refusedWhen: (v) => (v as { blocking?: unknown })?.blocking === true },

  // Disk storage.
  { path: 'storage.disk.directory', type: 'string', status: disk },
  { path: 'storage.disk.auto_create', type: 'boolean', status: disk },
  { path: 'storage.disk.partitions', type: 'string[]', status: disk },
  { path: 'storage.disk.badger', type: 'string', status: disk },

  // Server.
  { path: 'server.decoding.max_length', type: 'integer', status: 'works' },
  { path: 'server.decoding.gzip.max_length', type: 'integer', status: 'works' },
  { path: 'server.encoding.gzip.min_length', type: 'integer', status: 'works' },
  { path: 'server.encoding.gzip.compression_level', type: 'integer', status: 'works', example: 9 },
  { path: 'server.metrics.prom.http_request_duration_seconds.buckets', type: 'number[]', status: 'works', note: 'increasing positive bounds only (OPA drops the histogram for unsorted ones)', example: [0.001, 0.01, 0.1] },

  // Miscellaneous.
  { path: 'labels', type: 'object', status: 'works', example: { app: 'x' } },
  { path: 'default_decision', type: 'string', status: 'works' },
  { path: 'default_authorization_decision', type: 'string', status: 'works' },
  { path: 'persistence_directory', type: 'string', status: 'works' },
  { path: 'plugins', type: 'object', status: 'works', note: 'envoy_ext_authz_grpc and envoy_ext_authz_http; other plugin names are refused as unknown keys', example: {} },
  {
    path: 'nd_builtin_cache',
    type: 'boolean',
    status: 'works',
    note: 'what time.now_ns, rand.intn, uuid.rfc4122 and http.send answered, in every decision event',
  },
];

/** The key's status when refused: its reason; undefined when it works. */
export function refusalReason(key: OpaConfigKey): string | undefined {
  return key.status.startsWith('refused: ') ? key.status.slice('refused: '.length) : undefined;
}

/** Values at `path` in `config`, with the concrete path of each (`services.acme.url`); `[_]` walks every entry. */
export function valuesAt(config: unknown, path: string): { at: string; value: unknown }[] {
  let found: { at: string; value: unknown }[] = [{ at: '', value: config }];
  for (const segment of path.split('.')) {
    const any = segment.endsWith('[_]');
    const name = any ? segment.slice(0, -3) : segment;
    const next: { at: string; value: unknown }[] = [];
    for (const { at, value } of found) {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !(name in value)) continue;
      const child = (value as Record<string, unknown>)[name];
      const where = at ? `${at}.${name}` : name;
      if (!any) next.push({ at: where, value: child });
      else if (Array.isArray(child)) child.forEach((v, i) => next.push({ at: `${where}[${i}]`, value: v }));
      else if (child !== null && typeof child === 'object') for (const [k, v] of Object.entries(child)) next.push({ at: `${where}.${k}`, value: v });
    }
    found = next;
  }
  return found;
}

/** Every refused key that `config` sets, as "path: reason" lines (empty when none). */
export function refusedKeysIn(config: unknown): string[] {
  const lines: string[] = [];
  for (const key of opaConfigKeys) {
    const reason = refusalReason(key);
    for (const { at, value } of valuesAt(config, key.path)) {
      if (reason !== undefined && (key.refusedWhen?.(value) ?? true)) lines.push(`${at}: ${reason}`);
      else if (reason === undefined && key.refusedWhen?.(value)) lines.push(`${at}: ${JSON.stringify(value)} is refused (${key.note})`);
    }
  }
  return lines;
}

/** The Markdown table of docs/configuration.md: one row per key, its status and note. */
export function opaKeysTable(): string {
  const rows = opaConfigKeys.map((key) => {
    const reason = refusalReason(key);
    const status = reason === undefined ? 'works' : 'refused';
    const detail = (reason ?? key.note ?? '').replace(/\|/g, '\\|');
    return `| \`${key.path}\` | ${status} | ${detail} |`;
  });
  return ['| key | status | notes |', '|---|---|---|', ...rows].join('\n');
}
