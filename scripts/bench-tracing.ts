// CPU cost of distributed tracing per request, measured in one process so that the load of a shared machine
// does not decide the figure: the tracer of src/tracing/otel.ts handles what the server does for each REST
// decision (the request's server span or unsampled trace, the decision span and its attributes, the span ended
// when the response closes), exporting over OTLP/HTTP to a sink in a child process (its CPU is not counted).
// Prints, per sampling percentage, the event-loop thread's CPU time per request (Linux /proc/thread-self/
// schedstat) and the process's other threads' (the export thread's OTLP encoding and sending, and V8's GC and
// compiler helpers) per request, the export flushed at the end.
// Compare with bench:http's "CPU µs/dec" of "verdict off" to see the share of a decision's cost.
//   npm run bench:tracing [-- --sampling 0,1,100 --requests 50000 --rounds 3]
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { tracingSettings } from '../src/tracing/config.js';
import { createTracing } from '../src/tracing/otel.js';
import { callingThreadCpuNs, processCpuSeconds } from './process-tree.js';

if (process.argv[2] === '--sink') {
  // The collector: accepts every export, keeps idle connections as collectors do.
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  sink.keepAliveTimeout = 120_000;
  sink.listen(0, '127.0.0.1', () => process.send!((sink.address() as AddressInfo).port));
} else {
  await main();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sampling: { type: 'string', default: '0,1,100' }, requests: { type: 'string', default: '50000' }, rounds: { type: 'string', default: '3' } } });
  const percentages = values.sampling!.split(',').map(Number);
  const requests = Number(values.requests);
  const rounds = Number(values.rounds);
  const sink = fork(new URL(import.meta.url).pathname, ['--sink'], { stdio: 'ignore' });
  const port = await new Promise<number>((resolve) => sink.once('message', (m) => resolve(m as number)));
  const threadCpu = () => callingThreadCpuNs() / 1e9;
  // 'off' runs the same requests without a tracer: what the harness itself costs, subtracted from the others.
  const rows: (number | 'off')[] = ['off', ...percentages];
  const results = new Map(rows.map((row) => [row, { main: [] as number[], others: [] as number[] }]));

  for (let round = 0; round < rounds; round++) {
    for (const row of round % 2 ? [...rows].reverse() : rows) {
      // OPA's batch settings, with a queue that holds a whole run: every span is exported and its cost counted.
      const batch = { max_queue_size: 4 * requests };
      const settings = row === 'off' ? undefined : tracingSettings({ type: 'http', address: `127.0.0.1:${port}`, sample_percentage: row, batch_span_processor_options: batch })!;
      const registry = new Registry();
      const tracing = settings && createTracing(settings, registry, pino({ level: 'silent' }));
      // What the request listener (src/server/app.ts) and decide (src/server/decisions.ts) ask of the tracer for
      // a decision whose event is not recorded (the decision log off, as in bench:http's tracing rows).
      const decide = () => {
        if (!tracing) return;
        tracing.within(tracing.current()!, () =>
          tracing.span('decision', 'internal', () => ({ 'opa.path': 'gateway/authz/allow' }), (span) => span?.setAttributes({ 'opa.decision.defined': true, 'opa.decision.result': true })),
        );
      };
      const one = () => {
        const req = { headers: { host: '127.0.0.1', 'content-type': 'application/json' }, method: 'POST', url: '/v1/data/gateway/authz/allow' } as unknown as IncomingMessage;
        const res = Object.assign(new EventEmitter(), { statusCode: 200 }) as unknown as ServerResponse;
        const describe = () => ({ name: 'POST v1/data', attributes: { 'http.request.method': 'POST', 'http.route': 'v1/data', 'url.path': req.url } });
        if (tracing) tracing.serve(req, res, describe, decide);
        else decide();
        res.emit('finish');
        res.emit('close');
      };
      // Requests in slices with the event loop turning between them, as in a server, so batches are handed over.
      const run = async (count: number) => {
        for (let done = 0; done < count; done += 500) {
          for (let i = 0; i < Math.min(500, count - done); i++) one();
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      await run(requests / 4); // warm-up
      // Past the batch delay: the export thread has started and sent the warm-up's spans, and is idle.
      await new Promise((resolve) => setTimeout(resolve, (settings?.batch.scheduledDelayMillis ?? 0) + 1000));
      const [main0, all0] = [threadCpu(), processCpuSeconds(process.pid)!];
      await run(requests);
      const main1 = threadCpu();
      // The spans still queued are exported: the export's cost is counted, the event loop's fixed cost of stopping is not.
      await tracing?.shutdown();
      const [main2, all2] = [threadCpu(), processCpuSeconds(process.pid)!];
      results.get(row)!.main.push((main1 - main0) / requests);
      results.get(row)!.others.push(Math.max(0, all2 - all0 - (main2 - main0)) / requests);
      const dropped = /^verdict_tracing_spans_dropped_total (\d+)/m.exec(await registry.metrics())?.[1];
      if (tracing && dropped !== '0') throw new Error(`${dropped} spans were dropped: the export queue is too small for this run`);
    }
  }
  sink.kill();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const harness = results.get('off')!;
  console.log(`tracing cost per REST decision request (decision log off): ${requests} requests per round, ${rounds} round(s) (order reversed every round), medians; OTLP/HTTP to a loopback sink process`);
  console.log(`harness alone (no tracer): event loop ${(median(harness.main) * 1e6).toFixed(2)} µs/req, other threads ${(median(harness.others) * 1e6).toFixed(2)} µs/req; subtracted below`);
  console.log(`${'sampling'.padEnd(9)} ${'event loop µs/req'.padStart(18)} ${'other threads µs/req'.padStart(21)}`);
  for (const percentage of percentages) {
    const r = results.get(percentage)!;
    const main = (median(r.main) - median(harness.main)) * 1e6;
    const others = (median(r.others) - median(harness.others)) * 1e6;
    console.log(`${`${percentage} %`.padEnd(9)} ${main.toFixed(2).padStart(18)} ${others.toFixed(2).padStart(21)}`);
  }
}
