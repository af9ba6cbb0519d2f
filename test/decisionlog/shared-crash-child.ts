// Child process for shared-writer.test.ts: a server's layout in one process, one shared writer in sync mode
// and two threads logging through it, each printing the decisions it has had acknowledged, until killed.
import { Worker } from 'node:worker_threads';
import { SharedDecisionWriter, writerHandleTransfer } from '../../src/decisionlog/shared-writer.js';

const writer = new SharedDecisionWriter({ file: process.argv[2], durability: 'sync' });
for (const name of ['a', 'b']) {
  const handle = writer.handle();
  new Worker(new URL('./shared-writer-thread.js', import.meta.url), { workerData: { handle, name, ackToStdout: true }, transferList: writerHandleTransfer(handle) });
}
