// How the primary and its server threads reach each other: worker_threads, one process. The primary starts each
// thread on the thread entry module with its part (MemberData) in workerData; messages go by postMessage (the
// primary's own messages are plain values, the threads' are encoded by wire.ts), and the primary ends a thread
// with terminate(), the thread-model counterpart of SIGKILL.
import { parentPort, Worker, type MessagePort } from 'node:worker_threads';
import { SERVER_THREAD_YOUNG_GENERATION_MB } from '../../engine/memory-release.js';
import { isVerdictMessage, memberData, type MemberData, type PrimaryMessage, type WorkerMessage } from './protocol.js';
import { fromWire, toWire } from './wire.js';

/** The primary's side of one server thread. */
export interface MemberLink {
  /** Unique in the process for its lifetime (the thread id). */
  readonly id: number;
  send(message: PrimaryMessage): void;
  /** Ends the thread at once, wherever it is (its state is dropped; no shutdown runs). */
  kill(): void;
}

export interface MemberEvents {
  message(message: WorkerMessage): void;
  /** An uncaught exception ended the thread (exit follows). */
  error(err: Error): void;
  exit(code: number): void;
}

/** Starts a server thread; `transfer` lists the ports in `data` that move to it. */
export function startMember(data: MemberData, events: MemberEvents, transfer: MessagePort[] = []): MemberLink {
  const worker = new Worker(new URL('./thread.js', import.meta.url), {
    workerData: { verdictMember: data },
    transferList: transfer,
    resourceLimits: { maxYoungGenerationSizeMb: SERVER_THREAD_YOUNG_GENERATION_MB },
  });
  let alive = true;
  worker.on('message', (message: unknown) => {
    if (isVerdictMessage(message)) events.message(message as WorkerMessage);
  });
  worker.on('error', (err) => events.error(err));
  worker.on('exit', (code) => {
    alive = false;
    events.exit(code);
  });
  return {
    id: worker.threadId,
    send: (message) => {
      if (alive) worker.postMessage(message);
    },
    kill: () => void worker.terminate(),
  };
}

/** A server thread's side: its part, and its channel to the primary. */
export interface PrimaryLink {
  readonly data: MemberData;
  send(message: WorkerMessage): void;
  onMessage(receive: (message: PrimaryMessage) => void): void;
}

export function primaryLink(): PrimaryLink | undefined {
  const data = memberData();
  const port = parentPort;
  if (!data || !port) return undefined;
  return {
    data,
    send: (message) => port.postMessage(toWire(message)),
    onMessage: (receive) =>
      port.on('message', (message: unknown) => {
        if (isVerdictMessage(message)) receive(fromWire(message as PrimaryMessage));
      }),
  };
}
