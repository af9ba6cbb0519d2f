// `verdict run`: the server, modelled on `opa run --server` and taking its flags (run-flags.ts). As OPA uses every
// core, it runs one worker thread per core unless --workers N or verdict.workers says otherwise, all in one
// process; one worker serves on the main thread. The workers act as one server: src/server/cluster/.
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import type { LevelWithSilent } from 'pino';
import { ConfigError, loadConfig, validateConfig, type VerdictConfig } from '../config/config.js';
import { createLogger, logFormats, logLevels } from '../log/logger.js';
import { listenOptionsFromFlags, type ListenFlagValues, type ListenOptions } from '../server/listen-options.js';
import type { CliVerification } from '../server/bundle-plugin.js';
import { requestLogLevels } from '../server/request-log.js';
import { choiceFlag, FlagError, parseRunArgs, runHelp, secondsFlag, type FlagValues } from './run-flags.js';
import { mergeOverrides, parseOverrides, SetValueError } from './set-values.js';
import { sortRunPaths } from './run-paths.js';
import { fail } from './usage.js';
import { memberData } from '../server/cluster/protocol.js';
import { boundedStep } from '../server/shutdown-step.js';

/**
 * How long the plugins may take to stop after the grace period: below the 5 seconds more that the supervisor of
 * a server of threads gives a thread before ending it, so that the thread says itself what it was waiting for.
 */
const PLUGIN_STOP_MARGIN_MS = 3000;

export async function run(args: string[]): Promise<void> {
  try {
    await runWith(args);
  } catch (err) {
    if (err instanceof FlagError || err instanceof SetValueError || err instanceof ConfigError) fail(`${err.message}\n(verdict run --help lists the flags)`);
    throw err;
  }
}

