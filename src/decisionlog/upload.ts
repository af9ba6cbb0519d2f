// Shipping decisions to a collector in OPA's decision-log protocol (docs management-decision-logs.md):
// POST <service url><resource> with a gzipped JSON array of events, Content-Encoding: gzip, each body at most
// uploadSizeLimitBytes compressed, through the service's client (its headers, TLS and credentials, as the
// bundle downloader uses them). A chunk counts as shipped only after a 2xx; the upload watermark (the
// highest seq acknowledged) lives in the database, so an outage or a restart loses nothing and resumes
// where it stopped. Delivery is at-least-once: a 2xx lost on the way back means that chunk is sent again.
import { promisify } from 'node:util';
import { constants, gzip as gzipCallback } from 'node:zlib';
import { type ServiceClient } from '../bundle/service.js';
import { HttpRequestError } from '../net/http-client.js';
import { verdictVersion } from '../version.js';
import { shippedSeqKey } from './retention.js';
import type { DecisionLogStore } from './store.js';
import { currentTrace, tracedRoot } from '../tracing/index.js';
import { timerDelay } from '../timer-delay.js';

const gzipAsync = promisify(gzipCallback);
/**
 * Compressed on libuv's thread pool, never on the event loop that answers decisions, at the fastest level:
 * decision events are repetitive enough that it is within a few percent of the default level's size at half
 * the CPU.
 */
const gzip = (text: string) => gzipAsync(text, { level: constants.Z_BEST_SPEED });

export interface UploadOptions {
  /** The service named by decision_logs.service. */
  service: ServiceClient;
  /** OPA's decision_logs.resource, default "/logs". */
  resource?: string;
  /** OPA's reporting.upload_size_limit_bytes: most compressed bytes per request (default 32768). */
  uploadSizeLimitBytes?: number;
  /** Pause between upload rounds, chosen at random in [min, max] (OPA's reporting.min/max_delay_seconds). */
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
  /** Back-off after a failed request: doubles from initial to max. */
  retryDelayMs?: { initial: number; max: number };
  /**
   * OPA's reporting.buffer_size_limit_bytes / buffer_size_limit_events: the most unshipped events (by their
   * JSON size, or by count) kept for upload; the oldest beyond it are skipped (they stay in the local store).
   */
  bufferSizeLimitBytes?: number;
  bufferSizeLimitEvents?: number;
  /** OPA's reporting.trigger "immediate": upload as soon as decisions are committed, not only on the schedule. */
  immediate?: boolean;
}

export interface UploadStatus {
  state: 'OK' | 'ERROR' | 'STOPPED';
  shipped_seq: number;
  events_shipped: number;
  chunks_shipped: number;
  failed_attempts: number;
  /** Events bigger than the size limit on their own (even without nd_builtin_cache): kept in the database, not shipped. */
  oversized_skipped: number;
  /** Unshipped events skipped because the buffer limit was exceeded (kept in the database, not shipped). */
  buffer_skipped: number;
  /** Events shipped without their nd_builtin_cache, which made them too big (OPA's decision_logs_nd_builtin_cache_dropped). */
  nd_builtin_cache_dropped: number;
  last_error?: { message: string; http_code?: number; at: string };
  last_success_at?: string;
}

interface PendingRow {
  seq: number;
  event: string;
}

export class DecisionLogUploader {
  private readonly endpoint: string;
  private readonly resource: string;
  private readonly limit: number;
  private readonly retry: { initial: number; max: number };
  private nextRetryMs: number;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private running?: Promise<void>;
  /** Compressed bytes per JSON byte in the last chunk: how many events the next one can take. */
  private ratio = 0.25;
  /** Events in the last chunk, to size the next read. */
  private lastCount = 64;
  /** Unshipped rows counted so far (through seq), for pending(). */
  private readonly tally = { seq: 0, events: 0, bytes: 0 };
  private readonly counters = { events_shipped: 0, chunks_shipped: 0, failed_attempts: 0, oversized_skipped: 0, buffer_skipped: 0, nd_builtin_cache_dropped: 0 };
  private lastError?: UploadStatus['last_error'];
  private lastSuccessAt?: string;
  private failing = false;
  /** The highest seq the collector has acknowledged, as stored in the database. */
  private watermark: number;

