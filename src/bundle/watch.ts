// A bundle on local disk (a directory or a .tar.gz file given to `verdict run --watch`), reloaded when it
// changes. Editors write files in bursts, so changes are debounced into one reload. A reload that fails (a half-
// written or broken bundle) is recorded and the activator keeps the previous bundle serving.
import { watch, type FSWatcher } from 'chokidar';
import { readFile, stat } from 'node:fs/promises';
import { readBundleArchive, readBundleDirectory, defaultBundleLimits, type BundleFile, type BundleLimits } from './files.js';

/** Verifies and activates the files, or rejects leaving the active bundle in place. */
export type ActivateFiles = (files: BundleFile[]) => Promise<void>;

export interface LocalBundleStatus {
  name: string;
  path: string;
  lastSuccessfulActivation?: Date;
  lastError?: string;
  loads: number;
  failures: number;
}

export interface LocalBundleOptions {
  debounceMs?: number;
  limits?: BundleLimits;
  /** `--ignore` patterns for directory bundles. */
  ignore?: RegExp[];
  onStatus?: (status: LocalBundleStatus) => void;
}

export class LocalBundleSource {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private reloading: Promise<void> = Promise.resolve();
  private state: LocalBundleStatus;

  constructor(readonly name: string, readonly path: string, private readonly activate: ActivateFiles, private readonly options: LocalBundleOptions = {}) {
    this.state = { name, path, loads: 0, failures: 0 };
  }

  status(): LocalBundleStatus {
    return { ...this.state };
  }

  /** Starts watching; resolves once the watcher is ready (changes from then on trigger reloads). */
  async start(): Promise<void> {
    if (this.watcher) return;
    this.watcher = watch(this.path, { ignoreInitial: true });
    this.watcher.on('all', () => this.schedule());
    this.watcher.on('error', (err) => this.record(`watching ${this.path} failed: ${(err as Error).message}`));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    this.watcher = undefined;
    await this.reloading;
  }

  /** Reads and activates the bundle now; reloads never overlap. Resolves with the status afterwards. */
  reload(): Promise<LocalBundleStatus> {
    this.reloading = this.reloading.then(() => this.load());
    return this.reloading.then(() => this.status());
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.options.debounceMs ?? 300);
  }

  private async load(): Promise<void> {
    const limits = this.options.limits ?? defaultBundleLimits;
    try {
      const files = (await stat(this.path)).isDirectory()
        ? await readBundleDirectory(this.path, limits, this.options.ignore)
        : await readBundleArchive(await readFile(this.path), limits);
      await this.activate(files);
      this.state.loads++;
      this.state.lastSuccessfulActivation = new Date();
      this.state.lastError = undefined;
      this.options.onStatus?.(this.status());
    } catch (err) {
      this.record(`bundle ${this.name} from ${this.path} was not loaded: ${(err as Error).message}`);
    }
  }

  private record(message: string): void {
    this.state.failures++;
    this.state.lastError = message;
    this.options.onStatus?.(this.status());
  }
}