async function runWith(args: string[]): Promise<void> {
  const { values, positionals } = parseRunArgs(args);
  if (values.help) {
    console.log(runHelp());
    return;
  }
  const level = choiceFlag(values, 'log-level', logLevels) as LevelWithSilent;
  const logger = createLogger(level, choiceFlag(values, 'log-format', logFormats));
  const requestLogLevel = choiceFlag(values, 'log-level-request', requestLogLevels);
  if (values['v0-compatible'] && values['v1-compatible']) throw new FlagError('--v0-compatible and --v1-compatible contradict each other: give one');
  const v0 = values['v0-compatible'] === true;

  const paths = sortRunPaths(positionals, values.bundle === true);
  // A server thread takes the configuration its primary read, validated and checked.
  const member = memberData();
  const config = member?.config ?? (await configFrom(values, paths.remote));
  if (!member) {
    // Every setting is checked before a port is bound or a thread started, opening nothing: a mistake is
    // reported naming its key, not hidden behind whatever fails first in the server (a busy port).
    const { checkServerConfig } = await import('../server/config-check.js');
    try {
      checkServerConfig(config, { decisionLogByDefault: true });
    } catch (err) {
      fail(await startFailure(err as Error));
    }
  }
  const grace = secondsFlag(values, 'shutdown-grace-period') ?? config.verdict?.shutdown_timeout_seconds ?? 10;
  const wait = secondsFlag(values, 'shutdown-wait-period') ?? 0;
  const readyTimeout = secondsFlag(values, 'ready-timeout') ?? 0;
  let listenOptions: ListenOptions;
  try {
    listenOptions = listenOptionsFromFlags(values as ListenFlagValues, v0 ? ':8181' : '127.0.0.1:8181');
  } catch (err) {
    throw new FlagError((err as Error).message);
  }

  const workersArg = values.workers === 'auto' || (values.workers === undefined && config.verdict?.workers === undefined) ? availableParallelism() : Number(values.workers ?? config.verdict?.workers);
  if (!Number.isInteger(workersArg) || workersArg < 1) throw new FlagError(`--workers ${String(values.workers)}: expected a positive integer or "auto"`);
  // The primary (the main thread) serves nothing: it loads its own modules only, not the server's.
  if (workersArg > 1 && isMainThread) {
    const { runPrimary } = await import('../server/cluster/primary.js');
    await runPrimary({
      workers: workersArg,
      logger,
      args,
      config,
      addrs: [...listenOptions.addrs, ...listenOptions.diagnosticAddrs],
      ...(listenOptions.tls ? { tls: listenOptions.tls } : {}),
      stopTimeoutMs: (wait + grace) * 1000 + 5000,
    }).catch((err: Error) => fail(err.message));
    return;
  }
  const [{ startServer }, { ClusterWorker }, { primaryLink }, { NotReadyError }, { DecisionLogError }] = await Promise.all([
    import('../server/start.js'),
    import('../server/cluster/worker.js'),
    import('../server/cluster/transport.js'),
    import('../server/ready.js'),
    import('../decisionlog/index.js'),
  ]);
  const link = primaryLink();
  const worker = link ? new ClusterWorker(link) : undefined;

  const verification = verificationFrom(values, paths.files.length > 0);
  const running = await startServer({
    addr: listenOptions.addrs,
    listen: listenOptions,
    config,
    bundlePaths: paths.bundles,
    files: { paths: paths.files, watch: values.watch === true, ignore: values.ignore as string[] | undefined },
    bundleIgnore: values.ignore as string[] | undefined,
    watch: values.watch === true,
    verification,
    regoVersion: v0 ? 0 : 1,
    readyTimeoutMs: readyTimeout > 0 ? readyTimeout * 1000 : undefined,
    requestLogLevel,
    shutdownGraceMs: grace * 1000,
    logger,
    decisionLogByDefault: true,
    ...(worker ? { cluster: worker, compiler: worker.compiler, envoyGrpcSockets: worker.envoyGrpcSockets, decisionLogWriter: worker.decisionLogWriter, sharedData: worker.sharedData } : {}),
  }).catch(async (err: Error) => {
    // A decision log that cannot be opened has its own exit codes (3 corrupt, 4 locked, ...), as the CLI's.
    if (err instanceof DecisionLogError) {
      console.error(`verdict: ${err.message}`);
      process.exit(err.exitCode);
    }
    // As `opa run --ready-timeout`: plugins that never became ready end the process with status 1.
    if (err instanceof NotReadyError) {
      logger.error({ err: err.message }, 'Failed to wait for plugins activation.');
      logger.flush();
      process.exit(1);
    }
    return fail(await startFailure(err));
  });

  worker?.ready();
  const shutdown = async (signal: string) => {
    // --shutdown-wait-period: keep serving while load balancers notice the instance is going away.
    if (wait > 0) {
      logger.info({ signal, seconds: wait }, 'Shutdown initiated; waiting before shutting down.');
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
    logger.info({ signal }, 'Shutting down...');
    // In-flight requests get the grace period; the plugins' stops (last flushes and uploads) a little more.
    const closed = await boundedStep(logger, 'closing the server', grace * 1000 + PLUGIN_STOP_MARGIN_MS, running.close(grace * 1000), () => ({ plugins: running.stopping() }));
    if (closed === 'done') logger.info('Server shutdown.');
    logger.flush();
    process.exit(closed === 'done' ? 0 : 1);
  };
  // A server thread hears of signals from the primary (they reach the main thread only).
  if (worker) void worker.stopRequested.then(() => shutdown('SIGTERM'));
  else {
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
  }
}

/** The message a failed start-up ends with. */
async function startFailure(err: Error): Promise<string> {
  const { DecisionLogConfigError } = await import('../decisionlog/config.js');
  return err instanceof DecisionLogConfigError ? `config: ${err.message}` : err.message;
}

/** The config file with `--set`, `--set-file` and remote bundle URLs (OPA's shorthand) merged over it. */
async function configFrom(values: FlagValues, remote: Record<string, unknown>): Promise<VerdictConfig> {
  const config = await loadConfig(values['config-file'] as string | undefined);
  const overrides = mergeOverrides(remote, parseOverrides((values.set as string[] | undefined) ?? [], (values['set-file'] as string[] | undefined) ?? []));
  return Object.keys(overrides).length === 0 ? config : validateConfig(mergeOverrides(config, overrides), 'configuration with --set/--set-file');
}

function verificationFrom(values: FlagValues, hasLooseFiles: boolean): CliVerification | undefined {
  const key = values['verification-key'] as string | undefined;
  if (!key && (values['verification-key-id'] || values['signing-alg'] || values.scope || values['exclude-files-verify'])) {
    throw new FlagError('--verification-key-id, --signing-alg, --scope and --exclude-files-verify need --verification-key');
  }
  if (!key || values['skip-verify']) return undefined;
  if (hasLooseFiles) throw new FlagError('--verification-key verifies bundles: give the paths with --bundle (-b)');
  return {
    key,
    keyId: values['verification-key-id'] as string | undefined,
    algorithm: values['signing-alg'] as string | undefined,
    scope: values.scope as string | undefined,
    excludeFiles: values['exclude-files-verify'] as string[] | undefined,
  };
}
