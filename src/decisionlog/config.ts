// The `decision_logs` section of the configuration file → options for the store, the drop/mask pipeline
// and the uploader. OPA's keys keep OPA's meaning; Verdict's own settings live under `decision_logs.store`.
// Errors name the offending key.
import type { DecisionLogStoreOptions } from './store.js';
import type { UploadOptions } from './upload.js';
import type { PrincipalSource } from './principal.js';
import { defaultRetention } from './retention.js';
import { credentialHeaders } from './credentials.js';
import { postgresStoreOptions, type PostgresStoreOptions } from './postgres/config.js';

export interface DecisionLogSettings {
  /** Logging is on unless decision_logs.store.enabled is false. */
  enabled: boolean;
  store: DecisionLogStoreOptions;
  /** Paths of the drop and mask rules, without a leading slash. */
  dropPath: string;
  maskPath: string;
  /** Header names to copy into request_context.http.headers. */
  headers: string[];
  /** decision_logs.console: every logged event also goes to the server's log, as OPA prints it. */
  console: boolean;
  /** reporting.max_decisions_per_second: events beyond this rate are dropped before logging, as OPA does. */
  maxDecisionsPerSecond?: number;
  /** decision_logs.store.postgres: this server is a collector, storing uploads (POST /logs) in PostgreSQL and answering queries from there. */
  central?: PostgresStoreOptions;
  /** Set when decision events go to a service: resolve it by name (the server's ServiceClient), then pass on. */
  upload?: { service: string } & Omit<UploadOptions, 'service'>;
}

export class DecisionLogConfigError extends Error {
  override readonly name = 'DecisionLogConfigError';
}

type Obj = Record<string, unknown>;

/**
 * `serviceNames` are the configured services in order: as OPA, a decision_logs section that names no
 * service, no plugin and no console uploads to the first one.
 */
export function decisionLogSettings(section: unknown, serviceNames: string[] = []): DecisionLogSettings {
  const root = object(section ?? {}, 'decision_logs');
  const store = object(root.store ?? {}, 'decision_logs.store');
  const retention = object(store.retention ?? {}, 'decision_logs.store.retention');
  const reporting = object(root.reporting ?? {}, 'decision_logs.reporting');
  const http = object(object(root.request_context ?? {}, 'decision_logs.request_context').http ?? {}, 'decision_logs.request_context.http');
  const console = optional(root.console, 'decision_logs.console', 'boolean') ?? false;
  // Verdict's own `store` does not make OPA's section present: only OPA's keys (or an empty section) do.
  const opaKeys = Object.keys(root).filter((k) => k !== 'store');
  const opaSection = section !== undefined && (opaKeys.length > 0 || Object.keys(root).length === 0);
  const service = optional(root.service, 'decision_logs.service', 'string') ?? (opaSection && !console ? serviceNames[0] : undefined);
  if (service !== undefined && !serviceNames.includes(service)) {
    throw new DecisionLogConfigError(`decision_logs.service ${JSON.stringify(service)} names no service in the services section`);
  }

  const options: DecisionLogStoreOptions = {};
  const file = optional(store.file, 'decision_logs.store.file', 'string');
  if (file !== undefined) options.file = file;
  const durability = oneOf(store.durability, 'decision_logs.store.durability', ['default', 'sync'] as const);
  if (durability) options.durability = durability;
  const whenFull = oneOf(store.when_full, 'decision_logs.store.when_full', ['backpressure', 'drop'] as const);
  if (whenFull) options.whenFull = whenFull;
  const queueLimit = positive(store.queue_limit, 'decision_logs.store.queue_limit');
  if (queueLimit !== undefined) options.queueLimit = Math.floor(queueLimit);
  if (store.flush_delay_ms !== undefined) {
    const delay = store.flush_delay_ms;
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
      throw new DecisionLogConfigError(`decision_logs.store.flush_delay_ms must be a number of milliseconds (0 or more), got ${JSON.stringify(delay)}`);
    }
    options.flushDelayMs = delay;
  }
  if (store.outcome_paths !== undefined) options.outcome = { paths: strings(store.outcome_paths, 'decision_logs.store.outcome_paths') };
  if (store.principals !== undefined) options.principals = principals(store.principals);
  const maskCredentials = optional(store.mask_credentials, 'decision_logs.store.mask_credentials', 'boolean');
  if (maskCredentials !== undefined) options.maskCredentials = maskCredentials;
  options.retention = {};
  const maxAge = limit(retention.max_age_seconds, 'decision_logs.store.retention.max_age_seconds', defaultRetention.maxAgeSeconds);
  if (maxAge !== undefined) options.retention.maxAgeSeconds = maxAge;
  const maxBytes = limit(retention.max_bytes, 'decision_logs.store.retention.max_bytes', defaultRetention.maxBytes);
  if (maxBytes !== undefined) options.retention.maxBytes = maxBytes;
  const keep = optional(retention.keep_unshipped, 'decision_logs.store.retention.keep_unshipped', 'boolean');
  options.retention.keepUnshipped = keep ?? service !== undefined;

  const settings: DecisionLogSettings = {
    enabled: optional(store.enabled, 'decision_logs.store.enabled', 'boolean') ?? true,
    store: options,
    dropPath: rulePath(root.drop_decision, 'decision_logs.drop_decision', 'system/log/drop'),
    maskPath: rulePath(root.mask_decision, 'decision_logs.mask_decision', 'system/log/mask'),
    headers: contextHeaders(http.headers, maskCredentials ?? true),
    console,
  };
  if (store.postgres !== undefined) settings.central = postgresStoreOptions(store.postgres);
  const bufferType = oneOf(reporting.buffer_type, 'decision_logs.reporting.buffer_type', ['size', 'event'] as const) ?? 'size';
  const bufferBytes = positive(reporting.buffer_size_limit_bytes, 'decision_logs.reporting.buffer_size_limit_bytes');
  const bufferEvents = positive(reporting.buffer_size_limit_events, 'decision_logs.reporting.buffer_size_limit_events');
  const rate = positive(reporting.max_decisions_per_second, 'decision_logs.reporting.max_decisions_per_second');
  if (bufferType === 'size' && bufferEvents !== undefined) throw new DecisionLogConfigError('decision_logs.reporting.buffer_size_limit_events needs buffer_type "event"');
  if (bufferType === 'event' && bufferBytes !== undefined) throw new DecisionLogConfigError('decision_logs.reporting.buffer_size_limit_bytes needs buffer_type "size"');
  if (bufferBytes !== undefined && rate !== undefined) throw new DecisionLogConfigError('decision_logs.reporting: set either buffer_size_limit_bytes or max_decisions_per_second, not both');
  if (rate !== undefined) settings.maxDecisionsPerSecond = rate;
  // "manual" is refused at start-up (src/config/opa-keys.ts).
  const trigger = oneOf(reporting.trigger, 'decision_logs.reporting.trigger', ['periodic', 'immediate'] as const);
  if (service !== undefined) {
    const upload: NonNullable<DecisionLogSettings['upload']> = { service };
    const partition = optional(root.partition_name, 'decision_logs.partition_name', 'string');
    const resource = optional(root.resource, 'decision_logs.resource', 'string') ?? (partition !== undefined ? `/logs/${partition}` : undefined);
    if (resource !== undefined) upload.resource = resource;
    if (bufferBytes !== undefined) upload.bufferSizeLimitBytes = bufferBytes;
    if (bufferType === 'event') upload.bufferSizeLimitEvents = Math.floor(bufferEvents ?? 10_000);
    if (trigger === 'immediate') upload.immediate = true;
    const limit = positive(reporting.upload_size_limit_bytes, 'decision_logs.reporting.upload_size_limit_bytes');
    if (limit !== undefined) upload.uploadSizeLimitBytes = limit;
    const min = positive(reporting.min_delay_seconds, 'decision_logs.reporting.min_delay_seconds');
    const max = positive(reporting.max_delay_seconds, 'decision_logs.reporting.max_delay_seconds');
    if (min !== undefined && max !== undefined && min > max) {
      throw new DecisionLogConfigError(`decision_logs.reporting.min_delay_seconds (${min}) must not exceed max_delay_seconds (${max})`);
    }
    if (min !== undefined) upload.minDelaySeconds = min;
    if (max !== undefined) upload.maxDelaySeconds = max;
    settings.upload = upload;
  }
  return settings;
}

