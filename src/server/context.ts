// What every API family needs from the running server, gathered once so handlers take one argument.
import type { Router } from 'express';
import type { Engine } from '../engine/engine.js';
import type { Enricher, EnrichmentReport } from '../pip/index.js';
import type { DecodingLimits } from './body.js';
import type { EncodingOptions } from './respond.js';
import type { ServerMetrics } from './metrics.js';

/** OPA's decision-log event (EventV1); the decision log (issue 6) consumes it through `onDecision`. */
export interface DecisionEvent {
  labels: Record<string, string>;
  decision_id: string;
  bundles: Record<string, { revision: string }>;
  path: string;
  /** The input the policy evaluated: with `pip` configured, the caller's input enriched at input.pip. */
  input?: unknown;
  /** Which PIP adapters ran for this decision, cache use, latency and errors (only with `pip` configured). */
  pip?: EnrichmentReport;
  result?: unknown;
  error?: { code: string; message: string };
  requested_by: string;
  timestamp: string;
  metrics?: Record<string, number>;
  req_id?: number;
}

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
  /** Whether a status plugin is configured (GET /v1/status answers 500 otherwise, as OPA). */
  statusEnabled: boolean;
  /** Set when a decision recorder is configured; decision ids are only issued then, as OPA does. */
  onDecision?: (event: DecisionEvent) => void;
  /** Long-running parts report here for /health?plugins and /health?bundles. */
  plugins: () => Record<string, PluginStatus>;
  bundlesActivated: () => boolean;
  /** The PIP enrichment step, when the config has a `pip` section; absent, decisions skip it entirely. */
  enricher?: Enricher;
  /** Routers of other front ends (the HTTP ext_authz callouts at /v1/authz), mounted at `path`. */
  mounts?: { path: string; router: Router }[];
  /** Called after a successful Data API write, so other worker processes can apply it too. */
  onDataWrite?: (write: DataWrite) => void;
}

export type DataWrite =
  | { op: 'put'; path: string[]; value: unknown }
  | { op: 'patch'; path: string[]; patch: { op: 'add' | 'remove' | 'replace'; path: string; value?: unknown }[] }
  | { op: 'delete'; path: string[] };
