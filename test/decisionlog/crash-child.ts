// Child process for crash.test.ts: logs decisions as fast as it can with 64 in flight and prints each
// decision id once record() has resolved — the moment a server would send its response.
import { DecisionLogStore, type Durability } from '../../src/decisionlog/store.js';
import { sampleEvent } from './helpers.js';

const [file, durability, queueLimit] = process.argv.slice(2);
const store = new DecisionLogStore({ file, durability: durability as Durability, queueLimit: Number(queueLimit) });
let n = 0;
async function client(): Promise<never> {
  for (;;) {
    const event = sampleEvent({ decision_id: `crash-${process.pid}-${n++}` });
    await store.record(event);
    process.stdout.write(event.decision_id + '\n'); // synchronous for pipes on Linux
  }
}
await Promise.all(Array.from({ length: 64 }, client));
