// The decision log (src/decisionlog/) inside a running server: one store and one logger per process,
// registered as the `decision_logs` plugin, fed by every decision source through ServerContext.onDecision,
// reported in /health?plugins, /v1/status and /metrics, and queried through the admin-authenticated
// /v1/decisions API and the auditors' page.
import { isReplicaWorker } from './cluster/protocol.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Router } from 'express';
import type { AdminGuard } from '../auth/admin-jwt.js';
import {
  DecisionLogger,
  DecisionLogPlugin,
  DecisionLogConfigError,
  DecisionLogStore,
  DecisionLogUploader,
  decisionLogSettings,
  decisionsRouter,
  type DecisionLogSettings,
  type DecisionEvent,
  type DecisionHints,
  type DecisionLogStoreOptions,
} from '../decisionlog/index.js';
import type { Engine } from '../engine/engine.js';
import { splitPath } from '../engine/store.js';
import type { VerdictConfig } from '../config/config.js';
import { ServiceClient, normaliseServices } from '../bundle/service.js';
import type { PluginStatus } from './context.js';
import type { Plugin } from './plugins.js';
import { decisionsPageRouter } from './decisions-ui.js';
import { registerDecisionLogMetrics } from './decision-log-metrics.js';
import { sqliteQueries } from '../decisionlog/queries.js';
import { PostgresDecisionStore } from '../decisionlog/postgres/store.js';
import { decisionIngestRouter } from './decision-ingest.js';
import { decodingLimits } from './body.js';
import type { DecisionWriterHandle } from '../decisionlog/shared-writer.js';
import { decisionLogPlan } from '../decisionlog/server-writer.js';

export interface ServerDecisionLog {
  store: DecisionLogStore;
  plugin: Plugin;
  /** The central store, when this server is a collector (decision_logs.store.postgres). */
  central?: PostgresDecisionStore;
  /** decision_logs.request_context.http.headers, for ServerContext.logHeaders. */
  headers: string[];
  /** ServerContext.onDecision: a promise only when the answer has to wait for the log. */
  onDecision: (event: DecisionEvent, hints?: DecisionHints) => Promise<unknown> | void;
  /** /v1/decisions behind the admin authentication, and the auditors' page /ui/decisions; absent without `admin_api`. */
  router?: Router;
  /** Discovery's change of the section: see DecisionLogReconfigure. */
  reconfigure: DecisionLogReconfigure;
}

/**
 * Checks a new `decision_logs` section (with the services it may name) and returns the step that applies it,
 * which cannot fail, and the request headers events copy from then on. Throws, changing nothing, a
 * DecisionLogConfigError naming the key when the section is wrong or changes what is set at start-up.
 */
export type DecisionLogReconfigure = (config: Pick<VerdictConfig, 'decision_logs' | 'services'>) => { headers: string[]; apply: () => Promise<void> };

/** A server without a decision log: the section may not change, since the store is opened only at start-up. */
export function unchangingDecisionLog(boot: VerdictConfig): DecisionLogReconfigure {
  return (config) => {
    if (JSON.stringify(config.decision_logs) !== JSON.stringify(boot.decision_logs)) {
      throw new DecisionLogConfigError('decision_logs: the decision log is off in this server, and its local store is opened only at start-up (decision_logs.store.enabled)');
    }
    return { headers: [], apply: async () => undefined };
  };
}

/**
 * Opens the decision log when it is on: `decision_logs.store.enabled`, which defaults to `onByDefault`
 * (`verdict run` passes true; embedders and tests opt in) and to true when the section uploads or prints to the
 * console. Throws DecisionLogError (with an exit code) when the database cannot be opened,
 * DecisionLogConfigError when the section is wrong.
 */
