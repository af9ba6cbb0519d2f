// Every check of a server's configuration that needs nothing opened: no port bound, thread started, file watched,
// database or connection opened. `verdict run` makes it before anything else, so a mistake stops start-up naming
// its key even when something else would also fail (a busy port). Each step is the reader the server builds
// that part from, so the check and the server cannot disagree. The sections OPA has come in the order OPA
// reports them (distributed_tracing, discovery, plugins, bundles, decision_logs, status); Verdict's own after
// OPA's `plugins`, as OPA checks its plugins' sections there.
import type { AdminApiConfig } from './bundle-plugin.js';
import { checkServerBundles } from './bundle-settings.js';
import type { VerdictConfig } from '../config/config.js';
import { tracingSettings } from '../tracing/config.js';
import { discoverySettings } from '../discovery/config.js';
import { envoySettings } from '../envoy/plugin.js';
import { checkPipConfig } from '../pip/index.js';
import { decisionLogPlan } from '../decisionlog/server-writer.js';
import { bundleLoadingBuckets, statusSettings } from '../status/config.js';
import { createAdminTokenVerifier } from '../auth/admin-jwt.js';
import { requestDurationBuckets } from './metrics.js';
import { decodingLimits } from './body.js';
import { httpSendSettings } from '../builtins/http-send/settings.js';

/** Throws the first problem found, with the error type (and message) the server itself would throw. */
export function checkServerConfig(config: VerdictConfig, options: { decisionLogByDefault: boolean }): void {
  tracingSettings(config.distributed_tracing as Record<string, unknown> | undefined);
  discoverySettings(config);
  envoySettings(config.plugins);
  if (config.pip) checkPipConfig(config.pip);
  checkServerBundles(config);
  decisionLogPlan(config, options.decisionLogByDefault, config.admin_api !== undefined);
  statusSettings(config);
  bundleLoadingBuckets(config);
  if (config.admin_api) createAdminTokenVerifier((config.admin_api as AdminApiConfig).auth);
  requestDurationBuckets(config);
  decodingLimits(config.server?.decoding);
  httpSendSettings(config.verdict?.http_send, config.caching);
}
