// A Verdict server run the way a multi-threaded `verdict run` runs its servers: startServer in a worker thread,
// the main thread holding the process. Run as `node thread-server.js <settings JSON>`: the main thread makes the
// gRPC port's descriptor (as the threads share the ports), starts the thread, prints one JSON line
// { url, grpcPort } on stdout once it serves, and on SIGTERM asks the thread to stop (signals reach only the
// main thread). The process ends when the thread has stopped and ended by itself.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parseConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { startServer } from '../../src/server/start.js';
import { listeningFd } from '../listening-fd.js';

export interface ThreadServerSettings {
  /** The config text; `GRPC_PORT` in it is replaced by the gRPC port made for the thread. */
  config: string;
  bundlePaths: string[];
}

interface ThreadData extends ThreadServerSettings {
  grpcFd: number;
}

if (isMainThread) {
  const settings = JSON.parse(process.argv[2]) as ThreadServerSettings;
  const grpc = await listeningFd();
  const thread = new Worker(new URL(import.meta.url), { workerData: { ...settings, config: settings.config.replaceAll('GRPC_PORT', String(grpc.port)), grpcFd: grpc.fd } satisfies ThreadData });
  thread.on('message', (message: { url?: string }) => {
    if (message.url) process.stdout.write(`${JSON.stringify({ url: message.url, grpcPort: grpc.port })}\n`);
  });
  thread.on('error', (err) => {
    process.stdout.write(`${JSON.stringify({ error: err.message })}\n`);
    process.exitCode = 1;
  });
  thread.on('exit', (code) => (process.exitCode ||= code));
  process.once('SIGTERM', () => thread.postMessage('stop'));
} else {
  const data = workerData as ThreadData;
  const running = await startServer({
    addr: '127.0.0.1:0',
    config: parseConfig(data.config, 'thread server config'),
    bundlePaths: data.bundlePaths,
    logger: createLogger('info', 'json'),
    decisionLogByDefault: true,
    envoyGrpcSockets: [{ fd: data.grpcFd }],
  });
  const port = parentPort!;
  port.postMessage({ url: running.url });
  port.once('message', () => {
    void running.close(5000).then(() => port.close());
  });
}
