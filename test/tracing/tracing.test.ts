// distributed_tracing: what the config accepts and refuses, and that a collector that is down costs decisions
// nothing: spans beyond the bounded export queue are dropped and counted, every request is answered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { tracingSettings } from '../../src/tracing/config.js';
import { activeTracing } from '../../src/tracing/index.js';
import type { RunningServer } from '../../src/server/start.js';
import type { DecisionEvent } from '../../src/decisionlog/event.js';
import { startVerdict, writeTree } from '../server/harness.js';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';

describe('distributed_tracing settings', () => {
  test('OPA\'s keys become the exporter\'s settings, with OPA\'s defaults', () => {
    assert.equal(tracingSettings(undefined), undefined);
    const grpc = tracingSettings({ type: 'grpc' })!;
    assert.equal(grpc.url, 'http://localhost:4317');
    assert.equal(grpc.serviceName, 'opa');
    assert.equal(grpc.sampleRatio, 1);
    assert.deepEqual(grpc.batch, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000 });
    const http = tracingSettings({
      type: 'http', address: 'collector:4318', service_name: 'pdp', sample_percentage: 1, encryption: 'tls', allow_insecure_tls: true,
      resource: { service_version: '1.2', deployment_environment: 'prod' }, batch_span_processor_options: { max_queue_size: 10, max_export_batch_size: 5 },
    })!;
    assert.equal(http.url, 'https://collector:4318/v1/traces');
    assert.equal(http.sampleRatio, 0.01);
    assert.equal(http.tls?.rejectUnauthorized, false);
    assert.deepEqual(http.resource, { 'service.version': '1.2', 'deployment.environment': 'prod' });
    assert.equal(http.batch.maxQueueSize, 10);
  });

  test('values that cannot work are refused naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-tracing-'));
    writeFileSync(join(dir, 'ca.pem'), 'x');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /distributed_tracing\.type: must be "grpc" or "http"/],
      [{ type: 'zipkin' }, /distributed_tracing\.type: must be "grpc" or "http"/],
      [{ type: 'grpc', encryption: 'on' }, /distributed_tracing\.encryption: must be off, tls or mtls/],
      [{ type: 'grpc', tls_ca_cert_file: join(dir, 'ca.pem') }, /distributed_tracing\.tls_ca_cert_file: applies only with encryption tls or mtls/],
      [{ type: 'grpc', encryption: 'tls', tls_cert_file: join(dir, 'ca.pem') }, /distributed_tracing\.tls_cert_file: a client certificate needs encryption mtls/],
      [{ type: 'grpc', encryption: 'mtls' }, /distributed_tracing\.tls_cert_file: encryption mtls needs/],
      [{ type: 'grpc', encryption: 'tls', tls_ca_cert_file: join(dir, 'missing.pem') }, /distributed_tracing\.tls_ca_cert_file: cannot read/],
      [{ type: 'grpc', address: 'http://collector:4317' }, /distributed_tracing\.address: must be host:port/],
      [{ type: 'grpc', sample_percentage: 150 }, /distributed_tracing\.sample_percentage: must be between 0 and 100/],
      [{ type: 'grpc', batch_span_processor_options: { max_queue_size: 4, max_export_batch_size: 8 } }, /max_export_batch_size: must be between 1 and max_queue_size/],
    ];
    for (const [section, message] of cases) assert.throws(() => tracingSettings(section), (err: unknown) => err instanceof ConfigError && message.test(err.message), message.source);
  });

  test('a blocking batch processor and unknown resource keys are refused when the config is read', () => {
    assert.throws(() => parseConfig(JSON.stringify({ distributed_tracing: { type: 'grpc', batch_span_processor_options: { blocking: true } } }), 'c.json'), /distributed_tracing\.batch_span_processor_options: .*blocking: true is refused/);
    assert.throws(() => parseConfig(JSON.stringify({ distributed_tracing: { type: 'grpc', resource: { region: 'eu' } } }), 'c.json'), /unknown key "region"/);
  });
});

