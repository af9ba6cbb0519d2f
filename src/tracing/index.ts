// Distributed tracing, seen from the rest of the server. The OpenTelemetry SDK is loaded (a dynamic import of
// ./otel.js) only when `distributed_tracing` is configured; until then `activeTracing()` is undefined and every
// traced place costs one check of it. One tracer serves the process: each worker exports its own spans.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Plugin } from '../server/plugins.js';
import { tracingSettings } from './config.js';

export type { Span } from '@opentelemetry/api';
export type SpanAttributes = Record<string, string | number | boolean | string[] | undefined>;

export interface Tracing {
  /**
   * Runs an incoming HTTP request inside a server span that continues the caller's trace (W3C traceparent and
   * tracestate, or B3). The span ends when the response is sent or the connection closes.
   */
  serve(req: IncomingMessage, res: ServerResponse, name: string, attributes: SpanAttributes, handle: () => void): void;
  /** Runs `fn` inside a span that continues the trace in `headers` (a gRPC call's metadata, say). */
  continueFrom<T>(headers: IncomingHttpHeaders, name: string, attributes: SpanAttributes, fn: (span: Span) => Promise<T>): Promise<T>;
  /** Runs `fn` inside a child span of the current one; the span ends when `fn` returns or its promise settles. */
  span<T>(name: string, kind: 'internal' | 'client', attributes: SpanAttributes, fn: (span: Span) => T): T;
  /** Adds the current span's context to outbound request headers (traceparent, tracestate). */
  inject(headers: Record<string, string>): void;
  /** The current span's trace and span ids, when it is sampled or continues a trace. */
  ids(): { trace_id: string; span_id: string } | undefined;
  /** Exports what is queued and stops. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** The process's tracer, or undefined when tracing is off. */
export function activeTracing(): Tracing | undefined {
  return active;
}

/** Runs `fn` in a child span when tracing is on; otherwise just runs it. */
export function traced<T>(name: string, kind: 'internal' | 'client', attributes: () => SpanAttributes, fn: (span?: Span) => T): T {
  return active ? active.span(name, kind, attributes(), fn) : fn();
}

/** Adds the trace context to outbound headers when tracing is on. */
export function injectTraceContext(headers: Record<string, string>): Record<string, string> {
  active?.inject(headers);
  return headers;
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
