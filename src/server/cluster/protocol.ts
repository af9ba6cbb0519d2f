// The messages between the primary and the worker processes of one `verdict run --workers N` server.
// Sent over node:cluster's channel with structured-clone serialisation; a change or a snapshot, which may hold
// the whole data document, travels as a file the message names (payload.ts), so the primary never parses it.
import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import type { Bundle, RegoModule } from '../../bundle/bundle.js';
import type { CompileErrorDetail, CompiledPolicy } from '../../engine/compiler.js';
import type { ApiModule, PolicyChange } from '../../engine/engine.js';
import type { DataWrite } from '../context.js';
import type { RuntimeSettings } from '../runtime-settings.js';
import type { AdapterMetrics } from '../../pip/metrics.js';

/** Set in each worker's environment: "owner" for the one that runs the bundle sources, "replica" for the rest. */
export const ROLE_ENV = 'VERDICT_WORKER_ROLE';
/** The server's `labels.id`, chosen once by the primary. */
export const INSTANCE_ID_ENV = 'VERDICT_INSTANCE_ID';
/** The owner's private socket, where replicas forward the requests the owner answers. */
export const OWNER_SOCKET_ENV = 'VERDICT_OWNER_SOCKET';

/** A committed change as every replica applies it, in the owner's order. */
export type Change = PolicyChange | { kind: 'data'; write: DataWrite } | { kind: 'settings'; settings: RuntimeSettings };

/** Everything a new worker needs to serve what the others serve. */
export interface Snapshot {
  bundles: Bundle[];
  apiModules: ApiModule[];
  /** The whole data document (bundle data, written data and data.system included). */
  document: Record<string, unknown>;
  /** What discovery last set (labels, default decision, decision log); absent: the boot configuration's. */
  settings?: RuntimeSettings;
}

/** One worker's metrics, as prom-client's Registry.getMetricsAsJSON gives them (and aggregates them). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** One worker's PIP adapter figures (src/pip/metrics.ts). */
export type PipFigures = Record<string, AdapterMetrics>;

/** A refusal carried across the channel; RegoCompileError keeps its details. */
export interface WireError {
  name: string;
  message: string;
  errors?: CompileErrorDetail[];
}

export type WorkerMessage =
  /** `payload`: the file holding the Change. */
  | { verdict: 'change'; seq: number; payload: string }
  | { verdict: 'applied'; seq: number; error?: string }
  /** `payload`: the file holding the Snapshot. */
  | { verdict: 'snapshot'; id: number; payload: string }
  | { verdict: 'compile'; id: number; modules: RegoModule[]; regoVersion: 0 | 1 }
  | { verdict: 'join' }
  | { verdict: 'ready' }
  | { verdict: 'metrics-answer'; id: number; metrics?: MetricsJson; pip?: PipFigures; error?: string }
  | { verdict: 'metrics'; id: number }
  | { verdict: 'health'; id: number; query: string }
  | { verdict: 'health-answer'; id: number; problem?: string };

export type PrimaryMessage =
  | { verdict: 'change'; seq: number; payload: string }
  | { verdict: 'changed'; seq: number }
  | { verdict: 'snapshot-request'; id: number }
  /** `payload`: the file holding the Snapshot to start from (absent: start empty, as the first owner does). */
  | { verdict: 'start'; payload?: string }
  | { verdict: 'compiled'; id: number; result?: CompiledPolicy; error?: WireError }
  | { verdict: 'metrics'; id: number; metrics?: MetricsJson; pip?: PipFigures; error?: string }
  | { verdict: 'health-request'; id: number; query: string }
  | { verdict: 'metrics-request'; id: number }
  | { verdict: 'health'; id: number; problem?: string };

/** True in a worker that is not the owner (it must not upload decision logs or poll bundles). */
export function isReplicaWorker(): boolean {
  return cluster.isWorker && process.env[ROLE_ENV] !== 'owner';
}

export function isVerdictMessage(message: unknown): message is { verdict: string } {
  return typeof message === 'object' && message !== null && typeof (message as { verdict?: unknown }).verdict === 'string';
}
