// The OpenTelemetry SDK behind src/tracing/index.ts, imported only when tracing is configured. Spans go to
// OTLP (gRPC or HTTP) through a batch processor whose queue is bounded: when the collector is slow or down,
// spans beyond the queue are dropped and counted, and no request ever waits for the exporter. The exporter
// itself runs in a thread of its own (src/tracing/export-thread.ts).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, propagation, trace, type Context, type ContextManager, type Span, type Tracer } from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, RandomIdGenerator, TracerProvider, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { TracingSettings } from './config.js';
import { setTraceOf, type SpanAttributes, type TraceContext, type Tracing } from './index.js';
import { verdictVersion } from '../version.js';
import { ThreadExporter } from './thread-exporter.js';

const kinds = { internal: SpanKind.INTERNAL, client: SpanKind.CLIENT };

export function createTracing(settings: TracingSettings, registry: Registry, logger: Logger): Tracing {
  const counters = spanCounters(registry);
  const exporter = new CountingExporter(new ThreadExporter(settings), counters, logger);
  const processor = new BoundedProcessor(
    new BatchSpanProcessor({ exporter, ...settings.batch }),
    exporter,
    settings.batch.maxQueueSize,
    counters.dropped,
  );
  const provider = new TracerProvider({
    // OPA's sampling: a caller's sampled flag is followed; a new trace is sampled at sample_percentage. The
    // draw for a new trace is made before any span exists (SdkTracing.drawn), so the SDK samples every root
    // it is asked for.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [processor],
    // The resource (service_name, OPA's resource keys) is the exporting thread's: spans cross without it.
  });
  const contexts = new SyncContextManager();
  context.setGlobalContextManager(contexts);
  // W3C trace context in and out; B3 (single or multi header) is read too, for gateways that send only B3.
  const w3c = new W3CTraceContextPropagator();
  const extractor = new CompositePropagator({ propagators: [new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }), w3c] });
  const tracer = provider.getTracer('verdict', verdictVersion);
  return new SdkTracing(tracer, contexts, extractor, w3c, settings.sampleRatio, async () => {
    // The last export failing (the collector is down) is counted like the others; it does not fail the shutdown.
    await provider.shutdown().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'Spans left at shutdown could not be exported.'));
    context.disable();
    propagation.disable();
  });
}

const idGenerator = new RandomIdGenerator();

/**
 * A trace begun here and not sampled: only its ids, made when first asked for (by the decision event, or an
 * outbound request passing the trace on), so a request nobody asks about costs one small object. It is an
 * OpenTelemetry context holding a non-recording span of those ids, built on first use.
 */
class UnsampledTrace implements Context {
  private built?: Context;

  private get context(): Context {
    return (this.built ??= trace.setSpanContext(ROOT_CONTEXT, { traceId: idGenerator.generateTraceId(), spanId: idGenerator.generateSpanId(), traceFlags: TraceFlags.NONE }));
  }

  getValue(key: symbol): unknown {
    return this.context.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return this.context.setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return this.context.deleteValue(key);
  }
}

// The current trace is read and set on the context manager itself, not through the API's global lookup: these
// run several times for every request.
class SdkTracing implements Tracing {
  constructor(
    private readonly tracer: Tracer,
    private readonly contexts: SyncContextManager,
    private readonly extractor: CompositePropagator,
    private readonly injector: W3CTraceContextPropagator,
    private readonly ratio: number,
    readonly shutdown: () => Promise<void>,
  ) {}

