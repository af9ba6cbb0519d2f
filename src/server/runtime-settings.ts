// The settings a discovered configuration changes in every worker of a server, not only in the one that runs
// discovery: the labels decision events carry, the default decision (POST /), and the decision log's settings
// (console, drop and mask rules, rate limit, request headers; the upload in the worker that uploads).
import type { VerdictConfig } from '../config/config.js';
import type { ServerContext } from './context.js';

export interface RuntimeSettings {
  /** The labels decision events carry, the boot labels included. */
  labels: Record<string, string>;
  /** The labels the server started with (id and version included), which discovery may add to, never change. */
  bootLabels: Record<string, string>;
  defaultDecision: string;
  decisionLogs: Pick<VerdictConfig, 'decision_logs' | 'services'>;
}

export function runtimeSettingsOf(config: VerdictConfig, current: RuntimeSettings | undefined, currentLabels: Record<string, string>): RuntimeSettings {
  // Labels can only be added: the boot labels always win. A worker that started from another's settings
  // (a snapshot) has discovered labels already, so the boot labels travel with them.
  const bootLabels = current?.bootLabels ?? { ...currentLabels };
  const labels = { ...currentLabels, ...config.labels, ...bootLabels };
  return { labels, bootLabels, defaultDecision: config.default_decision ?? '/system/main', decisionLogs: { decision_logs: config.decision_logs, services: config.services } };
}

/**
 * Checks the settings against what this server can change (throwing, changing nothing, when it cannot) and
 * returns the step that applies them.
 */
export function prepareRuntimeSettings(ctx: ServerContext, settings: RuntimeSettings): () => Promise<void> {
  const decisionLog = ctx.reconfigureDecisionLog?.(settings.decisionLogs);
  return async () => {
    // A new frozen object, as at start-up: decision events share it, and the decision log writes a frozen
    // object's text once.
    ctx.labels = Object.freeze({ ...settings.labels });
    ctx.defaultDecision = settings.defaultDecision;
    if (decisionLog) {
      ctx.logHeaders = decisionLog.headers.length > 0 ? decisionLog.headers : undefined;
      await decisionLog.apply();
    }
    ctx.runtimeSettings = settings;
  };
}
