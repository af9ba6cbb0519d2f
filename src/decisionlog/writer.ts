// The store's side of the writer thread: starts it, sends it requests and matches up the replies.
// If the thread dies, pending requests fail and the next request starts a new one.
import { Worker } from 'node:worker_threads';
import type { WriterReply, WriterRequest, WriterSettings } from './writer-worker.js';
import type { WriterBatch } from './writer-batch.js';

type Request = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class WriterThread {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  /** Rows deleted by retention so far, as last reported by the thread. */
  pruned = 0;

  constructor(private readonly settings: WriterSettings) {}

  call(request: Request): Promise<unknown> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive only while the thread owes us an answer.
      worker.ref();
      // A batch's buffers are shared, not copied or transferred: the store keeps them to send again on failure.
      worker.postMessage({ ...request, id });
    });
  }

  /** Inserts the batch's rows in one transaction; resolves once committed. */
  write(batch: WriterBatch): Promise<unknown> {
    return this.call({ type: 'write', batch });
  }

  async close(): Promise<void> {
    if (!this.worker) return;
    const worker = this.worker;
    await this.call({ type: 'close' }).catch(() => undefined);
    await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: this.settings });
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      this.pruned = reply.pruned;
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (!waiting) return;
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(Object.assign(new Error(reply.error.message), { code: reply.error.sqlite_code }));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`decision log writer thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
