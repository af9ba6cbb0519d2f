// Upload throughput of the decision log: N events (the gateway input of rego/gateway, ≈1.4 KB each, distinct
// ids and times) committed to a fresh store, then shipped by the uploader to a collector process on loopback in
// OPA's protocol (gzipped JSON arrays under upload_size_limit_bytes). Prints events/s against the 20,000 target.
//   npm run bench:decisionlog:upload [-- --events 200000 --limit 32768 --rounds 1]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ServiceClient } from '../src/bundle/service.js';
import { DecisionLogStore } from '../src/decisionlog/store.js';
import { DecisionLogUploader } from '../src/decisionlog/upload.js';
import { formatTimestamp, newDecisionId, nowNs } from '../src/decisionlog/event.js';
import { startBenchCollector } from './bench-collector.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    limit: { type: 'string', default: '32768' },
    rounds: { type: 'string', default: '1' },
  },
});
const total = Number(values.events);
const limit = Number(values.limit);
const target = 20_000;
const input = JSON.parse(readFileSync('rego/gateway/input.json', 'utf8')) as Record<string, unknown>;

const collector = await startBenchCollector();
const work = mkdtempSync(join(tmpdir(), 'verdict-bench-upload-'));
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    const store = new DecisionLogStore({ file: join(work, `d-${round}.db`), queueLimit: 50_000 });
    const start = nowNs();
    for (let i = 0; i < total; i++) {
      await store.record({
        labels: { id: 'bench-instance', version: '0.1.0' },
        decision_id: newDecisionId(),
        path: 'gateway/authz/allow',
        input: { ...input, request_number: i },
        result: i % 5 !== 0,
        timestamp: formatTimestamp(start + BigInt(i) * 1000n),
        metrics: { timer_server_handler_ns: 100_000 + (i % 977) },
        req_id: i,
      });
    }
    await store.flush();
    const uploader = new DecisionLogUploader(store, { service: new ServiceClient({ name: 'collector', url: collector.url }), uploadSizeLimitBytes: limit });
    const began = performance.now();
    const shipped = await uploader.uploadPending();
    const seconds = (performance.now() - began) / 1000;
    const { chunks_shipped: chunks } = uploader.status();
    const rate = shipped / seconds;
    console.log(
      `round ${round}: ${shipped} events in ${seconds.toFixed(2)} s = ${rate.toFixed(0)} events/s, ${chunks} requests (${(shipped / chunks).toFixed(0)} events each, limit ${limit} B gzip) — target ${target}: ${rate >= target ? 'met' : 'NOT met'}`,
    );
    await store.close();
  }
} finally {
  collector.stop();
  rmSync(work, { recursive: true, force: true });
}
