// `verdict run`: the server, modelled on `opa run --server`. With --workers N (or verdict.workers in the config)
// N processes share the port through node:cluster, and Data API writes made in one worker are relayed to the
// others through the primary.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { ConfigError, loadConfig } from '../config/config.js';
import { createLogger, logLevels, type LogFormat } from '../log/logger.js';
import { applyWrite } from '../server/data-api.js';
import type { DataWrite } from '../server/context.js';
import { startServer } from '../server/start.js';
import { listenFlags, listenOptionsFromFlags, type ListenOptions } from '../server/listen-options.js';
import type { CliVerification } from '../server/bundle-plugin.js';
import { DecisionLogConfigError, DecisionLogError } from '../decisionlog/index.js';
import { fail, usage } from './usage.js';

interface WriteMessage {
  verdict: 'data-write';
  write: DataWrite;
}

export async function run(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...listenFlags,
        'config-file': { type: 'string', short: 'c' },
        'log-level': { type: 'string', short: 'l', default: 'info' },
        'log-format': { type: 'string', default: 'json' },
        workers: { type: 'string' },
        server: { type: 'boolean', short: 's' },
        watch: { type: 'boolean', short: 'w' },
        'verification-key': { type: 'string' },
        'verification-key-id': { type: 'string' },
        'signing-alg': { type: 'string' },
        scope: { type: 'string' },
        'exclude-files-verify': { type: 'string', multiple: true },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n${usage}`);
  }
  const { values, positionals } = parsed;
  const level = values['log-level'] as LevelWithSilent;
  if (!logLevels.includes(level)) fail(`--log-level ${level}: expected one of ${logLevels.join(', ')}`);
  const format = values['log-format'] as LogFormat;
  if (format !== 'json' && format !== 'text') fail(`--log-format ${format}: expected json or text`);
  const logger = createLogger(level, format);

  let config;
  try {
    config = await loadConfig(values['config-file']);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  let listenOptions: ListenOptions;
  try {
    listenOptions = listenOptionsFromFlags(values);
  } catch (err) {
    return fail((err as Error).message);
  }
  const workersArg = values.workers === 'auto' ? availableParallelism() : Number(values.workers ?? config.verdict?.workers ?? 1);
  if (!Number.isInteger(workersArg) || workersArg < 1) fail(`--workers ${values.workers}: expected a positive integer or "auto"`);

  // Each worker runs its own bundle manager; an upload would reach only the worker that received it.
  if (workersArg > 1 && config.admin_api) fail(`admin_api needs a single worker (--workers ${workersArg}): uploads would reach only one of them`);
  // Each worker would remove the socket file the others listen on.
  if (workersArg > 1 && [...listenOptions.addrs, ...listenOptions.diagnosticAddrs].some((a) => a.startsWith('unix://'))) fail(`unix:// addresses need a single worker (--workers ${workersArg})`);
  if (workersArg > 1 && cluster.isPrimary) {
    runPrimary(workersArg, logger);
    return;
  }

  const key = values['verification-key'];
  if (!key && (values['verification-key-id'] || values['signing-alg'] || values.scope || values['exclude-files-verify'])) {
    fail('--verification-key-id, --signing-alg, --scope and --exclude-files-verify need --verification-key');
  }
  const verification: CliVerification | undefined = key
    ? { key, keyId: values['verification-key-id'], algorithm: values['signing-alg'], scope: values.scope, excludeFiles: values['exclude-files-verify'] }
    : undefined;

  const running = await startServer({
    addr: listenOptions.addrs,
    listen: listenOptions,
    config,
    bundlePaths: positionals,
    watch: values.watch,
    verification,
    logger,
    decisionLogByDefault: true,
    onDataWrite: cluster.isWorker ? (write) => process.send?.({ verdict: 'data-write', write } satisfies WriteMessage) : undefined,
  }).catch((err: Error) => {
    // A decision log that cannot be opened has its own exit codes (3 corrupt, 4 locked, ...), as the CLI's.
    if (err instanceof DecisionLogError) {
      console.error(`verdict: ${err.message}`);
      process.exit(err.exitCode);
    }
    return fail(err instanceof DecisionLogConfigError ? `config: ${err.message}` : err.message);
  });

  if (cluster.isWorker) {
    process.on('message', (message: WriteMessage) => {
      if (message?.verdict === 'data-write') applyWrite(running.ctx, message.write);
    });
  }
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'Shutting down...');
    await running.close((config.verdict?.shutdown_timeout_seconds ?? 10) * 1000);
    logger.info('Server shutdown.');
    logger.flush();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
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
