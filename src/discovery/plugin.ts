// OPA's discovery plugin: polls the discovery bundle like any bundle download and, for each new one, turns it
// into a configuration (configure.ts) and hands that to `apply`, which reconfigures the bundles, status and
// labels. A bundle that cannot be read, evaluated or checked, or a configuration `apply` refuses, changes
// nothing: the working configuration stays, and the failure shows in the `discovery` status and the log.
import type { Logger } from 'pino';
import { parseBundle } from '../bundle/bundle.js';
import { BundleDownloader, type DownloadStatus } from '../bundle/download.js';
import type { BundleLimits } from '../bundle/files.js';
import { readVerifiedBundle } from '../bundle/load.js';
import type { BundleInfo } from '../bundle/manager.js';
import { ServiceClient } from '../bundle/service.js';
import type { VerdictConfig } from '../config/config.js';
import type { RegoCompiler } from '../engine/compiler.js';
import type { PluginStatus } from '../server/context.js';
import type { Plugin } from '../server/plugins.js';
import type { DiscoverySettings } from './config.js';
import { configFromBundle } from './configure.js';

export interface DiscoveryOptions {
  settings: DiscoverySettings;
  boot: VerdictConfig;
  compiler: RegoCompiler;
  /** Applies a checked configuration; throws (changing nothing) when it cannot. */
  apply: (config: VerdictConfig) => Promise<void>;
  logger: Logger;
  limits?: Partial<BundleLimits>;
}

export class DiscoveryPlugin implements Plugin {
  readonly name = 'discovery';
  /** /health?bundles waits for the first discovered configuration, as OPA's does. */
  readonly kind = 'bundle';
  private readonly downloader: BundleDownloader;
  private readonly record: BundleInfo;
  /** OPA's status message after a success: the discovered keys the boot configuration overrode. */
  private overriddenMessage?: string;
  private seenFailures = 0;
  private seenDownloads = 0;

  constructor(private readonly options: DiscoveryOptions) {
    const { settings } = options;
    this.record = { name: 'discovery', source: 'download', location: `${settings.service.url.replace(/\/+$/, '')}/${settings.download.resource!.replace(/^\/+/, '')}`, activations: 0, failures: 0 };
    this.downloader = new BundleDownloader('discovery', settings.download, new ServiceClient(settings.service, { keys: settings.serviceKeys }), async ({ bytes }) => this.configure(bytes), {
      onStatus: (download) => this.noteDownload(download),
    });
  }

  async start(): Promise<void> {
    this.downloader.start();
  }

  stop(): Promise<void> {
    return this.downloader.stop();
  }

  status(): PluginStatus {
    return { state: this.record.activations > 0 ? 'OK' : 'NOT_READY' };
  }

  /** The discovery bundle's record, for the status report's `discovery` entry. */
  info(): BundleInfo | undefined {
    return this.record.download ? { ...this.record } : undefined;
  }

  message(): string | undefined {
    return this.record.lastError ? undefined : this.overriddenMessage;
  }

  private async configure(bytes: Buffer): Promise<void> {
    const { settings, boot, compiler, apply, limits, logger } = this.options;
    const { files } = await readVerifiedBundle(bytes, { limits, signing: settings.signing });
    const bundle = parseBundle('discovery', files);
    const { config, overridden } = await configFromBundle(bundle, settings, boot, compiler);
    await apply(config);
    Object.assign(this.record, { revision: bundle.manifest.revision, activatedAt: new Date(), lastError: undefined, lastErrorAt: undefined, type: 'snapshot' });
    this.record.activations++;
    this.overriddenMessage = overridden.length > 0 ? `Keys in the discovered configuration overridden by boot configuration: ${overridden.join(', ')}` : undefined;
    logger.info({ revision: bundle.manifest.revision, ...(overridden.length ? { overridden } : {}) }, 'Discovery update processed successfully.');
  }

  private noteDownload(download: DownloadStatus): void {
    this.record.download = download;
    if (download.failures > this.seenFailures && download.lastError) {
      this.record.failures++;
      this.record.lastError = download.lastError;
      this.record.lastErrorAt = new Date();
      this.options.logger.error({ err: download.lastError }, 'Discovery update failed; the working configuration is unchanged.');
    }
    this.seenFailures = download.failures;
    // As OPA, the overridden-keys message goes with the report of the download that applied; a poll that
    // finds the bundle unchanged clears it.
    if (!download.lastError && download.downloads === this.seenDownloads) this.overriddenMessage = undefined;
    this.seenDownloads = download.downloads;
  }
}
