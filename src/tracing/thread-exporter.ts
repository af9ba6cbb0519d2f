// The span exporter of the server's thread: hands each batch, as plain records, to the OTLP exporter running in
// a thread of its own (src/tracing/export-thread.ts, which says why) and passes its answer back. If the thread
// dies, the batches waiting for it and every later one fail (and are counted as failed exports).
import { Worker } from 'node:worker_threads';
import type { Attributes, HrTime, Link, SpanContext } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, TimedEvent } from '@opentelemetry/sdk-trace';
import type { TracingSettings } from './config.js';

/** An ended span as plain data, to cross to the thread. */
export interface SpanRecord {
  name: string;
  kind: number;
  context: ContextRecord;
  parent?: { spanId: string; isRemote?: boolean };
  startTime: HrTime;
  endTime: HrTime;
  duration: HrTime;
  status: { code: number; message?: string };
  attributes: Attributes;
  events: TimedEvent[];
  links: { context: ContextRecord; attributes?: Attributes; droppedAttributesCount?: number }[];
  scope: { name: string; version?: string; schemaUrl?: string };
  dropped: { attributes: number; events: number; links: number };
}

export interface ContextRecord {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
  isRemote?: boolean;
}

type Unnumbered = { type: 'export'; spans: SpanRecord[] } | { type: 'shutdown' };
export type ExportRequest = Unnumbered & { id: number };
export interface ExportReply {
  id: number;
  ok: boolean;
  error?: string;
}

/** The plain record of an ended span (made on the server's thread). */
export function spanRecord(span: ReadableSpan): SpanRecord {
  const parent = span.parentSpanContext;
  return {
    name: span.name,
    kind: span.kind,
    context: contextRecord(span.spanContext()),
    ...(parent ? { parent: { spanId: parent.spanId, isRemote: parent.isRemote } } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    duration: span.duration,
    status: { code: span.status.code, message: span.status.message },
    attributes: span.attributes,
    events: span.events,
    links: span.links.map((link: Link) => ({ context: contextRecord(link.context), attributes: link.attributes, droppedAttributesCount: link.droppedAttributesCount })),
    scope: { ...span.instrumentationScope },
    dropped: { attributes: span.droppedAttributesCount, events: span.droppedEventsCount, links: span.droppedLinksCount },
  };
}

function contextRecord(ctx: SpanContext): ContextRecord {
  return { traceId: ctx.traceId, spanId: ctx.spanId, traceFlags: ctx.traceFlags, traceState: ctx.traceState?.serialize(), isRemote: ctx.isRemote };
}


export class ThreadExporter implements SpanExporter {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: ExportReply) => void>();
  private gone?: string;

  constructor(settings: TracingSettings) {
    this.worker = new Worker(new URL('./export-thread.js', import.meta.url), { workerData: { tracing: settings } });
    this.worker.unref();
    this.worker.on('message', (reply: ExportReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      waiting?.(reply);
    });
    const fail = (message: string) => {
      this.gone ??= message;
      for (const [id, waiting] of this.pending) waiting({ id, ok: false, error: message });
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(`span export thread failed: ${err.message}`));
    this.worker.on('exit', (code) => fail(`span export thread exited (code ${code})`));
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    void this.call({ type: 'export', spans: spans.map(spanRecord) }).then((reply) =>
      done(reply.ok ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error(reply.error) }),
    );
  }

  async shutdown(): Promise<void> {
    const reply = await this.call({ type: 'shutdown' });
    await this.worker.terminate();
    if (!reply.ok && reply.error !== this.gone) throw new Error(reply.error);
  }

  private call(request: Unnumbered): Promise<ExportReply> {
    const id = this.nextId++;
    if (this.gone) return Promise.resolve({ id, ok: false, error: this.gone });
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      // Keep the process alive only while the thread owes an answer.
      this.worker.ref();
      this.worker.postMessage({ ...request, id });
    });
  }
}