export function createServerDecisionLog(
  config: VerdictConfig,
  engine: Engine,
  registry: Registry,
  onByDefault: boolean,
  log: Logger,
  adminGuard?: AdminGuard,
  writer?: DecisionWriterHandle,
): ServerDecisionLog | undefined {
  const { services, settings, on } = decisionLogPlan(config, onByDefault, adminGuard !== undefined);
  if (!on) return undefined;
  const store = new DecisionLogStore(storeOptionsFor(settings.store, isReplicaWorker(), writer));
  const central = settings.central
    ? new PostgresDecisionStore(settings.central, { outcome: settings.store.outcome, principals: settings.store.principals, maskCredentials: settings.store.maskCredentials })
    : undefined;
  // The drop and mask rules are evaluated with the plain engine (never the recording decide, which would log
  // the log's own decisions), and only when the active policy set defines them: most deployments have neither.
  const defined = rulesDefined(engine);
  const policyFor = (s: DecisionLogSettings) => ({ evaluate: engine.decide, defined, dropPath: s.dropPath, maskPath: s.maskPath });
  const optionsFor = (s: DecisionLogSettings) => ({
    // OPA prints each event on its logger at info, the event's fields at the top level.
    ...(s.console ? { console: (event: DecisionEvent) => log.info({ ...withoutEmptyBundles(event), type: 'openpolicyagent.org/decision_logs' }, 'Decision Log') } : {}),
    ...(s.maxDecisionsPerSecond !== undefined ? { maxPerSecond: s.maxDecisionsPerSecond } : {}),
  });
  const logger = new DecisionLogger(store, policyFor(settings), optionsFor(settings));
  const dl = new DecisionLogPlugin(store, logger, uploaderFor(settings, services, store));
  const uploadMetrics = registerDecisionLogMetrics(registry, dl, bufferTypeOf(settings));

  let currentUpload = uploadKey(settings, services);
  const reconfigure: DecisionLogReconfigure = (config) => {
    const nextServices = normaliseServices(config.services as Parameters<typeof normaliseServices>[0]);
    const next = decisionLogSettings(config.decision_logs, nextServices.map((s) => s.name));
    checkStartUpOnly(settings, next, config.decision_logs);
    // The uploader is replaced only when where or how it ships changed: a new one starts its back-off afresh.
    const upload = uploadKey(next, nextServices);
    const uploader = upload === currentUpload ? undefined : { next: uploaderFor(next, nextServices, store) };
    return {
      headers: next.headers,
      apply: async () => {
        currentUpload = upload;
        logger.reconfigure(policyFor(next), optionsFor(next));
        uploadMetrics(bufferTypeOf(next));
        if (uploader) await dl.replaceUploader(uploader.next);
      },
    };
  };
  const waitAlways = store.durability === 'sync';
  const backpressure = store.whenFull === 'backpressure';
  const onDecision = (event: DecisionEvent, hints?: DecisionHints): Promise<unknown> | void => {
    // Checked before logging: a request waits only when its event would (sync) or when the queue is full.
    const wait = waitAlways || (backpressure && store.saturated);
    const logged = dl.onDecision(event, hints);
    return wait ? logged : undefined;
  };

  const plugin: Plugin = {
    name: dl.name,
    kind: 'other',
    start: async () => {
      if (central) {
        await central.open().catch(async (error: unknown) => {
          // Not started, so not stopped by the plugin manager: close what construction opened.
          await central.close();
          await dl.stop();
          throw error;
        });
        // Retention runs in one worker of a multi-process server; collectors sharing a database take turns.
        if (!isReplicaWorker()) central.startRetention();
      }
      await dl.start();
    },
    stop: async () => {
      await dl.stop();
      await central?.close();
    },
    status: (): PluginStatus => {
      const s = dl.status();
      const c = central?.status();
      const detail = { store: s.store, logger: s.logger, ...(s.upload ? { upload: s.upload } : {}), ...(c ? { central: c } : {}) } as Record<string, unknown>;
      const message =
        s.store.last_error && s.state === 'ERROR'
          ? `${s.store.last_error.code}: ${s.store.last_error.message}`
          : c?.state === 'ERROR' && c.last_error
            ? `central store failing: ${c.last_error.message}`
            : s.state === 'WARN' && s.upload?.last_error
              ? `upload failing: ${s.upload.last_error.message}`
              : undefined;
      const state = s.state === 'OK' && c?.state === 'ERROR' ? 'ERROR' : s.state;
      return { state, ...(message ? { message } : {}), ...detail };
    },
  };

  let router: Router | undefined;
  if (adminGuard) {
    router = Router();
    const auth = adminGuard('decisions:read');
    router.use('/v1/decisions', auth);
    router.use(decisionsRouter(central ?? sqliteQueries(store.db)));
    if (central) router.use(decisionIngestRouter(central, decodingLimits(config.server?.decoding), adminGuard('decisions:write')));
    // The page holds no data: it is open, and signs the browser in to the API above (decisions-ui.ts).
    router.use(decisionsPageRouter());
  }
  return { store, plugin, onDecision, router, headers: settings.headers, reconfigure, ...(central ? { central } : {}) };
}

function bufferTypeOf(settings: DecisionLogSettings): 'size' | 'event' | undefined {
  return settings.upload ? (settings.upload.bufferSizeLimitEvents !== undefined ? 'event' : 'size') : undefined;
}