describe('sampling: a caller\'s sampled flag is followed, new traces are drawn at sample_percentage', () => {
  let verdict: RunningServer;
  const events: DecisionEvent[] = [];
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const seen: IncomingHttpHeaders[] = [];
  const target = createHttpServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });

  before(async () => {
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
    const bundle = writeTree({
      'x.rego': 'package x\nallow if input.user == "alice"\n',
      'y.rego': `package y\nallow if http.send({"method": "GET", "url": "${url}"}).status_code == 200\n`,
    });
    // Nothing listens on the collector's port: exports fail and are counted, decisions are unaffected.
    verdict = await startVerdict('distributed_tracing:\n  type: http\n  address: 127.0.0.1:9\n  sample_percentage: 0\n  batch_span_processor_options: { export_timeout_ms: 500 }\n', [bundle], (e) => events.push(e));
  });

  after(async () => {
    await verdict?.close();
    target.close();
  });

  const decide = (headers: Record<string, string>, path = 'x/allow') =>
    fetch(`${verdict.url}/v1/data/${path}`, { method: 'POST', headers, body: JSON.stringify({ input: { user: 'alice' } }) }).then(async (r) => {
      assert.equal(r.status, 200);
      const body = (await r.json()) as { result: boolean; decision_id: string };
      assert.equal(body.result, true);
      const event = events.at(-1)!;
      assert.equal(event.decision_id, body.decision_id);
      return event;
    });

  test('at 0 %, a request that starts no trace gets the ids of a new unsampled trace, as in OPA', async () => {
    const first = await decide({});
    const second = await decide({});
    for (const event of [first, second]) {
      assert.match(event.trace_id ?? '', /^[0-9a-f]{32}$/);
      assert.match(event.span_id ?? '', /^[0-9a-f]{16}$/);
      assert.equal(typeof event.req_id, 'number');
    }
    assert.notEqual(first.trace_id, second.trace_id);
  });

  test('at 0 %, http.send passes the unsampled trace of a request that starts none on, sampled flag off', async () => {
    const event = await decide({}, 'y/allow');
    assert.equal(seen.length, 1);
    assert.equal(seen[0].traceparent, `00-${event.trace_id}-${event.span_id}-00`);
  });

  test('at 0 %, a caller\'s trace is continued (W3C sampled, W3C not sampled, B3)', async () => {
    for (const flags of ['01', '00']) {
      const event = await decide({ traceparent: `00-${traceId}-00f067aa0ba902b7-${flags}` });
      assert.equal(event.trace_id, traceId, `flags ${flags}`);
      assert.match(event.span_id ?? '', /^[0-9a-f]{16}$/);
      assert.notEqual(event.span_id, '00f067aa0ba902b7', 'the decision\'s own span');
    }
    const b3 = await decide({ b3: `${traceId}-00f067aa0ba902b7-1` });
    assert.equal(b3.trace_id, traceId);
  });
});

describe('a collector that accepts connections and never answers', () => {
  let verdict: RunningServer;
  let collector: Server;
  const sockets: Socket[] = [];

  before(async () => {
    collector = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const hanging = (collector.address() as AddressInfo).port;
    const bundle = writeTree({ 'x.rego': 'package x\ndefault allow := false\nallow if input.user == "alice"\n' });
    verdict = await startVerdict(
      `
distributed_tracing:
  type: grpc
  address: 127.0.0.1:${hanging}
  batch_span_processor_options: { max_queue_size: 4, max_export_batch_size: 2, batch_timeout_ms: 50, export_timeout_ms: 1000 }
`,
      [bundle],
    );
  });

  after(async () => {
    await verdict?.close();
    for (const socket of sockets) socket.destroy();
    collector?.close();
    assert.equal(activeTracing(), undefined, 'stopping the server stops its tracer');
  });

  test('every decision is answered; spans beyond the queue are dropped and counted', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${verdict.url}/v1/data/x/allow`, { method: 'POST', body: JSON.stringify({ input: { user: i % 2 ? 'alice' : 'bob' } }) }).then(async (r) => [r.status, await r.json()] as const),
      ),
    );
    for (const [i, [status, body]] of answers.entries()) {
      assert.equal(status, 200);
      assert.deepEqual(body, { result: i % 2 === 1 });
    }
    const metrics = await (await fetch(`${verdict.url}/metrics`)).text();
    const dropped = Number(/^verdict_tracing_spans_dropped_total (\d+)/m.exec(metrics)?.[1]);
    assert.ok(dropped > 0, `dropped spans counted: ${dropped}`);
    assert.ok(dropped <= 400, 'at most every span of the 200 requests');
  });
});
