// One trace from a gateway to the decision, checked in a real Jaeger: a request carrying a known traceparent
// goes through a real nginx auth_request to Verdict's /v1/authz; the decision enriches its input from an HTTP
// PIP and calls http.send; the spans Verdict exports over OTLP gRPC form one trace with the expected parents,
// both outbound calls carry that trace, and the decision event names the same trace and the decision span.
// Then the headers the one HTTP client sends, checked against the spans: the parent on every hop, what becomes
// of a policy's own traceparent and tracestate, as OPA (1.22) sends them. Last, an OCI bundle pull, whose registry
// requests carry the download's span as every other service request does (OPA's registry client sends none).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { sendRequest } from '../../src/net/http-client.js';
import { writeBundleArchive } from '../../src/bundle/files.js';
import { tracedRoot } from '../../src/tracing/index.js';
import type { DecisionEvent } from '../../src/decisionlog/event.js';
import type { RunningServer } from '../../src/server/start.js';
import { startVerdict, writeTree } from '../server/harness.js';
import { nginxPeer, startNginx, type RunningNginx } from '../envoy/nginx.js';
import { jaegerPeer, startJaeger, type JaegerSpan, type RunningJaeger } from './jaeger.js';

const jaeger = jaegerPeer();
const nginx = nginxPeer();
const skip = jaeger.skip ?? nginx.skip;

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const clientSpanId = '00f067aa0ba902b7';

