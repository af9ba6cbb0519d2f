// Wires the bundle layer (src/bundle) into the server: one BundleManager built from the configuration
// (`services`, `bundles`, `keys`, `persistence_directory`, `verdict.bundle_limits`, `admin_api`) and the bundle
// paths given to `verdict run`, run as OPA's "bundle" plugin. Its records feed /health?bundles, /v1/status and
// OPA's bundle metrics; the admin API is mounted only when `admin_api` is configured.
import { readFile } from 'node:fs/promises';
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { AdminAuthConfig, AdminGuard } from '../auth/admin-jwt.js';
import { bundleAdminRouter } from '../bundle/admin-api.js';
import { parseBundleYielding, type Bundle } from '../bundle/bundle.js';
import { BundleError, type BundleLimits } from '../bundle/files.js';
import { BundleManager, type BundleInfo, type BundleManagerOptions } from '../bundle/manager.js';
import { configuredKeys, downloadSettings } from './bundle-settings.js';
import { globToRegExp, type BundleSigningConfig } from '../bundle/signing.js';
import type { VerdictConfig } from '../config/config.js';
import { RegoCompileError } from '../engine/compiler.js';
import type { ServerMetrics } from './metrics.js';
import type { Plugin } from './plugins.js';
import type { ImpactGateConfig, UploadImpactHook } from '../replay/upload-impact.js';

/** `verdict run`'s verification flags, named after `opa run`'s. */
export interface CliVerification {
  /** `--verification-key`: path of a PEM public key, or the HMAC secret itself. */
  key: string;
  /** `--verification-key-id` (default "default", as OPA). */
  keyId?: string;
  /** `--signing-alg` (default RS256). */
  algorithm?: string;
  /** `--scope`. */
  scope?: string;
  /** `--exclude-files-verify`. */
  excludeFiles?: string[];
}

export interface LocalBundles {
  /** Bundle directories or tarballs, each named by its path as `opa run -b` does. */
  paths: string[];
  /** `--watch`: reload on change, keeping the old bundle serving when a change breaks it. */
  watch?: boolean;
  verification?: CliVerification;
  /** `--ignore` patterns (Go filepath.Match), skipped by name inside bundle directories. */
  ignore?: string[];
}

/** `admin_api` in the configuration file. */
export interface AdminApiConfig {
  auth: AdminAuthConfig;
  max_upload_bytes?: number;
  /** Signing requirements for uploaded bundles; absent: uploads must be unsigned. */
  signing?: BundleSigningConfig;
  impact_gate?: ImpactGateConfig;
}

/** `verdict.bundle_limits`: the reader's limits, snake_case in the file. */
type BundleLimitsConfig = Partial<Record<'max_uncompressed_bytes' | 'max_file_bytes' | 'max_files' | 'max_path_depth' | 'max_compression_ratio', number>>;

export interface ServerBundles {
  manager: BundleManager<Bundle>;
  /** Absent when there are no bundles at all; unlisted when there are only bundle paths (as OPA). */
  plugin?: Plugin;
  adminRouter?: Router;
  /** /v1/status `bundles`, in OPA's shape plus Verdict's source and counts. */
  status(): Record<string, unknown>;
  /** Discovery: replaces the configured downloads with those of `config` (its services, bundles and keys). */
  reconfigure(config: VerdictConfig): Promise<void>;
}