/** Where and how the section ships events, with the service's own settings (discovery may change those too). */
function uploadKey(settings: DecisionLogSettings, services: ReturnType<typeof normaliseServices>): string {
  return JSON.stringify([settings.upload, services.find((s) => s.name === settings.upload?.service)]);
}

/** The config keys of the local store's options, which are fixed once the database is open. */
const storeKeys: Record<string, string> = {
  file: 'file',
  durability: 'durability',
  whenFull: 'when_full',
  queueLimit: 'queue_limit',
  flushDelayMs: 'flush_delay_ms',
  outcome: 'outcome_paths',
  principals: 'principals',
  maskCredentials: 'mask_credentials',
  maxAgeSeconds: 'retention.max_age_seconds',
  maxBytes: 'retention.max_bytes',
  keepUnshipped: 'retention.keep_unshipped',
};

/**
 * The local store (its file, durability, queue, retention, principals, outcome paths) and the collector's
 * PostgreSQL store are set up when the server starts: a new section may not change them. Whether unshipped
 * events outlive the age limit follows whether the log uploads, unless set: that default stays as at start-up.
 */
function checkStartUpOnly(boot: DecisionLogSettings, next: DecisionLogSettings, section: unknown): void {
  const why = 'the local store is opened with it at start-up; discovery cannot change it';
  if (!next.enabled) throw new DecisionLogConfigError(`decision_logs.store.enabled: the decision log is on in this server; ${why}`);
  if (JSON.stringify(boot.central) !== JSON.stringify(next.central)) throw new DecisionLogConfigError(`decision_logs.store.postgres: the collector's store is opened at start-up; discovery cannot change it`);
  const { retention: bootRetention, ...bootStore } = boot.store;
  const { retention: nextRetention, ...nextStore } = next.store;
  const a: Record<string, unknown> = { ...bootStore, ...bootRetention };
  const b: Record<string, unknown> = { ...nextStore, ...nextRetention };
  const keepSet = (section as { store?: { retention?: { keep_unshipped?: unknown } } } | undefined)?.store?.retention?.keep_unshipped !== undefined;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key === 'keepUnshipped' && !keepSet) continue;
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) throw new DecisionLogConfigError(`decision_logs.store.${storeKeys[key] ?? key}: ${why}`);
  }
}

/**
 * The store's options in this process. Every worker writes its own decisions to the one shared database, but
 * retention runs in the owner worker alone (as the upload does, see uploaderFor): one pass deletes for all, and
 * replicas pruning the same rows at the same time would only contend for the write lock.
 */
export function storeOptionsFor(options: DecisionLogStoreOptions, replica = isReplicaWorker(), writer?: DecisionWriterHandle): DecisionLogStoreOptions {
  // On the server's shared writer (threads of one process), the writer runs retention, for all of them.
  if (writer) {
    const { retention: _inWriter, file: _file, durability: _durability, ...rest } = options;
    return { ...rest, writer };
  }
  if (!replica || options.retention === undefined) return options;
  const { retention: _ownerOnly, ...rest } = options;
  return rest;
}


/**
 * Whether the active policy set has rules at a path, answered once per path and policy set: the engine hands out
 * new `bundles` and `apiModules` arrays whenever the set changes (activation, Policy API write).
 */
function rulesDefined(engine: Engine): (path: string) => boolean {
  let known = new Map<string, boolean>();
  let bundles = engine.bundles;
  let modules = engine.apiModules;
  return (path) => {
    if (engine.bundles !== bundles || engine.apiModules !== modules) {
      ({ bundles, apiModules: modules } = engine);
      known = new Map();
    }
    let defined = known.get(path);
    if (defined === undefined) known.set(path, (defined = engine.hasRulesAt(splitPath(path))));
    return defined;
  };
}

/**
 * The uploader, when decision_logs names a service. With several workers sharing one database, only the first
 * uploads (the owner worker: the others' events are in the same file), so nothing is sent twice.
 */
function uploaderFor(settings: ReturnType<typeof decisionLogSettings>, services: ReturnType<typeof normaliseServices>, store: DecisionLogStore): DecisionLogUploader | undefined {
  if (!settings.upload) return undefined;
  if (isReplicaWorker()) return undefined;
  const { service: name, ...options } = settings.upload;
  const service = services.find((s) => s.name === name)!;
  return new DecisionLogUploader(store, { service: new ServiceClient(service), ...options });
}

/** The event as OPA prints it on the console: Go's encoder leaves an empty `bundles` out (omitempty). */
function withoutEmptyBundles(event: DecisionEvent): DecisionEvent {
  if (event.bundles === undefined || Object.keys(event.bundles).length > 0) return event;
  const { bundles: _empty, ...rest } = event;
  return rest;
}
