// Starts one Verdict server process: loads the bundles, activates them, and listens. Used by the CLI
// (one call per worker process) and by tests, which start real servers on port 0.
import { HttpSendClient } from '../builtins/http-send/client.js';
import { httpSendSettings } from '../builtins/http-send/settings.js';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Bundle } from '../bundle/bundle.js';
import type { BundleManager } from '../bundle/manager.js';
import { redactConfig, type VerdictConfig } from '../config/config.js';
import type { RegoCompiler } from '../engine/compiler.js';
import { Engine, type Decide } from '../engine/engine.js';
import { defaultCompiler } from '../engine/opa-compiler.js';
import { createEnricher } from '../pip/index.js';
import { createHttpServer } from './app.js';
import type { DataWrite, DecisionEvent, ServerContext } from './context.js';
import { ServerMetrics } from './metrics.js';
import { decideWith, inputErrorRecorder } from './decisions.js';
import { envoyFromConfig } from '../envoy/plugin.js';
import { PluginManager, type Plugin } from './plugins.js';
import { createServerBundles, type CliVerification, type ServerBundles } from './bundle-plugin.js';
import { pipPlugins } from './pip.js';
import { verdictVersion } from '../version.js';
import { createServerDecisionLog } from './decision-log.js';
import type { DecisionLogStore } from '../decisionlog/index.js';
import { looseFilesPlugin, type LooseFiles } from './loose-files.js';
import { waitUntilReady } from './ready.js';
import type { RequestLogLevel } from './request-log.js';

export interface StartOptions {
  addr: string;
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
  onDataWrite?: (write: DataWrite) => void;
  /** Long-running parts, started after the bundles activate and stopped on close. */
  plugins?: Plugin[];
}

export interface RunningServer {
  url: string;
  ctx: ServerContext;
  /** The Decide contract for other front ends (Envoy, gateways); their decisions are recorded too. */
  decide: Decide;
  /** Every bundle source (downloads, bundle paths, uploads) goes through this manager. */
  bundles: BundleManager<Bundle>;
  server: Server;
  /** The decision log's store, when logging is on (queries, status; tests simulate a full disk through it). */
  decisionLog?: DecisionLogStore;
  /** Stops accepting, lets in-flight requests finish (up to `timeoutMs`), then stops the plugins. */
  close(timeoutMs?: number): Promise<void>;
}

