// `verdict run`: the server, modelled on `opa run --server` and taking its flags (run-flags.ts). With
// --workers N (or verdict.workers in the config) N processes share the port through node:cluster, and Data API
// writes made in one worker are relayed to the others through the primary.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { LevelWithSilent } from 'pino';
import { ConfigError, loadConfig, validateConfig, type VerdictConfig } from '../config/config.js';
import { createLogger, logFormats, logLevels } from '../log/logger.js';
import { applyWrite } from '../server/data-api.js';
import type { DataWrite } from '../server/context.js';
import { startServer } from '../server/start.js';
import { listenOptionsFromFlags, type ListenFlagValues, type ListenOptions } from '../server/listen-options.js';
import type { CliVerification } from '../server/bundle-plugin.js';
import { NotReadyError } from '../server/ready.js';
import { requestLogLevels } from '../server/request-log.js';
import { DecisionLogConfigError, DecisionLogError } from '../decisionlog/index.js';
import { choiceFlag, FlagError, parseRunArgs, runHelp, secondsFlag, type FlagValues } from './run-flags.js';
import { mergeOverrides, parseOverrides, SetValueError } from './set-values.js';
import { sortRunPaths } from './run-paths.js';
import { fail } from './usage.js';

interface WriteMessage {
  verdict: 'data-write';
  write: DataWrite;
}

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
  const config = await configFrom(values, paths.remote);
  const grace = secondsFlag(values, 'shutdown-grace-period') ?? config.verdict?.shutdown_timeout_seconds ?? 10;
  const wait = secondsFlag(values, 'shutdown-wait-period') ?? 0;
  const readyTimeout = secondsFlag(values, 'ready-timeout') ?? 0;
  let listenOptions: ListenOptions;
  try {
    listenOptions = listenOptionsFromFlags(values as ListenFlagValues, v0 ? ':8181' : '127.0.0.1:8181');
  } catch (err) {
    throw new FlagError((err as Error).message);
  }

  const workersArg = values.workers === 'auto' ? availableParallelism() : Number(values.workers ?? config.verdict?.workers ?? 1);
  if (!Number.isInteger(workersArg) || workersArg < 1) throw new FlagError(`--workers ${String(values.workers)}: expected a positive integer or "auto"`);

  // Each worker runs its own bundle manager; an upload would reach only the worker that received it.
  if (workersArg > 1 && config.admin_api) fail(`admin_api needs a single worker (--workers ${workersArg}): uploads would reach only one of them`);
  // Each worker would remove the socket file the others listen on.
  if (workersArg > 1 && [...listenOptions.addrs, ...listenOptions.diagnosticAddrs].some((a) => a.startsWith('unix://'))) fail(`unix:// addresses need a single worker (--workers ${workersArg})`);
  if (workersArg > 1 && cluster.isPrimary) {
    runPrimary(workersArg, logger);
    return;
  }

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
    onDataWrite: cluster.isWorker ? (write) => process.send?.({ verdict: 'data-write', write } satisfies WriteMessage) : undefined,
  }).catch((err: Error) => {
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
    return fail(err instanceof DecisionLogConfigError ? `config: ${err.message}` : err.message);
  });

  if (cluster.isWorker) {
    process.on('message', (message: WriteMessage) => {
      if (message?.verdict === 'data-write') applyWrite(running.ctx, message.write);
    });
  }
  const shutdown = async (signal: string) => {
    // --shutdown-wait-period: keep serving while load balancers notice the instance is going away.
    if (wait > 0) {
      logger.info({ signal, seconds: wait }, 'Shutdown initiated; waiting before shutting down.');
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
    logger.info({ signal }, 'Shutting down...');
    await running.close(grace * 1000);
    logger.info('Server shutdown.');
    logger.flush();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
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

function runPrimary(workers: number, logger: ReturnType<typeof createLogger>): void {
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('message', (from, message: WriteMessage) => {
    if (message?.verdict !== 'data-write') return;
    for (const worker of Object.values(cluster.workers ?? {})) if (worker && worker !== from) worker.send(message);
  });
  cluster.on('exit', (worker, code) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code }, 'Worker exited; stopping.');
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exitCode = code || 1;
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
