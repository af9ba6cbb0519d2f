// One writer thread for a whole server whose workers are threads of one process. The thread that owns the server
// (the main thread) opens it and hands each server thread a handle: a MessagePort to the writer for its store's
// batches, and a control port back to the owner, through which the store asks for a new port if the writer
// thread dies (the owner starts another). Every store then sends its batches straight to the writer, which commits
// what arrives together in one transaction (one fsync in sync mode): one WAL writer instead of one per worker, and
// no contention for SQLite's write lock.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { DecisionLogError } from './errors.js';
import { defaultDatabaseFile, openDecisionDatabase } from './open.js';
import type { TailIndexing } from './indexing.js';
import { Retention, type RetentionOptions } from './retention.js';
import { WriterThread, type WriterSource } from './writer.js';
import type { Durability } from './store.js';

/**
 * What a server thread needs to log through the shared writer. Pass it in workerData with
 * `transferList: writerHandleTransfer(handle)`, then give it to the thread's store (`DecisionLogStoreOptions.writer`).
 */
export interface DecisionWriterHandle {
  file: string;
  durability: Durability;
  /** The store's requests to the writer thread. */
  port: MessagePort;
  /** To the owner of the writer: "the writer is gone, give me a port to a new one". */
  control: MessagePort;
  /** Bumped after each batch posted, waking the writer if it waits for a group (WriterSettings.posted). */
  posted: Int32Array;
}

/** The ports a handle moves to its thread with (postMessage's or new Worker's transferList). */
export function writerHandleTransfer(handle: DecisionWriterHandle): MessagePort[] {
  return [handle.port, handle.control];
}

export interface SharedDecisionWriterOptions {
  file?: string;
  durability?: Durability;
  /** Retention runs in the writer thread, once for the whole server. */
  retention?: RetentionOptions;
  indexing?: TailIndexing;
  /** See WriterSettings.groupWaitMs. */
  groupWaitMs?: number;
  /** See WriterSettings.walCheckpointBytes. */
  walCheckpointBytes?: number;
}

/** Sent on a control port: by a store, asking for a new port; by the owner, answering with one. */
type ControlMessage = { type: 'reconnect' } | { type: 'port'; port: MessagePort };

export class SharedDecisionWriter {
  readonly file: string;
  readonly durability: Durability;
  private readonly writer: WriterThread;
  private readonly controls = new Set<MessagePort>();
  private closed = false;
  /** Writer threads started after the first one died. */
  restarts = 0;
  private started = false;
  private readonly posted = new Int32Array(new SharedArrayBuffer(4));

  /**
   * Opens (creating if needed) the database now, so a corrupt, locked or incompatible file fails here with a typed
   * DecisionLogError, before any server thread starts. The writer thread starts with the first handle.
   */
  constructor(options: SharedDecisionWriterOptions = {}) {
    this.file = options.file ?? defaultDatabaseFile;
    this.durability = options.durability ?? 'default';
    if (options.retention) Retention.check(options.retention);
    openDecisionDatabase(this.file).close();
    const settings = {
      file: this.file,
      synchronous: this.durability === 'sync' ? 'FULL' : 'NORMAL',
      ...(options.retention ? { retention: options.retention } : {}),
      ...(options.indexing ? { indexing: options.indexing } : {}),
      ...(options.groupWaitMs !== undefined ? { groupWaitMs: options.groupWaitMs } : {}),
      ...(options.walCheckpointBytes !== undefined ? { walCheckpointBytes: options.walCheckpointBytes } : {}),
      posted: this.posted,
    } as const;
    this.writer = WriterThread.own(settings);
  }

  /** A new handle for one server thread (each thread needs its own). */
  handle(): DecisionWriterHandle {
    if (this.closed) throw new DecisionLogError('store_closed', 'decision log writer is closed');
    const control = new MessageChannel();
    this.controls.add(control.port1);
    control.port1.on('message', (message: ControlMessage) => {
      if (message.type !== 'reconnect' || this.closed) return;
      const port = this.connect();
      control.port1.postMessage({ type: 'port', port } satisfies ControlMessage, [port]);
    });
    control.port1.on('close', () => this.controls.delete(control.port1));
    // The server's own handles keep the process alive; a store waiting for its writer does not.
    control.port1.unref();
    return { file: this.file, durability: this.durability, port: this.connect(), control: control.port2, posted: this.posted };
  }

  /** Runs a retention pass now; resolves to the rows deleted. */
  async prune(): Promise<number> {
    return (await this.writer.call({ type: 'prune' })) as number;
  }

  /** Commits what the writer holds, indexes the tail and closes the database. Close the stores first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const control of this.controls) control.close();
    this.controls.clear();
    await this.writer.close();
  }

  /** A port to the writer thread (started now if none runs): the writer serves what comes through its twin. */
  private connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    if (this.started && !this.writer.running) this.restarts++;
    this.started = true;
    // A port to a writer that could not start closes with it, and its store asks again on its next write.
    this.writer.call({ type: 'connect', port: port1 }, [port1]).catch(() => undefined);
    return port2;
  }
}

/** The store's side of a handle: the handle's port, then a new one from the owner each time the writer is gone. */
export function sharedWriterSource(handle: DecisionWriterHandle): WriterSource {
  let next: MessagePort | undefined = handle.port;
  let asked = false;
  handle.control.on('message', (message: ControlMessage) => {
    if (message.type !== 'port') return;
    next = message.port;
    asked = false;
  });
  handle.control.unref();
  return {
    posted: handle.posted,
    open: () => {
      const port = next;
      if (port) {
        next = undefined;
        return port;
      }
      if (!asked) {
        asked = true;
        handle.control.postMessage({ type: 'reconnect' } satisfies ControlMessage);
      }
      throw new Error('decision log writer thread is gone; waiting for the server to start a new one');
    },
    close: async (endpoint) => {
      (endpoint as MessagePort | undefined)?.close();
      next?.close();
      handle.control.close();
    },
  };
}
