// Pulls one named bundle from a bundle server the way OPA's downloader does (docs: management-bundles;
// configuration "Bundles"): GET <service url>/<resource> with If-None-Match, a random delay in [min,max] between
// polls, long polling when the server speaks OPA's bundle protocol, and jittered exponential backoff on errors.
// What to do with the bytes is the caller's business: each new download goes to `onBundle`.
import { ServiceClient } from './service.js';
import { HttpRequestError } from '../net/http-client.js';
import { OciPuller, ociReferenceOf } from './oci.js';
import { defaultBundleLimits } from './files.js';
import { currentTrace, tracedRoot, type TraceContext } from '../tracing/index.js';
import { timerDelay } from '../timer-delay.js';

/** `bundles.<name>` of OPA's config, the download part (snake_case as in OPA's config file). */
export interface BundleSourceConfig {
  service: string;
  /** Default `bundles/<name>`. */
  resource?: string;
  polling?: { min_delay_seconds?: number; max_delay_seconds?: number; long_polling_timeout_seconds?: number };
  /** `manual`: no polling loop, downloads only on trigger(). */
  trigger?: 'periodic' | 'manual';
  /** OPA's per-file limit on the bundle's contents, applied when the archive is read (fileSizeLimit). */
  size_limit_bytes?: number;
}

export interface DownloadedBundle {
  /** The gzipped tarball exactly as served. */
  bytes: Buffer;
  etag?: string;
}

/**
 * Receives each new download. Resolve once the bundle is active; reject to refuse it (bad signature, compile
 * error, ...). A rejection is recorded as the source's last error and nothing else changes: the previously
 * active bundle keeps serving, which the activator guarantees, and the next poll downloads the bundle again.
 */
export type OnBundle = (bundle: DownloadedBundle) => Promise<void>;

export interface DownloadStatus {
  name: string;
  resource: string;
  lastRequest?: Date;
  lastSuccessfulRequest?: Date;
  lastSuccessfulDownload?: Date;
  lastSuccessfulActivation?: Date;
  etag?: string;
  /** HTTP status of the last failed request, when the server answered. */
  httpCode?: number;
  /** Why the last poll failed (download or activation); cleared by the next success. */
  lastError?: string;
  /** Bytes of the last bundle downloaded, and how long its request took (OPA's status `size`, `timer_bundle_request_ns`). */
  size?: number;
  requestNs?: number;
  /** Bundles downloaded and handed to onBundle / polls that failed. */
  downloads: number;
  failures: number;
  longPolling: boolean;
}

export const bundleContentType = 'application/vnd.openpolicyagent.bundles';

/**
 * Largest download (an HTTP body, an OCI layer) accepted: the reader's limit on a compressed archive, enforced
 * while the bytes arrive. `size_limit_bytes` does not set it: in OPA that bounds each file in the bundle.
 */
const downloadLimit = defaultBundleLimits.maxCompressedBytes;

/** OPA's default `size_limit_bytes`. (OPA takes 0 or less as the default too; the config schema refuses them.) */
const defaultFileSizeLimit = 1024 * 1024 * 1024;

/** The per-file limit a downloaded bundle's archive is read with (BundleLimits.sizeLimitBytes), as OPA sets it. */
export function fileSizeLimit(config: Pick<BundleSourceConfig, 'size_limit_bytes'>): number {
  return config.size_limit_bytes ?? defaultFileSizeLimit;
}
const minRetryDelayMs = 100;

export interface DownloaderOptions {
  /** Source of randomness for jitter; tests pin it. */
  random?: () => number;
  /** Called after every poll with the new status (for logs, metrics and status reports). */
  onStatus?: (status: DownloadStatus) => void;
  /** ETag of a bundle already active (restored from disk), sent in the first If-None-Match. */
  initialEtag?: string;
}

export class BundleDownloader {
  private state: DownloadStatus;
  private longPollingEnabled: boolean;
  private retries = 0;
  private running = false;
  private loopDone?: Promise<void>;
  private wake?: () => void;
  private inFlight?: AbortController;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly random: () => number;
  /** Set for a service of type "oci": bundles come from a registry instead of a bundle server. */
  private readonly oci?: OciPuller;

  constructor(
    readonly name: string,
    private readonly config: BundleSourceConfig,
    private readonly client: ServiceClient,
    private readonly onBundle: OnBundle,
    private readonly options: DownloaderOptions = {},
  ) {
    const { min_delay_seconds = 60, max_delay_seconds = 120, long_polling_timeout_seconds } = config.polling ?? {};
    if (min_delay_seconds < 0 || max_delay_seconds < min_delay_seconds) {
      throw new Error(`bundle ${name}: polling.max_delay_seconds (${max_delay_seconds}) must not be below min_delay_seconds (${min_delay_seconds})`);
    }
    if (long_polling_timeout_seconds !== undefined && !(long_polling_timeout_seconds > 0)) {
      throw new Error(`bundle ${name}: polling.long_polling_timeout_seconds must be positive`);
    }
    this.longPollingEnabled = long_polling_timeout_seconds !== undefined;
    if (client.config.type === 'oci') {
      // A registry has no long polling; OPA polls it on the min/max delays.
      this.oci = new OciPuller(client);
      this.longPollingEnabled = false;
      ociReferenceOf(name, config.resource);
    }
    this.random = options.random ?? Math.random;
    this.state = {
      name,
      resource: config.resource ?? `bundles/${name}`,
      etag: options.initialEtag,
      downloads: 0,
      failures: 0,
      longPolling: this.longPollingEnabled,
    };
  }

  status(): DownloadStatus {
    return { ...this.state };
  }

