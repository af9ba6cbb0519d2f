// A worker thread of the shared-data tests: an engine on the shared memory of workerData.handle, driven by
// messages from the test (activate a version, evaluate in a loop, report the memory).
import { parentPort, workerData } from 'node:worker_threads';
import type { SharedDataHandle } from '../../src/engine/shared-data.js';
import { bundleOf, engineOn, summary } from './shared-data-fixture.js';

type Command = { id: number } & ({ do: 'activate'; version: number } | { do: 'evaluate'; times: number } | { do: 'memory' } | { do: 'exit' });

const engine = engineOn((workerData as { handle: SharedDataHandle }).handle);

parentPort!.on('message', async (command: Command) => {
  try {
    parentPort!.postMessage({ id: command.id, answer: await run(command) });
  } catch (err) {
    parentPort!.postMessage({ id: command.id, error: String((err as Error).stack ?? err) });
  }
});

async function run(command: Command): Promise<unknown> {
  switch (command.do) {
    case 'activate': {
      await engine.activate([bundleOf(command.version)]);
      return { lastDataLoad: engine.lastDataLoad };
    }
    case 'evaluate': {
      // Synchronous evaluations back to back: what another thread does meanwhile happens between or during them.
      const seen: string[] = [];
      for (let i = 0; i < command.times; i++) {
        const text = JSON.stringify((engine.evaluate(['t', 'summary'], undefined) as { result?: unknown }).result);
        if (seen[seen.length - 1] !== text) seen.push(text);
      }
      return { seen, now: await summary(engine) };
    }
    case 'memory':
      return { byteLength: engine.sharedData!.byteLength, areas: engine.sharedData!.areas() };
    case 'exit':
      setImmediate(() => process.exit(0));
      return {};
  }
}
