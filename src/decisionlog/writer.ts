// The store's side of the writer thread: sends it requests and matches up the replies. The thread is either the
// store's own (started on first use, started again after it dies) or one shared by the threads of a server and
// reached through a MessagePort (shared-writer.ts). If the thread dies, pending requests fail; a store's own
// thread is started again by the next request, a shared one by the thread that owns it.
import { Worker, type MessagePort, type TransferListItem } from 'node:worker_threads';
import type { WriterReply, WriterRequest, WriterSettings } from './writer-worker.js';
import type { WriterBatch } from './writer-batch.js';

export type Request = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** What requests go through: a Worker's own channel or a MessagePort (the same methods, other end events). */
type Endpoint = Worker | MessagePort;

/** Where the writer is: `open` returns an endpoint to it, or throws while there is none to be had. */
export interface WriterSource {
  open(): Endpoint;
  /** Called when the endpoint stops answering (the thread exited, the port closed). */
  lost?(endpoint: Endpoint): void;
  /** Bumped after each batch posted (a shared writer's WriterSettings.posted). */
  posted?: Int32Array;
  /** Ends the store's use of the writer; `endpoint` is the one in use, if any. */
  close(endpoint: Endpoint | undefined, call: (request: Request) => Promise<unknown>): Promise<void>;
}

export class WriterThread {
  private endpoint?: Endpoint;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  /** Rows deleted by retention so far, as last reported by the thread. */
  pruned = 0;
  /** Transactions the thread has committed so far (for every store it serves), as last reported. */
  commits = 0;

  constructor(private readonly source: WriterSource) {}

  /** Whether a thread is attached (started and not known to be gone). */
  get running(): boolean {
    return this.endpoint !== undefined;
  }

  /** A writer thread of the store's own, started with these settings. */
  static own(settings: WriterSettings): WriterThread {
    return new WriterThread({
      open: () => new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: settings }),
      close: async (endpoint, call) => {
        if (!endpoint) return;
        await call({ type: 'close' }).catch(() => undefined);
        await (endpoint as Worker).terminate();
      },
    });
  }

  call(request: Request, transfer?: readonly TransferListItem[]): Promise<unknown> {
    let endpoint: Endpoint;
    try {
      endpoint = this.endpoint ?? this.attach();
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive only while the thread owes us an answer.
      endpoint.ref();
      // A batch's buffers are shared, not copied or transferred: the store keeps them to send again on failure.
      endpoint.postMessage({ ...request, id }, transfer);
    });
  }

  /** Inserts the batch's rows in one transaction; resolves once committed. */
  write(batch: WriterBatch): Promise<unknown> {
    const written = this.call({ type: 'write', batch });
    const posted = this.source.posted;
    if (posted) {
      Atomics.add(posted, 0, 1);
      Atomics.notify(posted, 0);
    }
    return written;
  }

  async close(): Promise<void> {
    const endpoint = this.endpoint;
    await this.source.close(endpoint, (request) => this.call(request));
    if (endpoint) this.detach(endpoint, new Error('decision log writer closed'));
  }

  private attach(): Endpoint {
    const endpoint = this.source.open();
    endpoint.unref();
    endpoint.on('message', (reply: WriterReply) => {
      this.pruned = reply.pruned;
      this.commits = reply.commits;
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) endpoint.unref();
      if (!waiting) return;
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(Object.assign(new Error(reply.error.message), { code: reply.error.sqlite_code }));
    });
    endpoint.on('error', (error: Error) => this.detach(endpoint, error));
    endpoint.on('exit', (code: number) => this.detach(endpoint, new Error(`decision log writer thread exited (code ${code})`)));
    endpoint.on('close', () => this.detach(endpoint, new Error('decision log writer thread is gone (its port closed)')));
    this.endpoint = endpoint;
    return endpoint;
  }

  private detach(endpoint: Endpoint, error: Error): void {
    if (this.endpoint !== endpoint) return;
    this.endpoint = undefined;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    this.source.lost?.(endpoint);
  }
}
