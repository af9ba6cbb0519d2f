// The messages between the primary (the main thread) and the server threads of one `verdict run --workers N`
// server. Sent with postMessage (structured clone); a change or a snapshot, which may hold the whole data
// document, travels as a SharedArrayBuffer of its serialised form and the shared slabs it refers to (payload.ts),
// which the primary relays without reading them.
import { isMainThread, workerData } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import type { Bundle, RegoModule } from '../../bundle/bundle.js';
import type { DecisionWriterHandle } from '../../decisionlog/shared-writer.js';
import type { SharedDataHandle } from '../../engine/shared-data.js';
import type { ListeningFds } from './shared-listeners.js';
import type { CompiledPolicy } from '../../engine/compiler.js';
import type { WireCompileError } from '../../engine/compile-error.js';
import type { ApiModule, PolicyChange } from '../../engine/engine.js';
import type { DataWrite } from '../context.js';
import type { RuntimeSettings } from '../runtime-settings.js';
import type { VerdictConfig } from '../../config/config.js';
import type { Payload } from './payload.js';
import type { AdapterMetrics } from '../../pip/metrics.js';

/** What the primary gives each server thread (in its workerData, under `verdictMember`). */
export interface MemberData {
  /** "owner" for the thread that runs the bundle sources, "replica" for the rest. */
  role: 'owner' | 'replica';
  /** The server's `labels.id`, chosen once by the primary. */
  instanceId: string;
  /** The owner's private socket, where replicas forward the requests the owner answers. */
  ownerSocket: string;
  /** The thread's own descriptors of each shared listening address (shared-listeners.ts). */
  listening: ListeningFds;
  /** The thread's own descriptors of the Envoy ext_authz gRPC port (one per address bound), when configured. */
  envoyGrpcFds?: number[];
  /** The server's one decision-log writer (shared-writer.ts), when the config keeps a local log. */
  decisionLogWriter?: DecisionWriterHandle;
  /** The process's shared data memory (src/engine/shared-data.ts): loaded data is held once for all threads. */
  sharedData: SharedDataHandle;
  /** The `verdict run` arguments, parsed again by the thread. */
  args: string[];
  /**
   * The configuration the primary read and validated (file, --set, remote bundle URLs): a thread does not read
   * and validate it again (the validator and the YAML parser would stay in its heap).
   */
  config: VerdictConfig;
}

/** This thread's part in a multi-thread server; undefined outside one. */
export function memberData(): MemberData | undefined {
  return isMainThread ? undefined : (workerData as { verdictMember?: MemberData } | null)?.verdictMember;
}

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

export type WorkerMessage =
  /** `payload`: the Change (payload.ts). */
  | { verdict: 'change'; seq: number; payload: Payload }
  | { verdict: 'applied'; seq: number; error?: string }
  /** `payload`: the Snapshot (payload.ts). */
  | { verdict: 'snapshot'; id: number; payload: Payload }
  | { verdict: 'compile'; id: number; modules: RegoModule[]; regoVersion: 0 | 1 }
  | { verdict: 'join' }
  | { verdict: 'ready' }
  | { verdict: 'metrics-answer'; id: number; metrics?: MetricsJson; pip?: PipFigures; error?: string }
  | { verdict: 'metrics'; id: number }
  | { verdict: 'health'; id: number; query: string }
  | { verdict: 'health-answer'; id: number; problem?: string };

export type PrimaryMessage =
  | { verdict: 'change'; seq: number; payload: Payload }
  | { verdict: 'changed'; seq: number }
  | { verdict: 'snapshot-request'; id: number }
  /** `payload`: the Snapshot to start from (absent: start empty, as the first owner does). */
  | { verdict: 'start'; payload?: Payload }
  /** Shut down as on SIGTERM (signals reach the main thread only). */
  | { verdict: 'stop' }
  | { verdict: 'compiled'; id: number; result?: CompiledPolicy; error?: WireCompileError }
  | { verdict: 'metrics'; id: number; metrics?: MetricsJson; pip?: PipFigures; error?: string }
  | { verdict: 'health-request'; id: number; query: string }
  | { verdict: 'metrics-request'; id: number }
  | { verdict: 'health'; id: number; problem?: string };

/** True in a server thread that is not the owner (it must not upload decision logs or poll bundles). */
export function isReplicaWorker(): boolean {
  return memberData()?.role === 'replica';
}

export function isVerdictMessage(message: unknown): message is { verdict: string } {
  return typeof message === 'object' && message !== null && typeof (message as { verdict?: unknown }).verdict === 'string';
}
