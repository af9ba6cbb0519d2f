// Shipping decisions to a collector in OPA's decision-log protocol (docs management-decision-logs.md):
// POST <url><resource> with a gzipped JSON array of events, Content-Encoding: gzip, each body at most
// uploadSizeLimitBytes compressed. A chunk counts as shipped only after a 2xx; the upload watermark (the
// highest seq acknowledged) lives in the database, so an outage or a restart loses nothing and resumes
// where it stopped. Delivery is at-least-once: a 2xx lost on the way back means that chunk is sent again.
import { gzipSync } from 'node:zlib';
import { shippedSeqKey } from './retention.js';
import type { DecisionLogStore } from './store.js';

export interface UploadOptions {
  /** The service URL (OPA's services[].url). */
  url: string;
  /** OPA's decision_logs.resource, default "/logs". */
  resource?: string;
  /** Extra request headers, e.g. Authorization for the service's credentials. */
  headers?: Record<string, string>;
  /** OPA's reporting.upload_size_limit_bytes: most compressed bytes per request (default 32768). */
  uploadSizeLimitBytes?: number;
  /** Pause between upload rounds, chosen at random in [min, max] (OPA's reporting.min/max_delay_seconds). */
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
  /** Back-off after a failed request: doubles from initial to max. */
  retryDelayMs?: { initial: number; max: number };
  /** Give up on one request after this long (default 30 s). */
  timeoutMs?: number;
}

export interface UploadStatus {
  state: 'OK' | 'ERROR' | 'STOPPED';
  shipped_seq: number;
  events_shipped: number;
  chunks_shipped: number;
  failed_attempts: number;
  /** Events bigger than the size limit on their own (even without nd_builtin_cache): kept in the database, not shipped. */
  oversized_skipped: number;
  last_error?: { message: string; http_code?: number; at: string };
  last_success_at?: string;
}

interface PendingRow {
  seq: number;
  event: string;
}

export class DecisionLogUploader {
  private readonly endpoint: string;
  private readonly limit: number;
  private readonly retry: { initial: number; max: number };
  private nextRetryMs: number;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private running?: Promise<void>;
  /** Events per chunk to try first; adapts to how well events compress. */
  private chunkGuess = 64;
  private readonly counters = { events_shipped: 0, chunks_shipped: 0, failed_attempts: 0, oversized_skipped: 0 };
  private lastError?: UploadStatus['last_error'];
  private lastSuccessAt?: string;
  private failing = false;
  /** The highest seq the collector has acknowledged, as stored in the database. */
  private watermark: number;

  constructor(
    private readonly store: DecisionLogStore,
    private readonly options: UploadOptions,
  ) {
    const url = new URL(options.url); // throws TypeError on a malformed URL, naming it
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`decision log service url must be http(s), got ${options.url}`);
    this.endpoint = options.url.replace(/\/+$/, '') + '/' + (options.resource ?? '/logs').replace(/^\/+/, '');
    this.limit = Math.min(Math.max(options.uploadSizeLimitBytes ?? 32_768, 90), 2 ** 32);
    this.retry = options.retryDelayMs ?? { initial: 1_000, max: 120_000 };
    this.nextRetryMs = this.retry.initial;
    this.watermark = Number(store.getMeta(shippedSeqKey) ?? 0);
  }

  start(): void {
    this.stopped = false;
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
    let shipped = 0;
    for (;;) {
      const rows = this.store.db
        .prepare('SELECT seq, event FROM decisions WHERE seq > ? ORDER BY seq LIMIT ?')
        .all(this.watermark, this.chunkGuess * 2) as PendingRow[];
      if (rows.length === 0) return shipped;
      const chunk = this.fitChunk(rows);
      if (chunk.body) await this.post(chunk.body);
      await this.store.setMeta(shippedSeqKey, chunk.lastSeq);
      this.watermark = chunk.lastSeq;
      shipped += chunk.count;
      this.counters.events_shipped += chunk.count;
      if (chunk.body) this.counters.chunks_shipped++;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => (this.running = undefined));
    }, delayMs);
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
        ...(error instanceof HttpError ? { http_code: error.status } : {}),
        at: new Date().toISOString(),
      };
      this.schedule(this.nextRetryMs);
      this.nextRetryMs = Math.min(this.nextRetryMs * 2, this.retry.max);
    }
  }

  /**
   * The largest prefix of rows whose gzipped JSON array fits the limit (halving until it does). A lone
   * event that does not fit is retried without nd_builtin_cache, as OPA does, and skipped if still too big.
   */
  private fitChunk(rows: PendingRow[]): { body?: Buffer; count: number; lastSeq: number } {
    let count = Math.min(rows.length, this.chunkGuess);
    for (;;) {
      const body = gzipSync('[' + rows.slice(0, count).map((r) => r.event).join(',') + ']');
      if (body.length <= this.limit) {
        // Grow the next guess when there was room to spare, shrink it when halving was needed.
        this.chunkGuess = body.length < this.limit / 2 && count === this.chunkGuess ? count * 2 : count;
        return { body, count, lastSeq: rows[count - 1].seq };
      }
      if (count > 1) {
        count = Math.floor(count / 2);
        continue;
      }
      const event = JSON.parse(rows[0].event) as Record<string, unknown>;
      if ('nd_builtin_cache' in event) {
        delete event.nd_builtin_cache;
        const smaller = gzipSync('[' + JSON.stringify(event) + ']');
        if (smaller.length <= this.limit) return { body: smaller, count: 1, lastSeq: rows[0].seq };
      }
      this.counters.oversized_skipped++;
      return { count: 0, lastSeq: rows[0].seq };
    }
  }

  private async post(body: Buffer): Promise<void> {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', ...this.options.headers },
      body: new Uint8Array(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299) throw new HttpError(response.status, `collector ${this.endpoint} answered ${response.status}`);
    this.lastSuccessAt = new Date().toISOString();
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