export function parseAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = i <= 0 ? '0.0.0.0' : addr.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--addr ${addr}: expected HOST:PORT with a port from 0 to 65535`);
  return { host, port };
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, logger } = options;
  // A bad pip section stops start-up here, before any bundle work, with the config path in the message.
  const enricher = config.pip ? createEnricher(config.pip) : undefined;
  const metrics = new ServerMetrics();
  const engine = new Engine(options.compiler ?? defaultCompiler(), new HttpSendClient(httpSendSettings(config.verdict?.http_send), metrics.observeHttpSend));
  if (options.regoVersion !== undefined) engine.defaultRegoVersion = options.regoVersion;
  const activate = async (bundles: Bundle[]) => {
    const started = process.hrtime.bigint();
    await engine.activate(bundles);
    const ns = Number(process.hrtime.bigint() - started);
    for (const b of bundles) metrics.bundleLoadingDuration.observe({ name: b.name, stage: 'activate' }, ns);
  };
  await activate([]);
  const plugins = new PluginManager();
  // Opened before the bundles so a corrupt or locked database stops start-up before any download.
  const decisionLog = createServerDecisionLog(config, engine, metrics.registry, options.decisionLogByDefault ?? false);
  // Loads, verifies and activates bundles from every source; counts loads and failures per bundle. Registered
  // after the PIP adapters and before the other plugins, so it stops before the adapters and after the rest.
  let bundles: ServerBundles;
  try {
    bundles = await createServerBundles(config, { paths: options.bundlePaths, watch: options.watch, verification: options.verification, ignore: options.bundleIgnore }, activate, metrics, logger);
  } catch (err) {
    await enricher?.close(); // its pools and file watchers would keep the process alive
    await decisionLog?.plugin.stop();
    throw err;
  }
  // PIP adapters first, so they stop last: plugins that still take decisions while stopping (a gRPC ext_authz
  // server draining its calls) find them open.
  // The decision log first of all, so it stops last: every decision made while the others stop is written.
  // Files named without --bundle go into the store before any bundle activates over them, as in OPA.
  const files = options.files?.paths.length ? [looseFilesPlugin(engine, options.files, logger)] : [];
  for (const plugin of [...(decisionLog ? [decisionLog.plugin] : []), ...(enricher ? pipPlugins(enricher) : []), ...files, ...(bundles.plugin ? [bundles.plugin] : []), ...(options.plugins ?? [])]) plugins.register(plugin);
  const labels = { id: randomUUID(), version: verdictVersion, ...(config.labels ?? {}) };
  const ctx: ServerContext = {
    engine,
    metrics,
    version: verdictVersion,
    labels,
    defaultDecision: config.default_decision ?? '/system/main',
    decoding: {
      maxLength: config.server?.decoding?.max_length ?? 268_435_456,
      gzipMaxLength: config.server?.decoding?.gzip?.max_length ?? 536_870_912,
    },
    encoding: {
      gzipMinLength: config.server?.encoding?.gzip?.min_length ?? 1024,
      gzipLevel: config.server?.encoding?.gzip?.compression_level ?? 9,
    },
    publicConfig: redactConfig(config, labels),
    statusEnabled: config.status !== undefined,
    onDecision: combineRecorders(decisionLog?.onDecision, options.onDecision),
    ...(decisionLog?.headers.length ? { logHeaders: decisionLog.headers } : {}),
    onDataWrite: options.onDataWrite,
    plugins: () => plugins.statuses(),
    bundlesActivated: () => plugins.bundlesActivated(),
    bundleStatus: bundles.status,
    enricher,
  };
  // Envoy ext_authz (gRPC plugin) and the HTTP callouts decide through the same recorder as the REST API.
  const envoy = envoyFromConfig(config.plugins, {
    decide: decideWith(ctx),
    onInputError: inputErrorRecorder(ctx),
    ready: () => plugins.bundlesActivated(),
    logger,
    graceMs: options.shutdownGraceMs ?? (config.verdict?.shutdown_timeout_seconds ?? 10) * 1000,
  });
  for (const plugin of envoy.plugins) plugins.register(plugin);
  // The bundle admin API (only when `admin_api` is configured) carries its own /v1/bundles paths.
  ctx.mounts = [
    ...envoy.mounts,
    ...(bundles.adminRouter ? [{ path: '/', router: bundles.adminRouter }] : []),
    ...(decisionLog?.router ? [{ path: '/', router: decisionLog.router }] : []),
  ];
  await plugins.startAll();
  if (options.readyTimeoutMs) await waitUntilReady(plugins, options.readyTimeoutMs);
  const server = createHttpServer(ctx, logger, options.requestLogLevel);
  const { host, port } = parseAddr(options.addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  }).catch(async (err: unknown) => {
    await plugins.stopAll();
    throw err;
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ addr: url, bundles: engine.bundles.map((b) => ({ name: b.name, revision: b.manifest.revision })) }, 'Server started.');

  const close = async (timeoutMs = 10_000) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.closeAllConnections();
        resolve();
      }, timeoutMs);
      timer.unref();
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
    // After the last request: plugins such as the decision-log writer flush what those requests produced.
    await plugins.stopAll();
  };
  return { url, ctx, decide: decideWith(ctx), bundles: bundles.manager, server, ...(decisionLog ? { decisionLog: decisionLog.store } : {}), close };
}

type Recorder = (event: DecisionEvent) => Promise<unknown> | void;

function combineRecorders(a: Recorder | undefined, b: Recorder | undefined): Recorder | undefined {
  if (!a || !b) return a ?? b;
  return (event) => {
    const first = a(event);
    const second = b(event);
    return first instanceof Promise || second instanceof Promise ? Promise.all([first, second]) : undefined;
  };
}
