// What sharing one database file costs the decision log's writers, in default durability: CPU per event of two
// processes recording to one file, of two processes with a file each, and of one process at their combined rate,
// all run at the same time (so under the same machine load), each at a fixed rate of events per second. An event
// is the gateway benchmark's decision as the server records it (src/server/decisions.ts). The figures are CPU time
// per event on the event-loop thread and on the process's other threads (the writer thread above all), read from
// Linux's /proc/thread-self/task/*/schedstat.
//   npm run bench:shared-file -- [--rate 1500] [--duration 8] [--flush-delay-ms 100]
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { recordDecision } from '../src/server/decisions.js';
import { DecisionLogger } from '../src/decisionlog/logger.js';
import { DecisionLogStore } from '../src/decisionlog/store.js';
import type { ServerContext } from '../src/server/context.js';
import { threadsCpuNs } from './process-tree.js';

interface Figures {
  events: number;
  loopNs: number;
  otherNs: number;
}

const self = fileURLToPath(import.meta.url);
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: 'string', default: '1500' },
    duration: { type: 'string', default: '8' },
    'flush-delay-ms': { type: 'string', default: '100' },
  },
});

/** One recording process: `rate` events per second for the duration, after 4 s of warm-up. */
async function record(file: string, rate: number, seconds: number, flushDelayMs: number): Promise<Figures> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const input = (JSON.parse(readFileSync(join(root, 'rego/gateway/input.json'), 'utf8')) as { input: unknown }).input;
  const inputText = new TextEncoder().encode(JSON.stringify(input));
  const store = new DecisionLogStore({ file, flushDelayMs });
  const logger = new DecisionLogger(store);
  const ctx = {
    onDecision: (event: Parameters<typeof logger.log>[0], hints: Parameters<typeof logger.log>[1]) => void logger.log(event, hints),
    labels: Object.freeze({ id: 'bench-instance-0001', version: '0.1.0' }),
    engine: { bundles: [{ name: 'bench', manifest: { revision: 'bench' } }] },
  } as unknown as ServerContext;
  let made = 0;
  const recordOne = () =>
    recordDecision(ctx, {
      path: ['gateway', 'authz', 'allow'],
      input,
      inputText,
      evaluated: { defined: true, result: made % 10 !== 0, metrics: { timer_rego_query_eval_ns: 41000 + (made % 977), timer_server_handler_ns: 60000 + (made % 89) } },
      requestedBy: '127.0.0.1:54321',
      reqId: ++made,
    });
  const warmupMs = 4000;
  const started = performance.now();
  let before: Map<string, number> | undefined;
  let madeBefore = 0;
  // Every 10 ms, the events due by then: a steady rate, as a server's requests arrive.
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - started;
      const due = Math.floor((elapsed / 1000) * rate);
      while (made < due) recordOne();
      if (!before && elapsed >= warmupMs) {
        before = threadsCpuNs('self');
        madeBefore = made;
      }
      if (elapsed >= warmupMs + seconds * 1000) {
        clearInterval(tick);
        done();
      }
    }, 10);
  });
  await store.flush();
  const after = threadsCpuNs('self');
  await store.close();
  let loopNs = 0;
  let otherNs = 0;
  for (const [tid, ns] of after) {
    const used = ns - (before!.get(tid) ?? 0);
    if (Number(tid) === process.pid) loopNs += used;
    else otherNs += used;
  }
  return { events: made - madeBefore, loopNs, otherNs };
}

if (positionals[0] === 'child') {
  const [, file, rate] = positionals;
  const figures = await record(file, Number(rate), Number(values.duration), Number(values['flush-delay-ms']));
  process.send!(figures, () => process.exit(0));
} else {
  const rate = Number(values.rate);
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-shared-file-'));
  const run = (file: string, eventsPerSecond: number) =>
    new Promise<Figures>((resolve, reject) => {
      const child = fork(self, ['child', join(dir, file), String(eventsPerSecond), '--duration', values.duration!, '--flush-delay-ms', values['flush-delay-ms']!]);
      child.once('message', (figures) => resolve(figures as Figures));
      child.once('exit', (code) => code !== 0 && reject(new Error(`recording process exited with ${code}`)));
    });
  try {
    const [shared1, shared2, own1, own2, single] = await Promise.all([run('shared.db', rate), run('shared.db', rate), run('own-1.db', rate), run('own-2.db', rate), run('single.db', 2 * rate)]);
    const perEvent = (name: string, ...figures: Figures[]) => {
      const events = figures.reduce((n, f) => n + f.events, 0);
      const us = (ns: number) => (ns / 1000 / events).toFixed(1).padStart(6);
      console.log(`${name.padEnd(38)} ${us(figures.reduce((n, f) => n + f.loopNs, 0))} ${us(figures.reduce((n, f) => n + f.otherNs, 0))}   ${events}`);
    };
    console.log(`Decision-log CPU µs per event, default durability, flush delay ${values['flush-delay-ms']} ms, ${values.duration} s, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log(`${''.padEnd(38)} ${'loop'.padStart(6)} ${'others'.padStart(6)}   events`);
    perEvent(`2 processes x ${rate}/s, one shared file`, shared1, shared2);
    perEvent(`2 processes x ${rate}/s, a file each`, own1, own2);
    perEvent(`1 process x ${2 * rate}/s`, single);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
