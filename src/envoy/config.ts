// Configuration of the ext_authz gRPC server, read from the same keys opa-envoy-plugin uses under
// plugins.envoy_ext_authz_grpc, so an OPA config file carries over unchanged.

export interface EnvoyGrpcConfig {
  addr: string; // as configured: ":9191", "host:port", "grpc://host:port" or "unix:///path"
  path: string; // decision path, e.g. "envoy/authz/allow"
  dryRun: boolean;
  enableReflection: boolean;
  skipRequestBodyParse: boolean;
  grpcMaxRecvMsgSize: number;
  grpcMaxSendMsgSize: number;
  /** Verdict's own keys (opa-envoy-plugin has no TLS for its gRPC server): serve TLS, and require client certificates signed by the CA. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsCaCertFile?: string;
}

export const PLUGIN_NAME = 'envoy_ext_authz_grpc';

export const envoyGrpcDefaults: EnvoyGrpcConfig = {
  addr: ':9191',
  path: 'envoy/authz/allow',
  dryRun: false,
  enableReflection: false,
  skipRequestBodyParse: false,
  grpcMaxRecvMsgSize: 4 * 1024 * 1024,
  grpcMaxSendMsgSize: 2 ** 31 - 1,
};

export class EnvoyConfigError extends Error {
  readonly code = 'invalid_config';
}

const KEYS: Record<string, [keyof EnvoyGrpcConfig, 'string' | 'boolean' | 'number']> = {
  addr: ['addr', 'string'],
  path: ['path', 'string'],
  'dry-run': ['dryRun', 'boolean'],
  'enable-reflection': ['enableReflection', 'boolean'],
  'skip-request-body-parse': ['skipRequestBodyParse', 'boolean'],
  'grpc-max-recv-msg-size': ['grpcMaxRecvMsgSize', 'number'],
  'grpc-max-send-msg-size': ['grpcMaxSendMsgSize', 'number'],
  'tls-cert-file': ['tlsCertFile', 'string'],
  'tls-private-key-file': ['tlsPrivateKeyFile', 'string'],
  'tls-ca-cert-file': ['tlsCaCertFile', 'string'],
};

// opa-envoy-plugin keys Verdict does not act on: refused by name, so no one believes they are in force.
const REFUSED: Record<string, string> = {
  query: 'is not supported by Verdict (use "path")',
  'proto-descriptor': 'is not supported by Verdict (use "path")',
  'enable-performance-metrics': "is not supported by Verdict: it has no per-call gRPC timing histograms (grpc_request_duration_seconds); remove the key",
  'grpc-request-duration-seconds-buckets': "is not supported by Verdict: it has no grpc_request_duration_seconds histogram to size; remove the key",
};

export function parseEnvoyGrpcConfig(raw: unknown): EnvoyGrpcConfig {
  const config: EnvoyGrpcConfig = { ...envoyGrpcDefaults };
  if (raw === undefined || raw === null) return config;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new EnvoyConfigError(`plugins.${PLUGIN_NAME} must be an object`);
  for (const [key, value] of Object.entries(raw)) {
    if (Object.hasOwn(REFUSED, key)) throw new EnvoyConfigError(`plugins.${PLUGIN_NAME}.${key} ${REFUSED[key]}`);
    const spec = KEYS[key];
    if (!spec) throw new EnvoyConfigError(`plugins.${PLUGIN_NAME}: unknown key "${key}"`);
    const [name, type] = spec;
    if (typeof value !== type) throw new EnvoyConfigError(`plugins.${PLUGIN_NAME}.${key} must be a ${type}`);
    (config as unknown as Record<string, unknown>)[name] = value;
  }
  config.path = config.path.replace(/^\/+|\/+$/g, '');
  if (config.path === '') throw new EnvoyConfigError(`plugins.${PLUGIN_NAME}.path must name a document`);
  for (const key of ['grpcMaxRecvMsgSize', 'grpcMaxSendMsgSize'] as const) {
    if (!Number.isInteger(config[key]) || config[key] <= 0) throw new EnvoyConfigError(`plugins.${PLUGIN_NAME}: message sizes must be positive integers`);
  }
  if (Boolean(config.tlsCertFile) !== Boolean(config.tlsPrivateKeyFile)) throw new EnvoyConfigError(`plugins.${PLUGIN_NAME}: tls-cert-file and tls-private-key-file must be given together`);
  if (config.tlsCaCertFile && !config.tlsCertFile) throw new EnvoyConfigError(`plugins.${PLUGIN_NAME}.tls-ca-cert-file needs tls-cert-file and tls-private-key-file`);
  bindAddress(config.addr);
  return config;
}

// The address in grpc-js's form. ":9191" listens on every interface, as Go's net.Listen does.
export function bindAddress(addr: string): string {
  if (addr.startsWith('unix://')) return addr; // grpc-js takes unix:///absolute/path as is
  const hostPort = addr.startsWith('grpc://') ? addr.slice('grpc://'.length) : addr;
  if (addr.includes('://') && !addr.startsWith('grpc://')) throw new EnvoyConfigError(`plugins.${PLUGIN_NAME}.addr: invalid url scheme in "${addr}"`);
  const match = /^(.*):(\d+)$/.exec(hostPort);
  if (!match) throw new EnvoyConfigError(`plugins.${PLUGIN_NAME}.addr "${addr}" needs a port`);
  return `${match[1] === '' ? '0.0.0.0' : match[1]}:${match[2]}`;
}

// The HTTP callout router (src/envoy/http-authz.ts) has no OPA counterpart; its keys follow the
// gRPC plugin's spelling so one policy path and the same switches serve both.
export interface HttpAuthzConfig {
  path: string;
  pathPrefix?: string;
  dryRun: boolean;
  skipRequestBodyParse: boolean;
  maxBodyBytes: number;
}

export const HTTP_PLUGIN_NAME = 'envoy_ext_authz_http';

/** Where the HTTP ext_authz callouts are served. */
export const HTTP_AUTHZ_MOUNT = '/v1/authz';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const HTTP_KEYS: Record<string, [keyof HttpAuthzConfig, 'string' | 'boolean' | 'number']> = {
  path: ['path', 'string'],
  'path-prefix': ['pathPrefix', 'string'],
  'dry-run': ['dryRun', 'boolean'],
  'skip-request-body-parse': ['skipRequestBodyParse', 'boolean'],
  'max-body-bytes': ['maxBodyBytes', 'number'],
};

export function parseHttpAuthzConfig(raw: unknown): HttpAuthzConfig {
  const config: HttpAuthzConfig = { path: envoyGrpcDefaults.path, dryRun: false, skipRequestBodyParse: false, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
  if (raw === undefined || raw === null) return config;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new EnvoyConfigError(`plugins.${HTTP_PLUGIN_NAME} must be an object`);
  for (const [key, value] of Object.entries(raw)) {
    const spec = HTTP_KEYS[key];
    if (!spec) throw new EnvoyConfigError(`plugins.${HTTP_PLUGIN_NAME}: unknown key "${key}"`);
    const [name, type] = spec;
    if (typeof value !== type) throw new EnvoyConfigError(`plugins.${HTTP_PLUGIN_NAME}.${key} must be a ${type}`);
    (config as unknown as Record<string, unknown>)[name] = value;
  }
  config.path = config.path.replace(/^\/+|\/+$/g, '');
  if (config.path === '') throw new EnvoyConfigError(`plugins.${HTTP_PLUGIN_NAME}.path must name a document`);
  if (!Number.isInteger(config.maxBodyBytes) || config.maxBodyBytes <= 0) throw new EnvoyConfigError(`plugins.${HTTP_PLUGIN_NAME}.max-body-bytes must be a positive integer`);
  return config;
}
