// A loopback decision-log collector process for the benchmarks: acknowledges every upload, records nothing
// (the collector of the tests, test/decisionlog/collector-process.ts, in its "ack" mode).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/free-port.js';

export interface BenchCollector {
  url: string;
  stop(): void;
}

export async function startBenchCollector(): Promise<BenchCollector> {
  const port = await freePort();
  const script = fileURLToPath(new URL('../test/decisionlog/collector-process.js', import.meta.url));
  const child = fork(script, [String(port), 'ack', ''], { stdio: 'ignore' });
  await new Promise<void>((ready, fail) => {
    child.once('message', () => ready());
    child.once('exit', (code) => fail(new Error(`collector exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}
