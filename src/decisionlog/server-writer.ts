// The one decision-log writer of a server whose workers are threads, opened by the main thread from the server's
// configuration. Kept apart from src/server/decision-log.ts so the main thread loads the writer only, not the
// server's decision-log routes.
import type { VerdictConfig } from '../config/config.js';
import { normaliseServices } from '../bundle/service.js';
import { DecisionLogConfigError, decisionLogSettings } from './config.js';
import { SharedDecisionWriter } from './shared-writer.js';

/**
 * For the thread that starts a server's worker threads: the one decision-log writer they all share (give each
 * thread `writer.handle()`, see shared-writer.ts), or undefined when the config keeps no local log. Opens the
 * database now, so a corrupt or locked file stops start-up with its DecisionLogError before any thread starts.
 */
export function openServerDecisionWriter(config: VerdictConfig, onByDefault: boolean): SharedDecisionWriter | undefined {
  const { settings, on } = decisionLogPlan(config, onByDefault, config.admin_api !== undefined);
  if (!on) return undefined;
  const { file, durability, retention } = settings.store;
  return new SharedDecisionWriter({ file, durability, ...(retention ? { retention } : {}) });
}

/**
 * The `decision_logs` section read and checked, opening nothing: whether the log is on, and its settings. Throws
 * DecisionLogConfigError naming the key. `admin`: whether admin_api (its authentication) is configured.
 */
export function decisionLogPlan(config: VerdictConfig, onByDefault: boolean, admin: boolean) {
  const services = normaliseServices(config.services as Parameters<typeof normaliseServices>[0]);
  const settings = decisionLogSettings(config.decision_logs, services.map((s) => s.name));
  const explicit = (config.decision_logs as { store?: { enabled?: unknown } } | undefined)?.store?.enabled;
  const shipping = settings.upload !== undefined || settings.console;
  // Events wait in the local store until the collector acknowledges them: no store, no upload.
  if (explicit === false && shipping) {
    throw new DecisionLogConfigError(`decision_logs.store.enabled is false but decision_logs ${settings.upload ? `uploads to service ${settings.upload.service}` : 'prints to the console'}: events are kept in the local store until shipped`);
  }
  if (explicit === false && settings.central) {
    throw new DecisionLogConfigError('decision_logs.store.enabled is false but decision_logs.store.postgres is set: a collector keeps the decision log on');
  }
  const on = (explicit ?? (onByDefault || shipping || settings.central !== undefined)) === true;
  // A collector's routes (uploads in, queries out) are admin routes: without admin_api they would be open.
  if (on && settings.central && !admin) {
    throw new DecisionLogConfigError('decision_logs.store.postgres makes this server a decision-log collector (POST /logs, /v1/decisions over PostgreSQL), which needs admin_api: uploads need tokens with scope decisions:write, queries decisions:read');
  }
  return { services, settings, on };
}
