// A server thread's part in shared-writer.test.ts and shared-crash-child.ts: a store on the handle it was given,
// driven by messages from the thread that started it. With `ackToStdout`, it records in a loop and writes each
// decision id to fd 1 once record() has resolved (the moment a server would answer), with a synchronous write
// from this thread, so a kill -9 of the process loses no id that was acknowledged.
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import type { DecisionWriterHandle } from '../../src/decisionlog/shared-writer.js';
import { sampleEvent } from './helpers.js';

const { handle, name, ackToStdout } = workerData as { handle: DecisionWriterHandle; name: string; ackToStdout?: boolean };
const store = new DecisionLogStore({ writer: handle, retryDelayMs: { initial: 10, max: 50 } });
const port = parentPort!;

/** Writes a line to fd 1 now, from this thread; the pipe is non-blocking, so a full one is waited on. */
function writeLine(line: string): void {
  const bytes = Buffer.from(line + '\n');
  for (;;) {
    try {
      writeSync(1, bytes);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

if (ackToStdout) {
  let n = 0;
  const client = async (): Promise<never> => {
    for (;;) {
      const event = sampleEvent({ decision_id: `${name}-${n++}` });
      await store.record(event);
      writeLine(event.decision_id);
    }
  };
  await Promise.all(Array.from({ length: 32 }, client));
}

type Command =
  | { cmd: 'record'; count: number; blob?: number }
  /** `perTick` events every `tickMs`, `ticks` times, as a server's steady traffic records them. */
  | { cmd: 'pace'; perTick: number; tickMs: number; ticks: number }
  | { cmd: 'pragma'; statement: string }
  | { cmd: 'flush' }
  | { cmd: 'status' }
  | { cmd: 'close' };

async function run(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'record': {
      const input = command.blob ? { blob: 'x'.repeat(command.blob) } : undefined;
      const results = [];
      for (let i = 0; i < command.count; i++) results.push(store.record(sampleEvent({ decision_id: `${name}-${i}`, ...(input ? { input } : {}) })));
      // In sync mode these settle once committed; in default mode once queued.
      return Promise.all(results);
    }
    case 'pace': {
      let n = 0;
      for (let tick = 0; tick < command.ticks; tick++) {
        for (let i = 0; i < command.perTick; i++) void store.record(sampleEvent({ decision_id: `${name}-${n++}` }));
        await new Promise((resolve) => setTimeout(resolve, command.tickMs));
      }
      return n;
    }
    case 'pragma':
      return store.writerPragma(command.statement);
    case 'flush':
      return store.flush();
    case 'status':
      return store.status();
    case 'close':
      return store.close();
  }
}

port.on('message', (command: Command) => {
  run(command).then(
    (value) => port.postMessage({ ok: true, value }),
    (error: unknown) => port.postMessage({ ok: false, error: String(error) }),
  );
});
