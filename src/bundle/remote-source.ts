// One configured remote bundle from start to stop: restore the persisted copy (if `persist`), then keep it
// fresh from the bundle server, persisting each snapshot that activates. The activator decides what "active"
// means; this module only orders the steps and keeps the record.
import { BundleDownloader, type BundleSourceConfig, type DownloadedBundle, type DownloadStatus, type DownloaderOptions } from './download.js';
import type { BundlePersistence } from './persist.js';
import type { ServiceClient } from './service.js';

/**
 * Activates a bundle (verify, parse, compile, swap in atomically) or rejects leaving the active set untouched.
 * Resolving with `{ delta: true }` says the bytes were a delta bundle, which OPA never persists.
 */
export type Activate = (bundle: DownloadedBundle, origin: 'persisted' | 'download') => Promise<{ delta?: boolean } | void>;

export interface RemoteBundleConfig extends BundleSourceConfig {
  persist?: boolean;
}

export interface RemoteBundleStatus extends DownloadStatus {
  /** Set when the persisted copy was activated at start-up. */
  restoredFromDisk?: Date;
  /** Why the persisted copy could not be restored or saved. */
  persistError?: string;
}

export class RemoteBundleSource {
  private downloader?: BundleDownloader;
  private restoredFromDisk?: Date;
  private persistError?: string;

  constructor(
    readonly name: string,
    private readonly config: RemoteBundleConfig,
    private readonly client: ServiceClient,
    private readonly activate: Activate,
    private readonly persistence?: BundlePersistence,
    private readonly options: Omit<DownloaderOptions, 'initialEtag'> = {},
  ) {}

  /** Restores the persisted bundle (best effort, as OPA), then starts polling. Resolves once polling began. */
  async start(): Promise<void> {
    let initialEtag: string | undefined;
    if (this.config.persist && this.persistence) {
      try {
        const saved = await this.persistence.load(this.name);
        if (saved) {
          await this.activate({ bytes: saved.bytes, etag: saved.etag }, 'persisted');
          this.restoredFromDisk = new Date();
          initialEtag = saved.etag;
        }
      } catch (err) {
        this.persistError = `persisted bundle ${this.name} could not be restored: ${(err as Error).message}`;
      }
    }
    this.downloader = new BundleDownloader(this.name, this.config, this.client, (b) => this.onDownload(b), { ...this.options, initialEtag });
    this.downloader.start();
  }

  async stop(): Promise<void> {
    await this.downloader?.stop();
  }

  /** Polls now; for the admin API's POST /v1/bundles/{name}/trigger. */
  async trigger(): Promise<RemoteBundleStatus> {
    if (!this.downloader) throw new Error(`bundle ${this.name} is not started`);
    await this.downloader.trigger();
    return this.status();
  }

  status(): RemoteBundleStatus {
    const base = this.downloader?.status() ?? { name: this.name, resource: this.config.resource ?? `bundles/${this.name}`, downloads: 0, failures: 0, longPolling: false };
    return { ...base, restoredFromDisk: this.restoredFromDisk, persistError: this.persistError };
  }

  private async onDownload(bundle: DownloadedBundle): Promise<void> {
    const result = await this.activate(bundle, 'download');
    if (!this.config.persist || !this.persistence || result?.delta) return;
    try {
      await this.persistence.save(this.name, bundle.bytes, { etag: bundle.etag, source: 'download' });
      this.persistError = undefined;
    } catch (err) {
      // The bundle is active; failing to keep a copy only matters at the next restart, so it is reported, not fatal.
      this.persistError = `bundle ${this.name} is active but could not be persisted: ${(err as Error).message}`;
    }
  }
}
