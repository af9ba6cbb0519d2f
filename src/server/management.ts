// OPA's management plugins in a running server: the status plugin (one report for GET /v1/status, the upload
// and the console) and discovery, which reconfigures the bundles, the status plugin, the labels, the default
// decision and the decision log from a discovery bundle. Both sections are checked here at start-up, so a key
// Verdict cannot honour stops it.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { redactConfig, type VerdictConfig } from '../config/config.js';
import { discoverySettings } from '../discovery/config.js';
import { DiscoveryPlugin } from '../discovery/plugin.js';
import type { RegoCompiler } from '../engine/compiler.js';
import { bundleLoadingBuckets, StatusConfigError, statusSettings } from '../status/config.js';
import { StatusPlugin } from '../status/plugin.js';
import { bundleLimits, bundleStatusOf, type ServerBundles } from './bundle-plugin.js';
import type { ServerContext } from './context.js';
import type { Plugin } from './plugins.js';
import { prepareRuntimeSettings, runtimeSettingsOf } from './runtime-settings.js';

export interface Management {
  status: StatusPlugin;
  /** In start order: discovery (when configured), then status, so the first report already lists discovery. */
  plugins: Plugin[];
}

export interface ManagementParts {
  bundles: ServerBundles;
  registry: Registry;
  version: string;
  compiler: RegoCompiler;
  logger: Logger;
}

/**
 * Builds both plugins, throwing on a section Verdict cannot honour. `ctx` is read only once the server runs:
 * when reports are built, and when discovery applies a configuration (labels, GET /v1/config).
 */
export function createManagement(config: VerdictConfig, parts: ManagementParts, ctx: () => ServerContext): Management {
  const { bundles, registry, version, compiler, logger } = parts;
  const discoverySection = discoverySettings(config);
  let discovery: DiscoveryPlugin | undefined;
  const status = new StatusPlugin(
    statusSettings(config),
    {
      labels: () => ctx().labels,
      bundles: bundles.status,
      discovery: () => {
        const info = discovery?.info();
        const message = discovery?.message();
        return info && { ...bundleStatusOf(info), ...(message ? { message } : {}) };
      },
      plugins: () => ctx().plugins(),
      decisionLogs: () => uploadFailure(ctx().plugins().decision_logs),
      extra: () => (ctx().enricher ? { pip: ctx().enricher!.status() } : {}),
      registry,
      reported: async () => (await ctx().clusterMetrics?.())?.registry ?? registry,
      version,
    },
    logger,
  );
  if (discoverySection) {
    discovery = new DiscoveryPlugin({
      settings: discoverySection,
      boot: config,
      compiler,
      logger,
      limits: bundleLimits(config),
      // Everything that can refuse the configuration runs before anything changes.
      apply: async (next) => {
        const nextStatus = statusSettings(next);
        if (JSON.stringify(bundleLoadingBuckets(next)) !== JSON.stringify(bundleLoadingBuckets(config))) {
          throw new StatusConfigError('status.prometheus_config: the bundle_loading_duration_ns buckets are set at start-up; discovery cannot change them');
        }
        const settings = runtimeSettingsOf(next, ctx().runtimeSettings, ctx().labels);
        const applySettings = prepareRuntimeSettings(ctx(), settings);
        await bundles.reconfigure(next);
        status.reconfigure(nextStatus);
        await applySettings();
        ctx().publicConfig = redactConfig(next, ctx().labels);
        await ctx().onSettingsChange?.(settings);
      },
    });
  }
  return { status, plugins: [...(discovery ? [discovery] : []), status] };
}

/** OPA's `decision_logs` status entry: present while the last upload failed. */
function uploadFailure(plugin: unknown): Record<string, unknown> | undefined {
  const failure = (plugin as { upload?: { state?: string; last_error?: { message: string; http_code?: number } } } | undefined)?.upload;
  if (failure?.state !== 'ERROR' || !failure.last_error) return undefined;
  const { message, http_code } = failure.last_error;
  return { code: 'decision_log_error', message, ...(http_code ? { http_code } : {}) };
}