  /** Starts the polling loop (nothing to do for `trigger: manual`). The first poll happens at once. */
  start(): void {
    if (this.running || this.config.trigger === 'manual') return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Stops polling and cancels a request in flight; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.inFlight?.abort();
    this.wake?.();
    await this.loopDone;
  }

  /** Polls now (after any poll in flight) and resolves with the resulting status: the admin "trigger". */
  trigger(): Promise<DownloadStatus> {
    return this.exclusive(() => this.poll()).then(() => this.status());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const ok = await this.exclusive(() => this.poll());
      if (!this.running) break;
      await this.sleep(ok ? this.nextPollDelayMs() : this.backoffMs());
      this.retries = ok ? 0 : this.retries + 1;
    }
  }

  private nextPollDelayMs(): number {
    if (this.longPollingEnabled) return 0;
    const { min_delay_seconds = 60, max_delay_seconds = 120 } = this.config.polling ?? {};
    return (min_delay_seconds + (max_delay_seconds - min_delay_seconds) * this.random()) * 1000;
  }

  /** OPA's backoff: 100 ms growing ×1.6 per retry up to max_delay_seconds, ±20% jitter; the first retry is immediate. */
  private backoffMs(): number {
    if (this.retries === 0) return 0;
    const maxMs = (this.config.polling?.max_delay_seconds ?? 120) * 1000;
    let delay = minRetryDelayMs;
    for (let n = this.retries; delay < maxMs && n > 0; n--) delay *= 1.6;
    return Math.min(delay, maxMs) * (1 + 0.2 * (this.random() * 2 - 1));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timerDelay(ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Polls never overlap: the loop and trigger() take turns. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One request, traced when tracing is on; returns whether it succeeded. Never throws. */
  private poll(): Promise<boolean> {
    return tracedRoot('bundle.download', 'client', () => ({ 'opa.bundle.name': this.name }), () => this.request());
  }

  private async request(): Promise<boolean> {
    const now = new Date();
    this.state.lastRequest = now;
    const longPollSeconds = this.longPollingEnabled ? this.config.polling?.long_polling_timeout_seconds : undefined;
    // The download's span is current only until the first await: it is taken now.
    const trace = currentTrace();
    const headers: Record<string, string> = { prefer: longPollSeconds ? `modes=snapshot,delta;wait=${longPollSeconds}` : 'modes=snapshot,delta' };
    if (this.state.etag) headers['if-none-match'] = this.state.etag;
    this.inFlight = new AbortController();
    const started = process.hrtime.bigint();
    try {
      if (this.oci) return await this.pollRegistry(this.inFlight.signal, trace);
      const res = await this.client.get(this.state.resource, {
        headers,
        waitSeconds: longPollSeconds,
        maxBytes: downloadLimit,
        signal: this.inFlight.signal,
        trace,
      });
      if (res.status === 304) {
        this.succeeded(new Date());
        return true;
      }
      if (res.status !== 200) throw new HttpRequestError(`bundle server replied with HTTP ${res.status} for ${this.state.resource}`, res.status);
      if (res.body.length === 0) throw new HttpRequestError(`bundle server replied with an empty body for ${this.state.resource}`, 200);
      // Long polling stays on only while the server answers in OPA's bundle protocol.
      this.longPollingEnabled = this.config.polling?.long_polling_timeout_seconds !== undefined && res.headers['content-type'] === bundleContentType;
      this.state.longPolling = this.longPollingEnabled;
      const etag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined;
      return await this.activate(res.body, etag, started);
    } catch (err) {
      if (!this.running && this.inFlight.signal.aborted) return false;
      this.state.etag = undefined;
      // A failed request is timed too, as OPA's timer_bundle_request_ns.
      this.state.requestNs = Number(process.hrtime.bigint() - started);
      this.failed((err as Error).message, err instanceof HttpRequestError ? err.httpCode : undefined);
      return false;
    } finally {
      this.inFlight = undefined;
      this.options.onStatus?.(this.status());
    }
  }

  /** One registry poll: an unchanged layer digest counts as a 304. */
  private async pollRegistry(signal: AbortSignal, trace: TraceContext | undefined): Promise<boolean> {
    const started = process.hrtime.bigint();
    const pulled = await this.oci!.pull({ resource: this.state.resource, etag: this.state.etag, maxBytes: downloadLimit, signal, trace });
    if (pulled.unchanged) {
      this.succeeded(new Date());
      return true;
    }
    return this.activate(pulled.bytes, pulled.etag, started);
  }

  /** Hands a new download to onBundle; its ETag is kept only once the bundle is active. */
  private async activate(bytes: Buffer, etag: string | undefined, started: bigint): Promise<boolean> {
    this.state.lastSuccessfulDownload = new Date();
    this.state.size = bytes.length;
    this.state.requestNs = Number(process.hrtime.bigint() - started);
    this.state.downloads++;
    try {
      await this.onBundle({ bytes, etag });
    } catch (err) {
      // Forget the ETag so the next poll fetches the bundle again rather than a 304 for a bundle never activated.
      this.state.etag = undefined;
      this.failed(`bundle ${this.name} was downloaded but not activated: ${(err as Error).message}`);
      return false;
    }
    this.state.etag = etag;
    this.state.lastSuccessfulActivation = new Date();
    this.succeeded(new Date());
    return true;
  }

  private succeeded(at: Date): void {
    this.state.lastSuccessfulRequest = at;
    this.state.lastError = undefined;
    this.state.httpCode = undefined;
  }

  private failed(message: string, httpCode?: number): void {
    this.state.failures++;
    this.state.lastError = message;
    this.state.httpCode = httpCode;
  }
}