  serve(req: IncomingMessage, res: ServerResponse, describe: () => { name: string; attributes: SpanAttributes }, handle: () => void): void {
    const parent = this.begin(req.headers);
    if (parent instanceof UnsampledTrace) {
      setTraceOf(req, parent);
      return this.contexts.with(parent, handle);
    }
    const { name, attributes } = describe();
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: clean(attributes) }, parent);
    // A response emits close once, after finish when it was sent and alone when the connection dropped first.
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    const traced = trace.setSpan(parent, span);
    setTraceOf(req, traced);
    this.contexts.with(traced, handle);
  }

  continueFrom<T>(headers: IncomingHttpHeaders, describe: () => { name: string; attributes: SpanAttributes }, fn: (trace?: TraceContext) => Promise<T>): Promise<T> {
    const parent = this.begin(headers);
    if (parent instanceof UnsampledTrace) return this.contexts.with(parent, () => fn(parent));
    const { name, attributes } = describe();
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: clean(attributes) }, parent);
    const traced = trace.setSpan(parent, span);
    return this.contexts.with(traced, () => settle(span, () => fn(traced)));
  }

  span<T>(name: string, kind: 'internal' | 'client', attributes: () => SpanAttributes, fn: (span?: Span) => T, root = false): T {
    const parent = this.contexts.active();
    // Inside a trace this server started and did not sample, spans would record nothing: none is made.
    if (parent instanceof UnsampledTrace || (trace.getSpan(parent) === undefined && !(root && this.drawn()))) return fn();
    const span = this.tracer.startSpan(name, { kind: kinds[kind], attributes: clean(attributes()) }, parent);
    return this.contexts.with(trace.setSpan(parent, span), () => settle(span, fn));
  }

  current(): TraceContext | undefined {
    const now = this.contexts.active();
    return now === ROOT_CONTEXT ? undefined : now;
  }

  within<T>(trace: TraceContext, fn: () => T): T {
    return this.contexts.with(trace, fn);
  }

  inject(headers: Record<string, string>): void {
    this.injector.inject(this.contexts.active(), headers, { set: (carrier, key, value) => void (carrier[key] = value) });
  }

  ids(traced: TraceContext): { trace_id: string; span_id: string } | undefined {
    const span = trace.getSpan(traced);
    if (!span) return undefined;
    const { traceId, spanId } = span.spanContext();
    return { trace_id: traceId, span_id: spanId };
  }

  /**
   * The context a request's server span starts from: the caller's trace when the headers carry one (its sampled
   * flag decides), else a new trace when drawn at sample_percentage, else a new trace that is not sampled. As in
   * OPA, that last one still has ids (its decision event carries them, and http.send passes them on with the
   * sampled flag off), but it is only ids, made when first asked for: no span is made for it.
   */
  private begin(headers: IncomingHttpHeaders): Context {
    if (headers.traceparent !== undefined || headers.b3 !== undefined || headers['x-b3-traceid'] !== undefined) return this.extract(headers);
    return this.drawn() ? ROOT_CONTEXT : new UnsampledTrace();
  }

  private drawn(): boolean {
    return this.ratio >= 1 || (this.ratio > 0 && Math.random() < this.ratio);
  }

  private extract(headers: IncomingHttpHeaders): Context {
    return this.extractor.extract(ROOT_CONTEXT, headers, {
      keys: (carrier) => Object.keys(carrier),
      get: (carrier, key) => carrier[key],
    });
  }
}

/**
 * The current context while a function runs synchronously, and nothing across awaits: async_hooks (what an
 * async context manager needs) would cost every promise of every request. Work that awaits carries its trace.
 */
class SyncContextManager implements ContextManager {
  private now: Context = ROOT_CONTEXT;

  active(): Context {
    return this.now;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const before = this.now;
    this.now = ctx;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.now = before;
    }
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const manager = this;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.now = ROOT_CONTEXT;
    return this;
  }
}

/** Ends the span when `fn` returns, or when its promise settles; a failure is recorded on the span. */
function settle<T>(span: Span, fn: (span: Span) => T): T {
  const failed = (err: unknown) => {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
    span.end();
  };
  let out: T;
  try {
    out = fn(span);
  } catch (err) {
    failed(err);
    throw err;
  }
  if (out instanceof Promise) {
    return out.then(
      (value: unknown) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        failed(err);
        throw err;
      },
    ) as T;
  }
  span.end();
  return out;
}

function clean(attributes: SpanAttributes): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) out[k] = v;
  return out;
}

interface SpanCounters {
  dropped: Counter;
  exported: Counter;
  failed: Counter;
}

function spanCounters(registry: Registry): SpanCounters {
  const counter = (name: string, help: string) => {
    const existing = registry.getSingleMetric(name);
    return (existing as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
  };
  return {
    dropped: counter('verdict_tracing_spans_dropped_total', 'Spans dropped because the export queue was full (collector slow or unreachable).'),
    exported: counter('verdict_tracing_spans_exported_total', 'Spans the collector accepted.'),
    failed: counter('verdict_tracing_spans_export_failed_total', 'Spans in export batches the collector did not accept.'),
  };
}

/** Counts what the exporter sends, and how many spans are waiting in the batch processor's queue. */
class CountingExporter implements SpanExporter {
  queued = 0;
  private warned = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly counters: SpanCounters,
    private readonly logger: Logger,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.queued = Math.max(0, this.queued - spans.length);
    this.inner.export(spans, (result) => {
      if (result.code === 0) {
        this.counters.exported.inc(spans.length);
        this.warned = false;
      } else {
        this.counters.failed.inc(spans.length);
        if (!this.warned) this.logger.warn({ err: result.error?.message }, 'Span export failed; spans are dropped until the collector answers.');
        this.warned = true;
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * The batch processor with its queue bound made visible: a span that would not fit is counted as dropped here
 * (the processor would drop it anyway, silently) instead of being handed on.
 */
class BoundedProcessor implements SpanProcessor {
  constructor(
    private readonly inner: BatchSpanProcessor,
    private readonly exporter: CountingExporter,
    private readonly maxQueueSize: number,
    private readonly dropped: Counter,
  ) {}

  onStart(span: Parameters<SpanProcessor['onStart']>[0], parent: Context): void {
    this.inner.onStart(span, parent);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & 1) === 0) return;
    if (this.exporter.queued >= this.maxQueueSize) {
      this.dropped.inc();
      return;
    }
    this.exporter.queued++;
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
