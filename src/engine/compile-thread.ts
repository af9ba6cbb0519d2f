// Compiling in a thread of its own that ends when idle. The primary of a multi-threaded server compiles for
// every server thread; holding the planner, the wasm back end and the garbage of a compile on its own thread
// for the life of the process cost about as much V8 heap as the primary needs for everything else. A thread
// is started on the first compile, serves the compiles that follow, and ends once none has come for a while;
// its modules and heap go with it. Compile results are kept by the caller's cache (compile-cache.ts), in
// memory and on disk, so an unchanged set of modules is not compiled again when the thread is gone.
import { Worker } from 'node:worker_threads';
import type { RegoModule } from '../bundle/bundle.js';
import { compileErrorFromWire, type WireCompileError } from './compile-error.js';
import type { CompiledPolicy, RegoCompiler } from './compiler.js';

/** How long the thread waits for another compile before it ends (a bundle and the policy writes around it). */
export const COMPILE_THREAD_IDLE_MS = 5000;

export interface CompileRequest {
  id: number;
  modules: RegoModule[];
  regoVersion: 0 | 1;
}

export interface CompileAnswer {
  id: number;
  result?: CompiledPolicy;
  error?: WireCompileError;
}

export class CompileThread implements RegoCompiler {
  private worker?: Worker;
  private readonly pending = new Map<number, { worker: Worker; resolve: (result: CompiledPolicy) => void; reject: (err: Error) => void }>();
  private nextId = 0;
  private idle?: NodeJS.Timeout;

  constructor(private readonly idleMs = COMPILE_THREAD_IDLE_MS) {}

  compile(modules: RegoModule[], { regoVersion }: { regoVersion: 0 | 1 }): Promise<CompiledPolicy> {
    clearTimeout(this.idle);
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      worker.postMessage({ id, modules, regoVersion } satisfies CompileRequest);
    });
  }

  /** True while a thread is running (for tests). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Compiles asked for and not answered yet. */
  get pendingCompiles(): number {
    return this.pending.size;
  }

  /** Ends the thread now (compiles not answered yet fail); resolves once it has ended. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.retire(worker);
    this.failAll(worker, new Error('the compile thread was closed before it answered'));
    await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./compile-worker.js', import.meta.url));
    worker.on('message', ({ id, result, error }: CompileAnswer) => {
      const waiting = this.pending.get(id);
      this.pending.delete(id);
      if (error) waiting?.reject(compileErrorFromWire(error));
      else waiting?.resolve(result!);
      if (this.pending.size === 0 && this.worker === worker) this.idle = setTimeout(() => this.retire(worker), this.idleMs).unref();
    });
    worker.on('error', (err) => this.failAll(worker, err));
    worker.on('exit', (code) => {
      this.retire(worker);
      this.failAll(worker, new Error(`the compile thread ended (exit code ${code}) before it answered`));
    });
    return worker;
  }

  /** Forgets the thread at once, so that a compile asked for while it is ending starts a new one. */
  private retire(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    clearTimeout(this.idle);
    void worker.terminate();
  }

  /** Fails the compiles sent to `worker`; those sent to a newer thread are still answered. */
  private failAll(worker: Worker, err: Error): void {
    for (const [id, waiting] of this.pending) {
      if (waiting.worker !== worker) continue;
      this.pending.delete(id);
      waiting.reject(err);
    }
  }
}
