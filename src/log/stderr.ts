// Where the server's log lines and print() output go: stderr. In the main thread that is process.stderr, which
// Node writes synchronously to a file, pipe or terminal. In a worker thread process.stderr is only a stream
// relayed through the main thread: lines cost the main thread's event loop and those not yet relayed are lost
// when the thread ends or crashes. A thread writes straight to descriptor 2 instead, synchronously, so a line
// is out when the call returns (the same bytes, formatted the same way).
import { isMainThread } from 'node:worker_threads';
import { lazyRequire } from '../lazy-require.js';

// pino is loaded only by a thread that writes: print() is part of every command that evaluates Rego.
const pino = lazyRequire<typeof import('pino')>('pino');

let threadStderr: NodeJS.WritableStream | undefined;

export function stderrStream(): NodeJS.WritableStream {
  if (isMainThread) return process.stderr;
  return (threadStderr ??= pino().destination({ fd: 2, sync: true }) as unknown as NodeJS.WritableStream);
}