/** A loopback HTTP server that records the headers of each request and answers JSON. */
async function recordingServer(answer: unknown): Promise<{ server: Server; port: number; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** The spans Jaeger has of `traceId`, once it has one of each of `names` (or after 10 s). */
async function spansOf(backend: RunningJaeger, traceId: string, names: string[]): Promise<JaegerSpan[]> {
  let spans: JaegerSpan[] = [];
  for (let i = 0; i < 100 && !names.every((n) => spans.some((s) => s.operationName === n)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    spans = await backend.trace(traceId);
  }
  return spans;
}

const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

describe('a traced request through nginx auth_request, an HTTP PIP and http.send, read back from Jaeger', { skip }, () => {
  let backend: RunningJaeger;
  let verdict: RunningServer;
  let proxy: RunningNginx;
  let pip: Awaited<ReturnType<typeof recordingServer>>;
  let target: Awaited<ReturnType<typeof recordingServer>>;
  let upstream: Awaited<ReturnType<typeof recordingServer>>;
  const events: DecisionEvent[] = [];

  before(async () => {
    backend = await startJaeger(jaeger.found!);
    pip = await recordingServer({ role: 'admin' });
    target = await recordingServer({ open: true });
    upstream = await recordingServer({ hello: 'world' });
    const bundle = writeTree({
      'envoy/authz.rego': `package envoy.authz
allow if {
  input.pip.users.role == "admin"
  http.send({"method": "GET", "url": "http://127.0.0.1:${target.port}/open"}).body.open
}
`,
    });
    verdict = await startVerdict(
      `
plugins:
  envoy_ext_authz_http: {}
distributed_tracing:
  type: grpc
  address: ${backend.otlpGrpc}
  service_name: verdict-test
  batch_span_processor_options:
    batch_timeout_ms: 100
pip:
  adapters:
    users:
      type: http
      settings: { url: "http://127.0.0.1:${pip.port}/users/{user}" }
      cache: { ttl: 0 }
  enrich:
    - paths: [envoy/authz]
      adapter: users
      inputs: { user: 'input.attributes.request.http.headers["x-user"]' }
`,
      [bundle],
      (e) => events.push(e),
    );
    proxy = await startNginx(nginx.found!, `${verdict.url}/v1/authz`, upstream.port);
  });

  after(async () => {
    await proxy?.stop();
    await verdict?.close();
    for (const s of [pip, target, upstream]) s?.server.close();
    await backend?.stop();
  });

  test('one trace: server span under the caller, decision under it, PIP lookup and http.send under the decision', async () => {
    const res = await fetch(`${proxy.base}/orders`, { headers: { traceparent: `00-${traceId}-${clientSpanId}-01`, 'x-user': 'alice' } });
    assert.equal(res.status, 200, await res.text());
    assert.equal(upstream.seen.length, 1);

    const spans = await spansOf(backend, traceId, ['GET v1/authz', 'decision', 'pip.lookup', 'http.send']);
    const byName = (name: string) => {
      const found = spans.filter((s) => s.operationName === name);
      assert.equal(found.length, 1, `one ${name} span in ${JSON.stringify(spans.map((s) => s.operationName))}`);
      return found[0];
    };
    const server = byName('GET v1/authz');
    const decision = byName('decision');
    const lookup = byName('pip.lookup');
    const send = byName('http.send');
    for (const s of [server, decision, lookup, send]) assert.equal(s.traceID, traceId);
    assert.equal(parentOf(server), clientSpanId, 'the server span continues the caller\'s traceparent');
    assert.equal(parentOf(decision), server.spanID);
    assert.equal(parentOf(lookup), decision.spanID);
    assert.equal(parentOf(send), decision.spanID);
    assert.equal(tag(server, 'http.response.status_code'), 200, 'the server span ends when the response is sent, with its status');
    assert.equal(tag(decision, 'opa.path'), 'envoy/authz/allow');
    assert.equal(tag(decision, 'opa.decision.result'), true);
    assert.equal(tag(lookup, 'pip.adapter'), 'users');
    assert.equal(tag(send, 'url.path'), '/open');
    assert.equal(tag(send, 'http.response.status_code'), 200);

    // Both outbound calls carried the trace, each with its own span as the parent.
    assert.equal(pip.seen[0].traceparent, `00-${traceId}-${lookup.spanID}-01`);
    assert.equal(target.seen[0].traceparent, `00-${traceId}-${send.spanID}-01`);

    // The decision event names the trace and the decision span.
    assert.equal(events.length, 1);
    assert.equal(events[0].trace_id, traceId);
    assert.equal(events[0].span_id, decision.spanID);
  });

  test('the REST Data API continues a traceparent too; its event carries req_id, trace_id and span_id', async () => {
    const otherTrace = 'a'.repeat(31) + '1';
    const res = await fetch(`${verdict.url}/v1/data/envoy/authz/allow`, {
      method: 'POST',
      headers: { traceparent: `00-${otherTrace}-${clientSpanId}-01`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { attributes: { request: { http: { headers: { 'x-user': 'bob' } } } } } }),
    });
    assert.equal(res.status, 200);
    const event = events.at(-1)!;
    assert.equal(event.trace_id, otherTrace);
    assert.match(event.span_id ?? '', /^[0-9a-f]{16}$/);
    assert.equal(typeof event.req_id, 'number');
    const spans = await spansOf(backend, otherTrace, ['decision']);
    const server = spans.find((s) => s.operationName === 'POST v1/data');
    assert.ok(server, JSON.stringify(spans.map((s) => s.operationName)));
    assert.equal(parentOf(server), clientSpanId);
    assert.equal(spans.find((s) => s.operationName === 'decision')?.spanID, event.span_id);
  });
});

describe('outbound trace headers: the one HTTP client puts the span\'s context on every hop, as OPA does', { skip: jaeger.skip }, () => {
  let backend: RunningJaeger;
  let verdict: RunningServer;
  let target: Server;
  let base: string;
  const seen: { path: string; traceparent: string[]; tracestate: string[] }[] = [];
  const policyTrace = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;

  before(async () => {
    backend = await startJaeger(jaeger.found!);
    target = createServer((req, res) => {
      const values = (name: string) => req.rawHeaders.filter((_, i) => i % 2 === 1 && req.rawHeaders[i - 1].toLowerCase() === name);
      seen.push({ path: req.url ?? '', traceparent: values('traceparent'), tracestate: values('tracestate') });
      if (req.url === '/moved') res.writeHead(302, { location: '/here' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    const bundle = writeTree({
      'out.rego': `package out
plain := http.send({"method": "GET", "url": "${base}/plain"}).status_code
own := http.send({"method": "GET", "url": "${base}/own", "headers": {"TraceParent": "${policyTrace}", "tracestate": "mine=1"}}).status_code
moved := http.send({"method": "GET", "url": "${base}/moved", "enable_redirect": true}).status_code
`,
    });
    verdict = await startVerdict(`distributed_tracing:\n  type: grpc\n  address: ${backend.otlpGrpc}\n  batch_span_processor_options:\n    batch_timeout_ms: 100\n`, [bundle]);
  });

  after(async () => {
    await verdict?.close();
    target?.close();
    await backend?.stop();
  });

  /** Asks for `rule` in the trace `traceId` (with `tracestate` when given); the http.send span Jaeger has for it and what the target saw. */
  async function sendIn(rule: string, traceId: string, tracestate?: string) {
    seen.length = 0;
    const res = await fetch(`${verdict.url}/v1/data/out/${rule}`, { headers: { traceparent: `00-${traceId}-${clientSpanId}-01`, ...(tracestate ? { tracestate } : {}) } });
    assert.deepEqual(await res.json(), { result: 200 });
    const spans = await spansOf(backend, traceId, ['http.send']);
    const send = spans.find((s) => s.operationName === 'http.send');
    assert.ok(send, JSON.stringify(spans.map((s) => s.operationName)));
    return { parent: `00-${traceId}-${send.spanID}-01`, seen: [...seen] };
  }

  test('http.send: the http.send span is the parent; the caller\'s tracestate goes on', async () => {
    const { parent, seen } = await sendIn('plain', 'b'.repeat(32), 'vendor=abc');
    assert.deepEqual(seen, [{ path: '/plain', traceparent: [parent], tracestate: ['vendor=abc'] }]);
  });

  test('a policy\'s own traceparent is replaced by the span\'s (any case); its tracestate only when the trace has one', async () => {
    const replaced = await sendIn('own', 'c'.repeat(32), 'vendor=abc');
    assert.deepEqual(replaced.seen, [{ path: '/own', traceparent: [replaced.parent], tracestate: ['vendor=abc'] }]);
    const kept = await sendIn('own', 'd'.repeat(32));
    assert.deepEqual(kept.seen, [{ path: '/own', traceparent: [kept.parent], tracestate: ['mine=1'] }]);
  });

  test('every redirect hop of http.send carries the trace', async () => {
    const { parent, seen } = await sendIn('moved', 'e'.repeat(32), 'vendor=abc');
    assert.deepEqual(seen, [
      { path: '/moved', traceparent: [parent], tracestate: ['vendor=abc'] },
      { path: '/here', traceparent: [parent], tracestate: ['vendor=abc'] },
    ]);
  });

  test('a request sent in a span (a bundle download, a log upload) carries that span on every hop, past the first await', async () => {
    seen.length = 0;
    let parent = '';
    await tracedRoot('probe', 'client', () => ({}), (span) => {
      parent = `00-${span!.spanContext().traceId}-${span!.spanContext().spanId}-01`;
      return sendRequest(`${base}/moved`, { method: 'GET', tls: { rejectUnauthorized: true } });
    });
    assert.deepEqual(seen.map((s) => [s.path, s.traceparent]), [['/moved', [parent]], ['/here', [parent]]]);
  });
});

describe('an OCI bundle pull carries the bundle.download span on every registry request, read back from Jaeger', { skip: jaeger.skip }, () => {
  let backend: RunningJaeger;
  let registry: Server;
  let verdict: RunningServer | undefined;
  const seen: Array<{ path: string; traceparent: string | undefined }> = [];

  before(async () => {
    backend = await startJaeger(jaeger.found!);
  });

  after(async () => {
    await verdict?.close();
    registry?.close();
    await backend?.stop();
  });

  test('the manifest, the Bearer token request, the layer and the config all have the download span as parent', async () => {
    const layer = await writeBundleArchive([{ path: '.manifest', data: Buffer.from('{"revision":"traced","roots":["t"]}') }, { path: 't/data.json', data: Buffer.from('{"ok":true}') }]);
    const digest = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const config = Buffer.from('{}');
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const manifest = JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: layer.length }] });
    let pulled!: () => void;
    const done = new Promise<void>((resolve) => (pulled = resolve));
    registry = createServer((req, res) => {
      const path = req.url ?? '';
      seen.push({ path: path.replace(/\?.*/, ''), traceparent: req.headers.traceparent as string | undefined });
      const { port } = registry.address() as AddressInfo;
      if (path.startsWith('/token')) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"pull"}');
      if (req.headers.authorization !== 'Bearer pull') return res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="reg"` }).end();
      if (path === '/v2/acme/authz/manifests/1') {
        const headers = { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': `sha256:${createHash('sha256').update(manifest).digest('hex')}` };
        return res.writeHead(200, headers).end(manifest);
      }
      if (path === `/v2/acme/authz/blobs/${digest}`) return res.writeHead(200).end(layer);
      if (path === `/v2/acme/authz/blobs/${configDigest}`) {
        res.writeHead(200).end(config);
        return pulled();
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
    verdict = await startVerdict(
      `distributed_tracing:\n  type: grpc\n  address: ${backend.otlpGrpc}\n  batch_span_processor_options:\n    batch_timeout_ms: 100\n` +
        `services:\n  reg: {url: "http://${host}", type: oci}\nbundles:\n  authz: {service: reg, resource: "${host}/acme/authz:1"}\n`,
      [],
    );
    await done;
    assert.deepEqual(seen.map((s) => s.path), ['/v2/acme/authz/manifests/1', '/token', '/v2/acme/authz/manifests/1', `/v2/acme/authz/blobs/${digest}`, `/v2/acme/authz/blobs/${configDigest}`]);
    const parent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen[0]!.traceparent ?? '');
    assert.ok(parent, `traceparent ${seen[0]!.traceparent}`);
    assert.deepEqual(new Set(seen.map((s) => s.traceparent)), new Set([seen[0]!.traceparent]), 'one span for the whole pull');
    const download = (await spansOf(backend, parent[1]!, ['bundle.download'])).find((s) => s.operationName === 'bundle.download');
    assert.ok(download, 'Jaeger has the download span');
    assert.equal(download.spanID, parent[2]);
    assert.equal(tag(download, 'opa.bundle.name'), 'authz');
  });
});
