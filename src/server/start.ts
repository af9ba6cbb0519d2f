// Starts one Verdict server process: loads the bundles, activates them, and listens. Used by the CLI
// (one call per worker process) and by tests, which start real servers on port 0.
import { randomUUID } from 'node:crypto';
import { stat, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { parseBundle, type Bundle } from '../bundle/bundle.js';
import { readBundleArchive, readBundleDirectory } from '../bundle/files.js';
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
import { pipPlugins } from './pip.js';

export const verdictVersion = '0.1.0';

export interface StartOptions {
  addr: string;
  config: VerdictConfig;
  bundlePaths: string[];
  logger: Logger;
  compiler?: RegoCompiler;
  onDecision?: (event: DecisionEvent) => void;
  onDataWrite?: (write: DataWrite) => void;
  /** Long-running parts, started after the bundles activate and stopped on close. */
  plugins?: Plugin[];
}

export interface RunningServer {
  url: string;
  ctx: ServerContext;
  /** The Decide contract for other front ends (Envoy, gateways); their decisions are recorded too. */
  decide: Decide;
  /** Activates a new set of bundles atomically (for bundle sources), counted in the bundle metrics. */
  activate(bundles: Bundle[]): Promise<void>;
  server: Server;
  /** Stops accepting, lets in-flight requests finish (up to `timeoutMs`), then stops the plugins. */
  close(timeoutMs?: number): Promise<void>;
}

/** Reads bundle paths as OPA's `run -b` does: directories or gzipped tarballs, named by their path. */
export async function loadBundles(paths: string[]): Promise<Bundle[]> {
  return Promise.all(
    paths.map(async (path) => {
      const files = (await stat(path)).isDirectory() ? await readBundleDirectory(path) : await readBundleArchive(await readFile(path));
      return parseBundle(path, files);
    }),
  );
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
  const engine = new Engine(options.compiler ?? defaultCompiler());
  const metrics = new ServerMetrics();
  const activate = async (bundles: Bundle[]) => {
    const started = process.hrtime.bigint();
    try {
      await engine.activate(bundles);
    } catch (err) {
      for (const b of bundles) metrics.bundleFailedLoad.inc({ name: b.name });
      throw err;
    }
    const ns = Number(process.hrtime.bigint() - started);
    for (const b of bundles) {
      metrics.bundleLoaded.inc({ name: b.name });
      metrics.bundleLoadingDuration.observe({ name: b.name, stage: 'activate' }, ns);
    }
  };
  try {
    await activate(await loadBundles(options.bundlePaths));
  } catch (err) {
    await enricher?.close(); // its pools and file watchers would keep the process alive
    throw err;
  }
  const plugins = new PluginManager();
  // PIP adapters first, so they stop last: plugins that still take decisions while stopping (a gRPC ext_authz
  // server draining its calls) find them open.
  for (const plugin of [...(enricher ? pipPlugins(enricher) : []), ...(options.plugins ?? [])]) plugins.register(plugin);
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
    onDecision: options.onDecision,
    onDataWrite: options.onDataWrite,
    plugins: () => plugins.statuses(),
    bundlesActivated: () => plugins.bundlesActivated(),
    enricher,
  };
  // Envoy ext_authz (gRPC plugin) and the HTTP callouts decide through the same recorder as the REST API.
  const envoy = envoyFromConfig(config.plugins, {
    decide: decideWith(ctx),
    onInputError: inputErrorRecorder(ctx),
    ready: () => plugins.bundlesActivated(),
    logger,
    graceMs: (config.verdict?.shutdown_timeout_seconds ?? 10) * 1000,
  });
  for (const plugin of envoy.plugins) plugins.register(plugin);
  ctx.mounts = envoy.mounts;
  await plugins.startAll();
  const server = createHttpServer(ctx, logger);
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
  return { url, ctx, decide: decideWith(ctx), activate, server, close };
}
