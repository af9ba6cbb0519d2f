// Distributed tracing, seen from the rest of the server. The OpenTelemetry SDK is loaded (a dynamic import of
// ./otel.js) only when `distributed_tracing` is configured; until then `activeTracing()` is undefined and every
// traced place costs one check of it. One tracer serves the process: each worker exports its own spans.
// There is no async context manager (async_hooks would tax every promise of every request, sampled or not):
// the current trace is set while a span's function runs synchronously, and code that awaits before making a
// child span or an outbound request carries it across with currentTrace() / withTrace(). A request not
// sampled at its root gets no span at all: only the ids of a new unsampled trace, as OPA gives it.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Context, Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Plugin } from '../server/plugins.js';
import { tracingSettings } from './config.js';

export type { Span } from '@opentelemetry/api';
export type SpanAttributes = Record<string, string | number | boolean | string[] | undefined>;
/** A trace a piece of work belongs to (an OpenTelemetry context holding its span); opaque outside the tracer. */
export type TraceContext = Context;

export interface Tracing {
  /**
   * Runs an incoming HTTP request inside a server span when it continues a caller's trace (W3C traceparent and
   * tracestate, or B3) or is drawn for sampling; otherwise runs `handle` in a new unsampled trace (ids, no
   * span). The trace, read back with traceOf(req), is the span's; the span ends when the response is sent or the
   * connection closes.
   */
  serve(req: IncomingMessage, res: ServerResponse, describe: () => { name: string; attributes: SpanAttributes }, handle: () => void): void;
  /** Runs `fn` inside a server span that continues the trace in `headers` (a gRPC call's metadata), as serve does. */
  continueFrom<T>(headers: IncomingHttpHeaders, describe: () => { name: string; attributes: SpanAttributes }, fn: (trace?: TraceContext) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` inside a child span of the current trace; the span ends when `fn` returns or its promise settles.
   * Without a current trace, `root` work (bundle downloads, log uploads) starts one when drawn for sampling;
   * other work is just run.
   */
  span<T>(name: string, kind: 'internal' | 'client', attributes: () => SpanAttributes, fn: (span?: Span) => T, root?: boolean): T;
  /** The current trace: set while a span's function runs synchronously, and by within() after an await. */
  current(): TraceContext | undefined;
  /** Runs `fn` with `trace` current. */
  within<T>(trace: TraceContext, fn: () => T): T;
  /** Adds the current span's context to outbound request headers (traceparent, tracestate). */
  inject(headers: Record<string, string>): void;
  /** The trace and span ids of a trace's span. */
  ids(trace: TraceContext): { trace_id: string; span_id: string } | undefined;
  /** Exports what is queued and stops. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** The process's tracer, or undefined when tracing is off. */
export function activeTracing(): Tracing | undefined {
  return active;
}

/** Runs `fn` in a child span of the current trace when there is one; otherwise just runs it. */
export function traced<T>(name: string, kind: 'internal' | 'client', attributes: () => SpanAttributes, fn: (span?: Span) => T): T {
  return active ? active.span(name, kind, attributes, fn) : fn();
}

/** Runs background work (no request behind it) in a span of its own trace, or of the current one. */
export function tracedRoot<T>(name: string, kind: 'internal' | 'client', attributes: () => SpanAttributes, fn: (span?: Span) => T): T {
  return active ? active.span(name, kind, attributes, fn, true) : fn();
}

/** The current trace, to carry across an await (see withTrace). */
export function currentTrace(): TraceContext | undefined {
  return active?.current();
}

/** Runs `fn` with a trace carried across an await made current again. */
export function withTrace<T>(trace: TraceContext | undefined, fn: () => T): T {
  return trace && active ? active.within(trace, fn) : fn();
}

/** Adds the trace context to outbound headers when tracing is on. */
export function injectTraceContext(headers: Record<string, string>): Record<string, string> {
  active?.inject(headers);
  return headers;
}

const traceKey = Symbol('verdict.trace');

/** The trace an incoming HTTP request is part of (set by Tracing.serve), if any. */
export function traceOf(req: IncomingMessage | undefined): TraceContext | undefined {
  return req && (req as IncomingMessage & { [traceKey]?: TraceContext })[traceKey];
}

export function setTraceOf(req: IncomingMessage, trace: TraceContext): void {
  (req as IncomingMessage & { [traceKey]?: TraceContext })[traceKey] = trace;
}

/**
 * Starts tracing when the config has a `distributed_tracing` section (a bad one throws a ConfigError naming the
 * key) and returns the plugin that exports what is left and stops it on shutdown.
 */
export async function startTracing(section: Record<string, unknown> | undefined, registry: Registry, logger: Logger): Promise<Plugin | undefined> {
  const settings = tracingSettings(section);
  if (!settings) return undefined;
  const { createTracing } = await import('./otel.js');
  const tracing = createTracing(settings, registry, logger);
  active = tracing;
  logger.info({ protocol: settings.protocol, url: settings.url, sample_percentage: settings.sampleRatio * 100 }, 'Distributed tracing enabled.');
  let state: 'OK' | 'NOT_READY' = 'OK';
  return {
    name: 'distributed_tracing',
    unlisted: true,
    async start() {},
    async stop() {
      state = 'NOT_READY';
      if (active === tracing) active = undefined;
      await tracing.shutdown();
    },
    status: () => ({ state }),
  };
}
