#!/usr/bin/env node
// The verdict command line, modelled on `opa run --server`:
//   verdict run [--addr HOST:PORT] [--config-file FILE] [--log-level L] [--log-format json|text] [--workers N] [BUNDLE_PATH ...]
// With --workers N (or verdict.workers in the config) N processes share the port through node:cluster, and
// Data API writes made in one worker are relayed to the others through the primary.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { ConfigError, loadConfig } from './config/config.js';
import { createLogger, logLevels, type LogFormat } from './log/logger.js';
import { applyWrite } from './server/data-api.js';
import type { DataWrite } from './server/context.js';
import { startServer, verdictVersion } from './server/start.js';

const usage = 'usage: verdict run [--addr HOST:PORT] [--config-file FILE] [--log-level LEVEL] [--log-format json|text] [--workers N] [BUNDLE_PATH ...]';

interface WriteMessage {
  verdict: 'data-write';
  write: DataWrite;
}

function fail(message: string): never {
  console.error(`verdict: ${message}`);
  process.exit(2);
}

async function run(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        addr: { type: 'string', short: 'a', default: '127.0.0.1:8181' },
        'config-file': { type: 'string', short: 'c' },
        'log-level': { type: 'string', short: 'l', default: 'info' },
        'log-format': { type: 'string', default: 'json' },
        workers: { type: 'string' },
        server: { type: 'boolean', short: 's' },
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
  const workersArg = values.workers === 'auto' ? availableParallelism() : Number(values.workers ?? config.verdict?.workers ?? 1);
  if (!Number.isInteger(workersArg) || workersArg < 1) fail(`--workers ${values.workers}: expected a positive integer or "auto"`);

  if (workersArg > 1 && cluster.isPrimary) {
    runPrimary(workersArg, logger);
    return;
  }

  const running = await startServer({
    addr: values.addr!,
    config,
    bundlePaths: positionals,
    logger,
    onDataWrite: cluster.isWorker ? (write) => process.send?.({ verdict: 'data-write', write } satisfies WriteMessage) : undefined,
  }).catch((err: Error) => fail(err.message));

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

const [command, ...rest] = process.argv.slice(2);
if (command === 'version' || command === '--version') {
  console.log(`verdict ${verdictVersion}`);
} else if (command === 'run') {
  await run(rest);
} else {
  fail(`unknown command ${command ?? '(none)'}\n${usage}`);
}
