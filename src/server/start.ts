// Starts one Verdict server process: loads the bundles, activates them, and listens. Used by the CLI
// (one call per worker) and by tests, which start real servers on port 0.
import { HttpSendClient } from '../builtins/http-send/client.js';
import { httpSendSettings } from '../builtins/http-send/settings.js';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Bundle } from '../bundle/bundle.js';
import type { BundleManager } from '../bundle/manager.js';
import { redactConfig, type VerdictConfig } from '../config/config.js';
import type { RegoCompiler } from '../engine/compiler.js';
import { Engine, type Decide } from '../engine/engine.js';
import { createEnricher } from '../pip/index.js';
import { startTracing, tracedRoot } from '../tracing/index.js';
import { bundleLoadingBuckets } from '../status/config.js';
import { createRequestListener } from './app.js';
import { createRequestGate } from './authz.js';
import type { ListenOptions } from './listen-options.js';
import { closeListener, listen, type Listener } from './listeners.js';
import { ServerTls } from './tls.js';
import type { DataWrite, DecisionEvent, DecisionHints, ServerContext } from './context.js';
import { ServerMetrics, requestDurationBuckets } from './metrics.js';
import { decideWith, inputErrorRecorder } from './decisions.js';
import { envoyFromConfig } from '../envoy/plugin.js';
import type { GrpcListenSocket } from '../envoy/grpc-socket.js';
import type { SharedData } from '../engine/shared-data.js';
import { PluginManager, type Plugin } from './plugins.js';
import { createServerBundles, type AdminApiConfig, type CliVerification, type ServerBundles } from './bundle-plugin.js';
import { adminJwtAuth } from '../auth/admin-jwt.js';
import { pipPlugins } from './pip.js';
import { buildInfo, verdictVersion } from '../version.js';
import { createServerDecisionLog, unchangingDecisionLog } from './decision-log.js';
import { decodingLimits } from './body.js';
import { createManagement, type Management } from './management.js';
import type { DecisionLogStore } from '../decisionlog/index.js';
import type { DecisionWriterHandle } from '../decisionlog/shared-writer.js';
import { looseFilesPlugin, type LooseFiles } from './loose-files.js';
import { waitUntilReady } from './ready.js';
import { uploadImpactFor } from '../replay/upload-impact.js';
import type { RequestLogLevel } from './request-log.js';
import type { ClusterMember } from './cluster/worker.js';

export interface StartOptions {
  /** Addresses serving the API; every one is served (see parseListenAddress). */
  addr: string | string[];
  /** Diagnostic addresses, TLS, unix socket mode, authentication and authorization (`verdict run`'s flags). */
  listen?: Partial<Omit<ListenOptions, 'addrs'>>;
  config: VerdictConfig;
  bundlePaths: string[];
  /** `--ignore` patterns for the bundle paths. */
  bundleIgnore?: string[];
  /** Policy and data files loaded as `opa run` loads paths without `--bundle`. */
  files?: LooseFiles;
  /** `--v0-compatible`: Rego v0 for modules whose bundle does not say otherwise. */
  regoVersion?: 0 | 1;
  /** `--log-level-request`: the level of the access log lines (default info). */
  requestLogLevel?: RequestLogLevel;
  /** `--shutdown-grace-period`: how long in-flight work gets on close (default verdict.shutdown_timeout_seconds or 10 s). */
  shutdownGraceMs?: number;
  /** `--ready-timeout`: wait this long for every plugin to be ready before listening (0: do not wait). */
  readyTimeoutMs?: number;
  /** `--watch`: reload the bundle paths when they change. */
  watch?: boolean;
  /** `--verification-key` and friends: verify the signatures of the bundle paths. */
  verification?: CliVerification;
  logger: Logger;
  compiler?: RegoCompiler;
  /** Another recorder (tests); called next to the decision log when that is on too. */
  onDecision?: (event: DecisionEvent) => Promise<unknown> | void;
  /**
   * Whether the decision log is on when the config does not say (`decision_logs.store.enabled`). `verdict run`
   * passes true (logging is on by default there); embedders and tests opt in.
   */
  decisionLogByDefault?: boolean;
  /** In a server thread of a multi-threaded server: the process's one decision-log writer (shared-writer.ts). */
  decisionLogWriter?: DecisionWriterHandle;
  onDataWrite?: (write: DataWrite) => void;
  /** Long-running parts, started after the bundles activate and stopped on close. */
  plugins?: Plugin[];
  /** One server thread of a multi-thread server (`verdict run --workers N`): see src/server/cluster/. */
  cluster?: ClusterMember;
  /** The ext_authz gRPC port's sockets, already bound (a server thread's copies), served instead of binding its addr. */
  envoyGrpcSockets?: GrpcListenSocket[];
  /** The process's shared data memory (threads of one server): data loaded once for every thread. */
  sharedData?: SharedData;
}

