// Loaded with `--import` into a `verdict run` under test (never part of the product): it lets a test see the
// server threads and end one, as `kill -9` ends a worker process. In the main thread it wraps
// worker_threads.Worker to keep the live server threads (thread id and role) in the file VERDICT_TEST_THREADS
// names; on SIGUSR2 it reads `<file>.kill` ([{ id, how }]) and ends each thread named: "terminate" as the
// primary does (Worker.terminate), "throw" by an uncaught exception thrown inside the thread. Every server thread
// ever started is also appended to `<file>.started` (its role, one a line), ended or not.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { Worker, WorkerOptions } from 'node:worker_threads';

const threads = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
const file = process.env.VERDICT_TEST_THREADS;
const channelName = 'verdict-test-thread-control';

if (file && threads.isMainThread) {
  const live = new Map<number, { worker: Worker; role: string }>();
  const write = () => writeFileSync(file, JSON.stringify([...live].map(([id, t]) => ({ id, role: t.role }))));
  const channel = new threads.BroadcastChannel(channelName);
  channel.unref();
  class Tracked extends threads.Worker {
    constructor(filename: string | URL, options?: WorkerOptions) {
      super(filename, options);
      const role = (options?.workerData as { verdictMember?: { role: string } } | undefined)?.verdictMember?.role;
      if (!role) return;
      const id = this.threadId;
      live.set(id, { worker: this, role });
      appendFileSync(`${file}.started`, `${role}\n`);
      write();
      this.once('exit', () => {
        live.delete(id);
        write();
      });
    }
  }
  (threads as { Worker: typeof threads.Worker }).Worker = Tracked;
  syncBuiltinESMExports();
  process.on('SIGUSR2', () => {
    for (const { id, how } of JSON.parse(readFileSync(`${file}.kill`, 'utf8')) as { id: number; how: 'terminate' | 'throw' }[]) {
      if (how === 'terminate') void live.get(id)?.worker.terminate();
      else channel.postMessage({ throwIn: id });
    }
  });
} else if (file) {
  const channel = new threads.BroadcastChannel(channelName);
  channel.unref();
  channel.onmessage = (event) => {
    if ((event as unknown as { data: { throwIn: number } }).data.throwIn !== threads.threadId) return;
    setImmediate(() => {
      throw new Error('thrown by the test in this server thread');
    });
  };
}
