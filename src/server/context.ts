// What every API family needs from the running server, gathered once so handlers take one argument.
import type { Router } from 'express';
import type { Registry } from 'prom-client';
import type { Engine } from '../engine/engine.js';
import type { Enricher } from '../pip/index.js';
import type { AdapterMetrics } from '../pip/metrics.js';
import type { DecodingLimits } from './body.js';
import type { EncodingOptions } from './respond.js';
import type { ServerMetrics } from './metrics.js';

import type { DecisionEvent, DecisionHints } from '../decisionlog/event.js';
import type { DecisionLogReconfigure } from './decision-log.js';
import type { RuntimeSettings } from './runtime-settings.js';

/** OPA's decision-log event (EventV1), declared once by the decision log (issue 6). */
export type { DecisionEvent, DecisionHints };

export interface PluginStatus {
  state: 'OK' | 'NOT_READY' | 'ERROR' | 'WARN';
  /** Why the state is not OK, for /v1/status (as OPA's plugin status message). */
  message?: string;
}

export interface ServerContext {
  engine: Engine;
  metrics: ServerMetrics;
  version: string;
  labels: Record<string, string>;
  defaultDecision: string;
  decoding: DecodingLimits;
  encoding: EncodingOptions;
  /** The active configuration with secrets already removed, for GET /v1/config. */
  publicConfig: Record<string, unknown>;
  /** The status plugin's report; GET /v1/status answers 500 while it is not enabled, as OPA. */
  status: { readonly enabled: boolean; report(): Promise<Record<string, unknown>> };
  /**
   * Set when a decision recorder is configured; decision ids are only issued then, as OPA does. A promise
   * back means the answer must wait for it (sync durability, or a full queue under back-pressure); in the
   * default mode the hook returns nothing and the decision is answered at once. It never rejects. `hints` carry
   * what the decision path already knows (the event time, the input's JSON text) so recording need not redo it.
   */
  onDecision?: (event: DecisionEvent, hints?: DecisionHints) => Promise<unknown> | void;
  /** decision_logs.request_context.http.headers: request headers copied into each event (absent: none). */
  logHeaders?: string[];
  /** Long-running parts report here for /health?plugins and /health?bundles. */
  plugins: () => Record<string, PluginStatus>;
  bundlesActivated: () => boolean;
  /** The PIP enrichment step, when the config has a `pip` section; absent, decisions skip it entirely. */
  enricher?: Enricher;
  /** Routers of other front ends (the HTTP ext_authz callouts at /v1/authz), mounted at `path`. */
  mounts?: { path: string; router: Router }[];
  /** A multi-process server's metrics: every worker's figures, summed (for /metrics and /v1/status). */
  clusterMetrics?: () => Promise<ClusterMetrics>;
  /** A multi-process server: why some other worker is not healthy (or not yet serving); undefined when all are. */
  clusterHealth?: (query: URLSearchParams) => Promise<string | undefined>;
  /** Called after a successful Data API write, so the other worker threads apply it too; the answer waits for it. */
  onDataWrite?: (write: DataWrite) => Promise<void> | void;
  /** Checks a discovered `decision_logs` section and returns the step that applies it (src/server/decision-log.ts). */
  reconfigureDecisionLog?: DecisionLogReconfigure;
  /** The settings discovery last applied (runtime-settings.ts), for a worker that starts later; absent: the boot ones. */
  runtimeSettings?: RuntimeSettings;
  /** Called after discovery applied new settings, so the other worker threads apply them too. */
  onSettingsChange?: (settings: RuntimeSettings) => Promise<void>;
}

export interface ClusterMetrics {
  registry: Registry;
  /** The PIP adapters' figures, when the server has any. */
  pip?: Record<string, AdapterMetrics>;
}

export type DataWrite =
  | { op: 'put'; path: string[]; value: unknown }
  | { op: 'patch'; path: string[]; patch: { op: 'add' | 'remove' | 'replace'; path: string; value?: unknown }[] }
  | { op: 'delete'; path: string[] };