function object(value: unknown, key: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DecisionLogConfigError(`${key} must be an object`);
  return value as Obj;
}

function optional<T extends 'string' | 'boolean'>(value: unknown, key: string, type: T): (T extends 'string' ? string : boolean) | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== type) throw new DecisionLogConfigError(`${key} must be a ${type}, got ${JSON.stringify(value)}`);
  return value as T extends 'string' ? string : boolean;
}

function oneOf<T extends string>(value: unknown, key: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new DecisionLogConfigError(`${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

function positive(value: unknown, key: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new DecisionLogConfigError(`${key} must be a positive number, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * decision_logs.request_context.http.headers. Copying a credential header there would store it whole (OPA's
 * erased bookkeeping covers only input, result and nd_builtin_cache), so it is refused unless credentials may
 * be stored.
 */
function contextHeaders(value: unknown, maskCredentials: boolean): string[] {
  const key = 'decision_logs.request_context.http.headers';
  const names = value === undefined ? [] : strings(value, key);
  const credential = maskCredentials ? names.find((name) => credentialHeaders.has(name.toLowerCase())) : undefined;
  if (credential !== undefined) {
    throw new DecisionLogConfigError(
      `${key} names ${credential}, a credential header the decision log does not store; remove it, or set decision_logs.store.mask_credentials: false to store credentials`,
    );
  }
  return names;
}

/** A retention limit: the default when absent, none (undefined) when 0. */
function limit(value: unknown, key: string, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new DecisionLogConfigError(`${key} must be a positive number, or 0 for no limit, got ${JSON.stringify(value)}`);
  }
  return value === 0 ? undefined : value;
}

function strings(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new DecisionLogConfigError(`${key} must be a list of strings`);
  return value as string[];
}

/** "input.subject.id" is a path; {"jwt": "input.token"} a JWT whose sub is the principal; {"path": ...} too. */
function principals(value: unknown): PrincipalSource[] {
  if (!Array.isArray(value)) throw new DecisionLogConfigError('decision_logs.store.principals must be a list');
  return value.map((entry, i) => {
    const key = `decision_logs.store.principals[${i}]`;
    if (typeof entry === 'string') return { path: entry };
    const o = object(entry, key);
    if (typeof o.jwt === 'string') return { jwt: o.jwt };
    if (typeof o.path === 'string') return { path: o.path };
    throw new DecisionLogConfigError(`${key} must be "input.a.b", {"path": "input.a.b"} or {"jwt": "input.a.b"}`);
  });
}

function rulePath(value: unknown, key: string, fallback: string): string {
  const text = optional(value, key, 'string') ?? fallback;
  const path = text.replace(/^\/+/, '');
  if (path === '') throw new DecisionLogConfigError(`${key} must name a rule, e.g. /system/log/mask`);
  return path;
}
