// The configuration file, in OPA's format (docs/docs/configuration.md) with Verdict's settings under
// `verdict:`. `${VAR}` references are replaced from the environment before parsing, as OPA does, and the
// result is validated against schemas/config.schema.json so a typo stops start-up with its JSON path.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv, ErrorObject } from 'ajv';
import { lazyRequire } from '../lazy-require.js';
import { pipConfigSchema } from '../pip/config.js';
import { refusedKeysIn } from './opa-keys.js';
import { cloneJson } from '../json/clone.js';
import { numbersForTypes } from './schema-numbers.js';
import { ConfigError } from './config-error.js';

export interface VerdictConfig {
  services?: Record<string, ServiceConfig> | (ServiceConfig & { name: string })[];
  labels?: Record<string, string>;
  bundles?: Record<string, Record<string, unknown>>;
  decision_logs?: Record<string, unknown>;
  status?: Record<string, unknown>;
  plugins?: Record<string, unknown>;
  keys?: Record<string, { key?: string; private_key?: string; algorithm?: string; scope?: string }>;
  default_decision?: string;
  default_authorization_decision?: string;
  server?: {
    encoding?: { gzip?: { min_length?: number; compression_level?: number } };
    decoding?: { max_length?: number; gzip?: { max_length?: number } };
    metrics?: { prom?: { http_request_duration_seconds?: { buckets?: number[] } } };
  };
  /** OPA's caching.inter_query_builtin_cache bounds http.send's inter-query cache. */
  caching?: {
    inter_query_builtin_cache?: { max_size_bytes?: number; forced_eviction_threshold_percentage?: number; stale_entry_eviction_period_seconds?: number };
  };
  nd_builtin_cache?: boolean;
  verdict?: { workers?: number; shutdown_timeout_seconds?: number; http_send?: HttpSendConfig };
  /** Policy information points (schemas/pip.schema.json); checked in detail by createEnricher at start-up. */
  pip?: Record<string, unknown>;
  [key: string]: unknown;
}

/** verdict.http_send: the http.send builtin's allow-list and limits (see src/builtins/http-send/settings.ts). */
export interface HttpSendConfig {
  allowed_hosts?: string[];
  timeout?: number | string;
  max_requests_per_decision?: number;
  max_response_bytes?: number;
  cache_max_entries?: number;
}

export interface ServiceConfig {
  url: string;
  credentials?: Record<string, unknown>;
  [key: string]: unknown;
}

export { ConfigError } from './config-error.js';

const schemaPath = resolve(dirname(fileURLToPath(import.meta.url)), '../../../schemas/config.schema.json');
let validator: ReturnType<Ajv['compile']> | undefined;
// Loaded on first use: the CLI commands that never read a config file should not pay for ajv and yaml at start-up.
const ajv = lazyRequire<typeof import('ajv')>('ajv');
const yaml = lazyRequire<typeof import('yaml')>('yaml');

/** Replaces `${NAME}` with the environment variable's value (empty when unset), as OPA does. */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => env[name.trim()] ?? '');
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): VerdictConfig {
  let value: unknown;
  try {
    value = yaml().parse(substituteEnv(text, env));
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) return {};
  return validateConfig(value, source);
}

/** Checks a configuration against the schema (a file's, or one discovery produced); throws ConfigError naming each problem. */
export function validateConfig(value: unknown, source: string): VerdictConfig {
  validator ??= new (ajv().Ajv)({ allErrors: true, strict: false }).addSchema(pipConfigSchema).compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  // A number kept as its text is checked again once those that fit their place are JS numbers.
  let valid = validator(value);
  if (!valid && numbersForTypes(value, validator.errors ?? [])) valid = validator(value);
  if (!valid) throw new ConfigError(`${source}: invalid configuration:\n${describeErrors(validator.errors ?? [])}`);
  const refused = refusedKeysIn(value);
  if (refused.length > 0) throw new ConfigError(`${source}: OPA settings Verdict does not support:\n${refused.map((line) => `  ${line}`).join('\n')}`);
  return value as VerdictConfig;
}

export async function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<VerdictConfig> {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  return parseConfig(text, file, env);
}

function describeErrors(errors: ErrorObject[]): string {
  return errors
    .map((e) => {
      const at = `/${e.instancePath.replace(/^\//, '')}`;
      if (e.keyword === 'additionalProperties') return `  at ${at}: unknown key ${JSON.stringify(e.params.additionalProperty)}`;
      if (e.keyword === 'enum') return `  at ${at}: expected one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      return `  at ${at}: ${e.message ?? e.keyword}`;
    })
    .join('\n');
}

/** The configuration as GET /v1/config shows it: credentials and key material removed, as OPA does. */
export function redactConfig(config: VerdictConfig, labels: Record<string, string>): Record<string, unknown> {
  const copy = structuredClone(config) as Record<string, unknown>;
  const services = copy.services;
  if (Array.isArray(services)) for (const s of services) delete (s as ServiceConfig).credentials;
  else if (services && typeof services === 'object') for (const s of Object.values(services)) delete (s as ServiceConfig).credentials;
  if (copy.keys && typeof copy.keys === 'object') {
    for (const k of Object.values(copy.keys as Record<string, Record<string, unknown>>)) {
      delete k.key;
      delete k.private_key;
    }
  }
  // Admin API keys may be HMAC secrets.
  const admin = copy.admin_api as { auth?: { keys?: Record<string, unknown>[] } } | undefined;
  for (const k of admin?.auth?.keys ?? []) delete k.key;
  // PIP settings hold bind passwords, client secrets, bearer tokens and connection strings: show only the rest.
  const adapters = (copy.pip as { adapters?: Record<string, Record<string, unknown>> } | undefined)?.adapters;
  if (adapters && typeof adapters === 'object') for (const a of Object.values(adapters)) delete a.settings;
  copy.labels = labels;
  copy.default_decision = config.default_decision ?? '/system/main';
  copy.default_authorization_decision = config.default_authorization_decision ?? '/system/authz/allow';
  // OPA writes the configuration as a Go map: every object's keys in sorted order.
  return cloneJson(copy, { sortKeys: true });
}