export interface RunningServer {
  /** The first API address; `urls` has them all, `diagnosticUrls` the diagnostic ones. */
  url: string;
  urls: string[];
  diagnosticUrls: string[];
  ctx: ServerContext;
  /** The Decide contract for other front ends (Envoy, gateways); their decisions are recorded too. */
  decide: Decide;
  /** Every bundle source (downloads, bundle paths, uploads) goes through this manager. */
  bundles: BundleManager<Bundle>;
  /** The first API listener. */
  server: Server;
  /** The decision log's store, when logging is on (queries, status; tests simulate a full disk through it). */
  decisionLog?: DecisionLogStore;
  /** Stops accepting, lets in-flight requests finish (up to `timeoutMs`), then stops the plugins. */
  close(timeoutMs?: number): Promise<void>;
  /** While closing: the plugins whose stop has not finished yet. */
  stopping(): string[];
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, logger } = options;
  // One bearer-JWT check (one JWKS cache) for every admin route; a bad `admin_api.auth` stops start-up here,
  // before anything is opened that would need closing.
  const adminGuard = config.admin_api ? adminJwtAuth((config.admin_api as AdminApiConfig).auth) : undefined;
  const listenOptions = options.listen ?? {};
  // Certificate problems stop start-up before any bundle work, naming the file.
  const tls = listenOptions.tls ? new ServerTls(listenOptions.tls, listenOptions.authentication ?? 'off') : undefined;
  // A bad pip section stops start-up here, before any bundle work, with the config path in the message.
  const enricher = config.pip ? createEnricher(config.pip) : undefined;
  const metrics = new ServerMetrics(requestDurationBuckets(config), bundleLoadingBuckets(config));
  // Before any bundle work, so downloads and activations are traced; a bad section stops start-up here.
  const tracing = await startTracing(config.distributed_tracing as Record<string, unknown> | undefined, metrics.registry, logger);
  // A server thread compiles through the primary: only a server of its own loads the planner.
  const compiler = options.compiler ?? (await import('../engine/opa-compiler.js')).defaultCompiler();
  const engine = new Engine(compiler, new HttpSendClient(httpSendSettings(config.verdict?.http_send, config.caching), metrics.observeHttpSend));
  if (options.regoVersion !== undefined) engine.defaultRegoVersion = options.regoVersion;
  if (options.sharedData) engine.sharedData = options.sharedData;
  // As `opa run --server`: the running build is base data at data.system.version.
  engine.store.systemDocuments = { version: buildInfo() };
  const activate = (bundles: Bundle[]) =>
    tracedRoot('bundle.activate', 'internal', () => ({ 'opa.bundle.names': bundles.map((b) => b.name) }), () => engine.activate(bundles));
  engine.recordNondeterministic = config.nd_builtin_cache === true;
  await activate([]);
  const plugins = new PluginManager();
  // Opened before the bundles so a corrupt or locked database stops start-up before any download.
  const decisionLog = createServerDecisionLog(config, engine, metrics.registry, options.decisionLogByDefault ?? false, logger, adminGuard, options.decisionLogWriter);
  // Loads, verifies and activates bundles from every source; counts loads and failures per bundle. Registered
  // after the PIP adapters and before the other plugins, so it stops before the adapters and after the rest.
  let bundles: ServerBundles;
  let management: Management;
  try {
    const uploadImpact = config.admin_api ? uploadImpactFor(config, compiler, decisionLog?.store, options.regoVersion) : undefined;
    bundles = await createServerBundles(config, { paths: options.bundlePaths, watch: options.watch, verification: options.verification, ignore: options.bundleIgnore }, activate, metrics, logger, adminGuard, uploadImpact);
    // The status plugin and discovery, after the bundles they report on and reconfigure.
    management = createManagement(config, { bundles, registry: metrics.registry, version: verdictVersion, compiler, logger }, () => ctx);
  } catch (err) {
    await enricher?.close(); // its pools and file watchers would keep the process alive
    await decisionLog?.plugin.stop();
    await tracing?.stop();
    throw err;
  }
  // PIP adapters first, so they stop last: plugins that still take decisions while stopping (a gRPC ext_authz
  // server draining its calls) find them open.
  // The decision log first of all, so it stops last: every decision made while the others stop is written.
  // Files named without --bundle go into the store before any bundle activates over them, as in OPA.
  const files = options.files?.paths.length ? [looseFilesPlugin(engine, options.files, logger, (write) => ctx.onDataWrite?.(write))] : [];
  // Replica workers take the policy set and data from the owner worker, which alone runs their sources.
  const sources = options.cluster?.ownsSources === false ? [] : [...files, ...(bundles.plugin ? [bundles.plugin] : []), ...management.plugins];
  // Tracing before everything, so it stops last and exports the spans of the others' last work.
  for (const plugin of [...(tracing ? [tracing] : []), ...(decisionLog ? [decisionLog.plugin] : []), ...(enricher ? pipPlugins(enricher) : []), ...sources, ...(options.plugins ?? [])]) plugins.register(plugin);
  // Frozen: every decision event shares it, and the decision log writes a frozen object's text once.
  const labels = Object.freeze({ id: options.cluster?.instanceId ?? randomUUID(), version: verdictVersion, ...(config.labels ?? {}) });
  const ctx: ServerContext = {
    engine,
    metrics,
    version: verdictVersion,
    labels,
    defaultDecision: config.default_decision ?? '/system/main',
    decoding: decodingLimits(config.server?.decoding),
    encoding: {
      gzipMinLength: config.server?.encoding?.gzip?.min_length ?? 1024,
      gzipLevel: config.server?.encoding?.gzip?.compression_level ?? 9,
    },
    publicConfig: redactConfig(config, labels),
    status: management.status,
    onDecision: combineRecorders(decisionLog?.onDecision, options.onDecision),
    ...(decisionLog?.headers.length ? { logHeaders: decisionLog.headers } : {}),
    onDataWrite: options.onDataWrite,
    reconfigureDecisionLog: decisionLog?.reconfigure ?? unchangingDecisionLog(config),
    plugins: () => plugins.statuses(),
    bundlesActivated: () => plugins.bundlesActivated(),
    enricher,
  };
  // Envoy ext_authz (gRPC plugin) and the HTTP callouts decide through the same recorder as the REST API.
  const envoy = await envoyFromConfig(config.plugins, {
    decide: decideWith(ctx),
    onInputError: inputErrorRecorder(ctx),
    ready: () => plugins.bundlesActivated(),
    logger,
    listenOn: options.envoyGrpcSockets,
    graceMs: options.shutdownGraceMs ?? (config.verdict?.shutdown_timeout_seconds ?? 10) * 1000,
  });
  for (const plugin of envoy.plugins) plugins.register(plugin);
  // The bundle admin API (only when `admin_api` is configured) carries its own /v1/bundles paths.
  ctx.mounts = [
    ...envoy.mounts,
    ...(bundles.adminRouter ? [{ path: '/', router: bundles.adminRouter }] : []),
    ...(decisionLog?.router ? [{ path: '/', router: decisionLog.router }] : []),
  ];
  await options.cluster?.join(ctx);
  await plugins.startAll();
  const gate = createRequestGate(ctx, {
    authentication: listenOptions.authentication ?? 'off',
    authorization: listenOptions.authorization ?? 'off',
    decision: config.default_authorization_decision ?? '/system/authz/allow',
  });
  const countAuthz = listenOptions.authorization === 'basic';
  if (options.readyTimeoutMs) await waitUntilReady(plugins, options.readyTimeoutMs);
  const settings = { tls, unixSocketMode: listenOptions.unixSocketMode ?? 0o600, boundFd: options.cluster?.listeningFd?.bind(options.cluster) };
  const listeners: Listener[] = [];
  const diagnostics: Listener[] = [];
  // The owner worker's private socket, where the other workers hand over the requests it answers.
  const handedOver: Server[] = [];
  try {
    const forward = options.cluster?.forward?.bind(options.cluster);
    const api = createRequestListener(ctx, logger, { gate, requestLogLevel: options.requestLogLevel, forward, countAuthz });
    if (options.cluster?.ownsSources && options.cluster.serveForwarded) handedOver.push(await options.cluster.serveForwarded(createRequestListener(ctx, logger, { forwarded: true, requestLogLevel: options.requestLogLevel })));
    for (const addr of Array.isArray(options.addr) ? options.addr : [options.addr]) listeners.push(await listen(addr, api, settings));
    const diagnostic = createRequestListener(ctx, logger, { gate, diagnostic: true, requestLogLevel: options.requestLogLevel, countAuthz });
    for (const addr of listenOptions.diagnosticAddrs ?? []) diagnostics.push(await listen(addr, diagnostic, settings));
  } catch (err) {
    await Promise.all([...listeners, ...diagnostics].map((l) => l.server).concat(handedOver).map((server) => closeListener(server, 0)));
    await plugins.stopAll();
    throw err;
  }
  tls?.startReloading(logger);
  const url = listeners[0].url;
  logger.info({ addrs: listeners.map((l) => l.url), diagnostic_addrs: diagnostics.map((l) => l.url), bundles: engine.bundles.map((b) => ({ name: b.name, revision: b.manifest.revision })) }, 'Server started.');

  const close = async (timeoutMs = 10_000) => {
    await Promise.all([...listeners, ...diagnostics].map((l) => l.server).concat(handedOver).map((server) => closeListener(server, timeoutMs)));
    await tls?.stop();
    // After the last request: plugins such as the decision-log writer flush what those requests produced.
    await plugins.stopAll();
  };
  return { url, urls: listeners.map((l) => l.url), diagnosticUrls: diagnostics.map((l) => l.url), ctx, decide: decideWith(ctx), bundles: bundles.manager, server: listeners[0].server, ...(decisionLog ? { decisionLog: decisionLog.store } : {}), close, stopping: () => plugins.stopping() };
}

type Recorder = (event: DecisionEvent, hints?: DecisionHints) => Promise<unknown> | void;

function combineRecorders(a: Recorder | undefined, b: Recorder | undefined): Recorder | undefined {
  if (!a || !b) return a ?? b;
  return (event, hints) => {
    const first = a(event, hints);
    const second = b(event, hints);
    return first instanceof Promise || second instanceof Promise ? Promise.all([first, second]) : undefined;
  };
}