export async function createServerBundles(
  config: VerdictConfig,
  local: LocalBundles,
  activate: (bundles: Bundle[]) => Promise<void>,
  metrics: ServerMetrics,
  logger: Logger,
  adminGuard?: AdminGuard,
  /** Dry runs and the impact gate of uploads (src/replay/upload-impact.ts). */
  uploadImpact?: UploadImpactHook,
): Promise<ServerBundles> {
  const admin = config.admin_api as AdminApiConfig | undefined;
  if (admin && !adminGuard) throw new Error('admin_api is configured but no admin authentication was set up for it');
  const keys = configuredKeys(config);
  let localSigning: BundleSigningConfig | undefined;
  if (local.verification) {
    const { key, keyId = 'default', algorithm = 'RS256', scope, excludeFiles } = local.verification;
    keys[keyId] = { key: await keyMaterial(key), algorithm };
    localSigning = { keyid: keyId, scope, exclude_files: excludeFiles };
  }
  const counted = new Map<string, { activations: number; failures: number }>();
  const options: BundleManagerOptions<Bundle> = {
    parse: parseBundleYielding,
    activate: (bundles) => activate(bundles).catch((err: unknown) => {
      throw err instanceof RegoCompileError ? describeCompileError(err) : err;
    }),
    ...downloadSettings(config),
    keys,
    localPaths: Object.fromEntries(local.paths.map((path) => [path, path])),
    watch: local.watch,
    localIgnore: local.ignore?.map(globToRegExp),
    localSigning,
    uploadSigning: admin?.signing,
    limits: bundleLimits(config),
    onChange: (info) => {
      const seen = counted.get(info.name) ?? { activations: 0, failures: 0 };
      if (info.activations > seen.activations) {
        metrics.bundleLoaded.inc({ name: info.name }, info.activations - seen.activations);
        metrics.observeBundleLoading(info, { activated: true });
        logger.info({ name: info.name, revision: info.revision, source: info.source }, 'Bundle activated.');
      }
      if (info.failures > seen.failures) {
        metrics.bundleFailedLoad.inc({ code: 'bundle_error', message: info.lastError ?? '', name: info.name }, info.failures - seen.failures);
        metrics.observeBundleLoading(info, { activated: false });
        // The previous set keeps serving; say why the new one did not.
        logger.error({ name: info.name, source: info.source, err: info.lastError }, 'Bundle refused; the active bundles are unchanged.');
      }
      counted.set(info.name, { activations: info.activations, failures: info.failures });
    },
  };
  const manager = new BundleManager(options);
  metrics.observeBundles(() => manager.list());
  // As in OPA, the "bundle" plugin shows in /v1/status only when bundles are configured; bundle paths alone
  // are loaded by an unlisted one.
  // Discovery may configure bundles later, so its plugin is listed from the start, as in OPA.
  const configured = Object.keys(config.bundles ?? {}).length > 0 || admin !== undefined || config.discovery !== undefined;
  const plugin: Plugin | undefined = configured || local.paths.length > 0
    ? {
        name: 'bundle',
        kind: 'bundle',
        unlisted: !configured,
        async start() {
          await manager.start();
          // Bundles named on the command line must load, as with `opa run -b`; downloads may come later.
          const broken = manager.list().filter((b) => b.source === 'file' && b.activations === 0);
          if (broken.length > 0) {
            await manager.stop();
            throw new Error(broken.map((b) => b.lastError ?? `bundle ${b.name} did not load`).join('\n'));
          }
        },
        stop: () => manager.stop(),
        status: () => ({ state: manager.ready() ? 'OK' : 'NOT_READY' }),
      }
    : undefined;
  const adminRouter = admin && adminGuard ? bundleAdminRouter(manager, { guard: adminGuard, maxUploadBytes: admin.max_upload_bytes, impact: uploadImpact }) : undefined;
  // `--verification-key` stays in force whatever keys discovery brings.
  const cliKeyId = local.verification ? local.verification.keyId ?? 'default' : undefined;
  const cliKeys = Object.fromEntries(Object.entries(keys).filter(([id]) => id === cliKeyId));
  return {
    manager,
    plugin,
    adminRouter,
    status: () => Object.fromEntries(manager.list().map((b) => [b.name, bundleStatusOf(b)])),
    reconfigure: (next) => manager.reconfigure({
      services: next.services as BundleManagerOptions<Bundle>['services'],
      bundles: next.bundles as BundleManagerOptions<Bundle>['bundles'],
      keys: { ...configuredKeys(next), ...cliKeys },
    }),
  };
}

/** One bundle in /v1/status: OPA's fields (code/message only while the last attempt failed), plus Verdict's. */
export function bundleStatusOf(b: BundleInfo): Record<string, unknown> {
  const metrics = {
    ...(b.download?.requestNs !== undefined ? { timer_bundle_request_ns: b.download.requestNs } : {}),
    ...(b.activationNs !== undefined ? { timer_rego_load_bundles_ns: b.activationNs } : {}),
  };
  const iso = (d?: Date) => d?.toISOString();
  return {
    name: b.name,
    active_revision: b.revision ?? '',
    last_request: iso(b.download?.lastRequest),
    last_successful_request: iso(b.download?.lastSuccessfulRequest),
    last_successful_download: iso(b.download?.lastSuccessfulDownload),
    last_successful_activation: iso(b.activatedAt),
    ...(b.type ? { type: b.type } : {}),
    ...(b.download?.size !== undefined ? { size: b.download.size } : {}),
    ...(Object.keys(metrics).length > 0 ? { metrics } : {}),
    ...(b.lastError ? { code: 'bundle_error', message: b.lastError, last_error_at: iso(b.lastErrorAt) } : {}),
    ...(b.download?.httpCode ? { http_code: String(b.download.httpCode) } : {}),
    source: b.source,
    location: b.location,
    activations: b.activations,
    failures: b.failures,
  };
}

/**
 * A bundle's refusal must name the problem (status, logs, upload answers), but a compile error carries its
 * details in `errors` for the Policy API; they are spelled out here as OPA does: file:row:col: code: message.
 */
export function describeCompileError(err: RegoCompileError): BundleError {
  const details = err.errors.map((e) => `${e.location ? `${e.location.file}:${e.location.row}:${e.location.col}: ` : ''}${e.code}: ${e.message}`);
  return new BundleError(details.length > 0 ? `${err.message}: ${details.join('; ')}` : err.message);
}

// As `opa run --verification-key`: a path to a PEM file, or else the HMAC secret itself.
async function keyMaterial(value: string): Promise<string> {
  try {
    return await readFile(value, 'utf8');
  } catch {
    return value;
  }
}

/** `verdict.bundle_limits` as the bundle reader's limits (every bundle read, the discovery bundle's too). */
export function bundleLimits(verdictConfig: VerdictConfig): Partial<BundleLimits> {
  const config = (verdictConfig.verdict as { bundle_limits?: BundleLimitsConfig } | undefined)?.bundle_limits;
  if (!config) return {};
  const limits: Partial<BundleLimits> = {};
  if (config.max_uncompressed_bytes !== undefined) limits.maxUncompressedBytes = config.max_uncompressed_bytes;
  if (config.max_file_bytes !== undefined) limits.maxFileBytes = config.max_file_bytes;
  if (config.max_files !== undefined) limits.maxFiles = config.max_files;
  if (config.max_path_depth !== undefined) limits.maxPathDepth = config.max_path_depth;
  if (config.max_compression_ratio !== undefined) limits.maxCompressionRatio = config.max_compression_ratio;
  return limits;
}