  constructor(
    private readonly store: DecisionLogStore,
    private readonly options: UploadOptions,
  ) {
    this.resource = options.resource ?? '/logs';
    this.endpoint = options.service.urlOf(this.resource);
    this.limit = Math.min(Math.max(options.uploadSizeLimitBytes ?? 32_768, 90), 2 ** 32);
    this.retry = options.retryDelayMs ?? { initial: 1_000, max: 120_000 };
    this.nextRetryMs = this.retry.initial;
    this.watermark = Number(store.getMeta(shippedSeqKey) ?? 0);
  }

  start(): void {
    this.stopped = false;
    if (this.options.immediate) this.store.onCommit(() => this.kick());
    this.schedule(0);
  }

  /** Starts a round now unless one is running or failing (a failing one keeps its back-off). */
  private kick(): void {
    if (this.stopped || this.running || this.failing) return;
    clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Stops the schedule, after the round in progress if any. uploadPending() still ships on demand. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** The highest seq the collector has acknowledged. */
  shippedSeq(): number {
    return this.watermark;
  }

  /**
   * The events waiting for upload and their JSON bytes (OPA's decision log buffer size). Kept as a tally so a
   * scrape never scans the whole backlog: each call counts at most tallyStep rows committed since the last one
   * (after a restart with a large backlog the figure climbs to it over a few calls), and shipped or skipped rows
   * are taken off as the watermark moves.
   */
  pending(): { events: number; bytes: number } {
    if (this.tally.seq < this.watermark) Object.assign(this.tally, { seq: this.watermark, events: 0, bytes: 0 });
    const rows = this.store.db.prepare('SELECT seq, octet_length(event) AS size FROM decisions WHERE seq > ? ORDER BY seq LIMIT ?').all(this.tally.seq, tallyStep) as { seq: number; size: number }[];
    for (const row of rows) {
      this.tally.events++;
      this.tally.bytes += row.size;
      this.tally.seq = row.seq;
    }
    return { events: this.tally.events, bytes: this.tally.bytes };
  }

  /** Takes shipped rows (up to `through`) off the tally. */
  private untally(rows: PendingRow[], through: number): void {
    for (const row of rows) {
      if (row.seq > through || row.seq > this.tally.seq) break;
      this.tally.events = Math.max(0, this.tally.events - 1);
      this.tally.bytes = Math.max(0, this.tally.bytes - Buffer.byteLength(row.event));
    }
  }

  status(): UploadStatus {
    return {
      state: this.stopped ? 'STOPPED' : this.failing ? 'ERROR' : 'OK',
      shipped_seq: this.shippedSeq(),
      ...this.counters,
      ...(this.lastError ? { last_error: this.lastError } : {}),
      ...(this.lastSuccessAt ? { last_success_at: this.lastSuccessAt } : {}),
    };
  }

  /** Ships every decision past the watermark, chunk by chunk; rejects at the first failed request. */
  async uploadPending(): Promise<number> {
    await this.enforceBufferLimit();
    let shipped = 0;
    for (;;) {
      const rows = this.store.db
        .prepare('SELECT seq, event FROM decisions WHERE seq > ? ORDER BY seq LIMIT ?')
        .all(this.watermark, Math.max(64, this.lastCount * 2)) as PendingRow[];
      if (rows.length === 0) return shipped;
      const chunk = await this.fitChunk(rows);
      const body = chunk.body;
      if (body) await tracedRoot('decision_logs.upload', 'client', () => ({ 'opa.decision_logs.events': chunk.count, 'opa.decision_logs.bytes': body.length }), () => this.post(body));
      await this.store.setMeta(shippedSeqKey, chunk.lastSeq);
      this.watermark = chunk.lastSeq;
      this.untally(rows, chunk.lastSeq);
      shipped += chunk.count;
      this.counters.events_shipped += chunk.count;
      if (chunk.body) this.counters.chunks_shipped++;
    }
  }

  /** Moves the watermark past the oldest unshipped events that exceed the buffer limit, as OPA drops them. */
  private async enforceBufferLimit(): Promise<void> {
    const { bufferSizeLimitBytes: bytes, bufferSizeLimitEvents: events } = this.options;
    if (bytes === undefined && events === undefined) return;
    // Newest first: keep what fits, skip everything older.
    const rows = this.store.db.prepare('SELECT seq, length(event) AS size FROM decisions WHERE seq > ? ORDER BY seq DESC').iterate(this.watermark) as IterableIterator<{ seq: number; size: number }>;
    let kept = 0;
    let size = 0;
    let cut: number | undefined;
    let skipped = 0;
    let newest: number | undefined;
    for (const row of rows) {
      newest ??= row.seq;
      if (cut !== undefined) {
        skipped++;
        continue;
      }
      if ((events !== undefined && kept + 1 > events) || (bytes !== undefined && size + row.size > bytes)) {
        cut = row.seq;
        skipped++;
        continue;
      }
      kept++;
      size += row.size;
    }
    if (cut === undefined) return;
    await this.store.setMeta(shippedSeqKey, cut);
    this.watermark = cut;
    this.counters.buffer_skipped += skipped;
    // What is left is exactly what this pass kept.
    Object.assign(this.tally, { seq: newest, events: kept, bytes: size });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => (this.running = undefined));
    }, timerDelay(delayMs));
    this.timer.unref();
  }

  private async round(): Promise<void> {
    try {
      await this.uploadPending();
      this.failing = false;
      this.nextRetryMs = this.retry.initial;
      const min = this.options.minDelaySeconds ?? 300;
      const max = Math.max(min, this.options.maxDelaySeconds ?? 600);
      this.schedule((min + Math.random() * (max - min)) * 1000);
    } catch (error) {
      this.failing = true;
      this.counters.failed_attempts++;
      this.lastError = {
        message: error instanceof Error ? error.message : String(error),
        ...(error instanceof HttpRequestError && error.httpCode !== undefined ? { http_code: error.httpCode } : {}),
        at: new Date().toISOString(),
      };
      this.schedule(this.nextRetryMs);
      this.nextRetryMs = Math.min(this.nextRetryMs * 2, this.retry.max);
    }
  }

  /**
   * A prefix of rows whose gzipped JSON array fits the limit, sized from the compression ratio seen so far
   * and shrunk by the ratio measured when it does not fit (one gzip per chunk in the steady state). A lone
   * event that does not fit is retried without nd_builtin_cache, as OPA does, and skipped if still too big.
   */
  private async fitChunk(rows: PendingRow[]): Promise<{ body?: Buffer; count: number; lastSeq: number }> {
    // Aim a little under the limit: the ratio varies from chunk to chunk.
    let budget = (this.limit * 0.9) / this.ratio;
    for (;;) {
      let count = 0;
      let raw = 2;
      while (count < rows.length && (count === 0 || raw + rows[count].event.length + 1 <= budget)) raw += rows[count++].event.length + 1;
      const body = await gzip('[' + rows.slice(0, count).map((r) => r.event).join(',') + ']');
      this.ratio = Math.max(body.length / raw, 0.001);
      if (body.length <= this.limit) {
        this.lastCount = count;
        return { body, count, lastSeq: rows[count - 1].seq };
      }
      if (count > 1) {
        budget = Math.min(budget * 0.75, (this.limit * 0.9) / this.ratio);
        continue;
      }
      const event = JSON.parse(rows[0].event) as Record<string, unknown>;
      if ('nd_builtin_cache' in event) {
        delete event.nd_builtin_cache;
        const smaller = await gzip('[' + JSON.stringify(event) + ']');
        if (smaller.length <= this.limit) {
          this.counters.nd_builtin_cache_dropped++;
          return { body: smaller, count: 1, lastSeq: rows[0].seq };
        }
      }
      this.counters.oversized_skipped++;
      return { count: 0, lastSeq: rows[0].seq };
    }
  }

  private async post(body: Buffer): Promise<void> {
    const response = await this.options.service.post(this.resource, body, {
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'User-Agent': userAgent },
      // The upload's span is current only until the first await: it is taken now.
      trace: currentTrace(),
      // The collector's answer is not read; a small limit keeps a misbehaving one from filling memory.
      maxBytes: 1024 * 1024,
    });
    if (response.status < 200 || response.status > 299) throw new HttpRequestError(`collector ${this.endpoint} answered ${response.status}`, response.status);
    this.lastSuccessAt = new Date().toISOString();
  }
}

/** Most rows pending() counts per call. */
const tallyStep = 10_000;

const userAgent = `Verdict/${verdictVersion} (${process.platform}, ${process.arch})`;
