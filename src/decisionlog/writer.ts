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
  /** Whether the thread was idle at its last reply (writer-worker.ts WriterReply). */
  idle = true;
  private readonly commitListeners: (() => void)[] = [];
  private closed = false;

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
    return this.send(endpoint, request, transfer);
  }

  private send(endpoint: Endpoint, request: Request, transfer?: readonly TransferListItem[]): Promise<unknown> {
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

  /**
   * Calls `listener` after each commit of decisions by the thread: on a shared writer, every store's, not only
   * this one's. The thread is asked for its notices now (attaching to it if need be) and again whenever it is
   * attached anew, after it died or its port closed.
   */
  onCommit(listener: () => void): void {
    this.commitListeners.push(listener);
    if (this.commitListeners.length > 1) return;
    if (this.endpoint) this.watch(this.endpoint);
    else this.watchAgain();
  }

  async close(): Promise<void> {
    this.closed = true;
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
      this.idle = reply.idle;
      // Id 0: a commit notice (WriterReply), not the answer to a request.
      if (reply.id === 0) return this.committed();
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
    if (this.commitListeners.length > 0) this.watch(endpoint);
    return endpoint;
  }

  /**
   * Asks the thread behind `endpoint` for commit notices. Once it has, the listeners are called: commits made
   * while none was asked for (the writer thread was being started anew) went unheard. It fails only if the thread
   * is gone: detach tries again.
   */
  private watch(endpoint: Endpoint): void {
    this.send(endpoint, { type: 'watch' }).then(
      () => this.committed(),
      () => undefined,
    );
  }

  private committed(): void {
    for (const listener of this.commitListeners) listener();
  }

  /**
   * Attaches to a thread, which asks it for notices, or tries again in a second: a shared writer's new port comes
   * from the thread that owns it (shared-writer.ts), so the first tries may find none, and a thread that dies as
   * it starts is not started again at once.
   */
  private watchAgain(): void {
    if (this.closed || this.endpoint) return;
    try {
      this.attach();
    } catch {
      this.watchLater();
    }
  }

  private watchLater(): void {
    if (!this.closed) setTimeout(() => this.watchAgain(), 1_000).unref();
  }

  private detach(endpoint: Endpoint, error: Error): void {
    if (this.endpoint !== endpoint) return;
    this.endpoint = undefined;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    this.source.lost?.(endpoint);
    if (this.commitListeners.length > 0) this.watchLater();
  }
}
