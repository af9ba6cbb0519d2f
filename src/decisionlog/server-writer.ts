// The one decision-log writer of a server whose workers are threads, opened by the main thread from the server's
// configuration. Kept apart from src/server/decision-log.ts so the main thread loads the writer only, not the
// server's decision-log routes.
import type { VerdictConfig } from '../config/config.js';
import { normaliseServices } from '../bundle/service.js';
import { decisionLogSettings } from './config.js';
import { SharedDecisionWriter } from './shared-writer.js';

/**
 * For the thread that starts a server's worker threads: the one decision-log writer they all share (give each
 * thread `writer.handle()`, see shared-writer.ts), or undefined when the config keeps no local log. Opens the
 * database now, so a corrupt or locked file stops start-up with its DecisionLogError before any thread starts.
 * The section's other checks are the threads' own (createServerDecisionLog).
 */
export function openServerDecisionWriter(config: VerdictConfig, onByDefault: boolean): SharedDecisionWriter | undefined {
  const services = normaliseServices(config.services as Parameters<typeof normaliseServices>[0]);
  const settings = decisionLogSettings(config.decision_logs, services.map((s) => s.name));
  const explicit = (config.decision_logs as { store?: { enabled?: unknown } } | undefined)?.store?.enabled;
  const wanted = explicit ?? (onByDefault || settings.upload !== undefined || settings.console || settings.central !== undefined);
  if (wanted !== true) return undefined;
  const { file, durability, retention } = settings.store;
  return new SharedDecisionWriter({ file, durability, ...(retention ? { retention } : {}) });
}
