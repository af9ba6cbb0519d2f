// The OTLP exporter, run in a thread of its own (started by src/tracing/thread-exporter.ts). Its HTTP or gRPC
// client would otherwise share the server's thread, and even a few export requests a second teach V8 that
// Node's HTTP and stream code also serves client requests: the code every decision request runs through is
// then compiled for both and the server slows down for every request, sampled or not. Here the exporter has
// its own isolate. Spans arrive as plain records (SpanRecord) and are rebuilt for the exporter.
import { parentPort, workerData } from 'node:worker_threads';
import type { SpanContext } from '@opentelemetry/api';
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingSettings } from './config.js';
import type { ContextRecord, ExportReply, ExportRequest, SpanRecord } from './thread-exporter.js';

function spanContext(record: ContextRecord): SpanContext {
  const { traceState, ...rest } = record;
  return traceState ? { ...rest, traceState: new TraceState(traceState) } : rest;
}

function createExporter(settings: TracingSettings): SpanExporter {
  const timeoutMillis = settings.batch.exportTimeoutMillis;
  // Buffers arrive in the thread as plain Uint8Arrays.
  const file = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes) : undefined);
  const tls = settings.tls && { ...settings.tls, ca: file(settings.tls.ca), cert: file(settings.tls.cert), key: file(settings.tls.key) };
  if (settings.protocol === 'http') {
    // Agent options replace the exporter's defaults: keepAlive is restated so exports reuse one TLS connection.
    return new HttpExporter({ url: settings.url, timeoutMillis, ...(tls ? { httpAgentOptions: { ...tls, keepAlive: true } } : {}) });
  }
  const credentials = tls
    ? grpcCredentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null, tls.rejectUnauthorized ? {} : { rejectUnauthorized: false, checkServerIdentity: () => undefined })
    : grpcCredentials.createInsecure();
  return new GrpcExporter({ url: settings.url, timeoutMillis, credentials });
}

function serve(settings: TracingSettings): void {
  const exporter = createExporter(settings);
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, ...settings.resource });
  const readable = (r: SpanRecord): ReadableSpan => {
    const context = spanContext(r.context);
    return {
      name: r.name,
      kind: r.kind,
      spanContext: () => context,
      ...(r.parent ? { parentSpanContext: { traceId: r.context.traceId, spanId: r.parent.spanId, traceFlags: r.context.traceFlags, isRemote: r.parent.isRemote } } : {}),
      startTime: r.startTime,
      endTime: r.endTime,
      duration: r.duration,
      status: r.status,
      attributes: r.attributes,
      events: r.events,
      links: r.links.map((link) => ({ ...link, context: spanContext(link.context) })),
      ended: true,
      resource,
      instrumentationScope: r.scope,
      droppedAttributesCount: r.dropped.attributes,
      droppedEventsCount: r.dropped.events,
      droppedLinksCount: r.dropped.links,
    };
  };
  const port = parentPort!;
  port.on('message', (request: ExportRequest) => {
    if (request.type === 'shutdown') {
      void exporter.shutdown().then(
        () => port.postMessage({ id: request.id, ok: true } satisfies ExportReply),
        (err: unknown) => port.postMessage({ id: request.id, ok: false, error: (err as Error).message } satisfies ExportReply),
      );
      return;
    }
    exporter.export(request.spans.map(readable), (result) => port.postMessage({ id: request.id, ok: result.code === 0, error: result.error?.message } satisfies ExportReply));
  });
}

if (parentPort && workerData?.tracing) serve(workerData.tracing as TracingSettings);
