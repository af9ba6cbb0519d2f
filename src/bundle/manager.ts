// Owns every bundle Verdict serves, whatever its source: configured downloads, watched local paths and admin
// uploads. Each change goes through the same steps (read within limits, verify signature, parse or apply the
// delta, activate the whole set) one at a time, and any failure leaves the active set as it was. It keeps the
// per-bundle record the admin API, /health?bundles and /v1/status show.
import { defaultBundleLimits, type BundleFile, type BundleLimits } from './files.js';
import { readVerifiedBundle } from './load.js';
import { verificationConfigFor, verifyBundleSignatures, type BundleSigningConfig } from './signing.js';
import { applyPatch, checkDeltaManifest, parsePatchFile, type JsonValue } from './delta.js';
import { BundlePersistence } from './persist.js';
import { RemoteBundleSource, type RemoteBundleConfig } from './remote-source.js';
import { LocalBundleSource } from './watch.js';
import { ServiceClient, normaliseServices, type ServiceClientOptions, type ServiceConfig } from './service.js';
import { fileSizeLimit, type DownloadStatus } from './download.js';
import { ociReferenceOf } from './oci.js';
import { readJson } from '../json/reader.js';

/** The parts of a parsed bundle (bundle.ts's Bundle) the manager needs. */
export interface ManagedBundle {
  name: string;
  manifest: { revision: string; roots: string[]; wasm?: unknown[] };
  data: Record<string, unknown>;
  etag?: string;
}

export interface BundleManagerOptions<B extends ManagedBundle> {
  /** bundle.ts's parseBundle: files → bundle, throwing BundleError with a message naming the problem. */
  parse: (name: string, files: BundleFile[]) => B | Promise<B>;
  /** Swaps in a whole set of bundles atomically or throws leaving the old set serving (the engine). */
  activate: (bundles: B[]) => Promise<void>;
  services?: Record<string, Omit<ServiceConfig, 'name'>> | ServiceConfig[];
  /** Passed to every service client: the configuration's `keys` for OAuth2 signing keys. */
  serviceOptions?: ServiceClientOptions;
  bundles?: Record<string, RemoteBundleConfig & { signing?: BundleSigningConfig }>;
  keys?: Record<string, { key: string; algorithm?: string; scope?: string }>;
  /** Local bundles (`verdict run [--watch] <path>...`), keyed by bundle name. */
  localPaths?: Record<string, string>;
  watch?: boolean;
  /** `--ignore`: names skipped inside local bundle directories. */
  localIgnore?: RegExp[];
  /**
   * Signing config for local bundles (`verdict run --verification-key ...`). Absent: local bundles are loaded
   * without checking signatures, as `opa run -b` does without a verification key.
   */
  localSigning?: BundleSigningConfig;
  /** OPA's persistence_directory; needed for `persist` and for uploads to survive a restart. */
  persistenceDirectory?: string;
  /** Signing config for uploaded bundles; absent: uploads must be unsigned. */
  uploadSigning?: BundleSigningConfig;
  limits?: Partial<BundleLimits>;
  onChange?: (info: BundleInfo) => void;
}

type DownloadSettings = Pick<BundleManagerOptions<ManagedBundle>, 'services' | 'serviceOptions' | 'bundles' | 'keys' | 'persistenceDirectory'>;

/**
 * What the manager checks of its services and downloads when it is built, without building it: no persistence
 * directory read, no source made. For start-up validation.
 */
export function checkDownloads(settings: DownloadSettings): void {
  const clients = serviceClients(normaliseServices(settings.services), settings.serviceOptions);
  for (const [name, config] of Object.entries(settings.bundles ?? {})) downloadOf(name, config, clients, settings.keys, settings.persistenceDirectory !== undefined);
}

/** A client for every service, used or not, so a bad credential setting stops start-up (or a reconfiguration). */
function serviceClients(services: ServiceConfig[], options: ServiceClientOptions | undefined): Map<string, ServiceClient> {
  return new Map(services.map((s) => [s.name, new ServiceClient(s, options)]));
}

/** A download's service client and signature checks; throws naming the bundle when either is wrong. */
function downloadOf(name: string, config: RemoteBundleConfig & { signing?: BundleSigningConfig }, clients: Map<string, ServiceClient>, keys: DownloadSettings['keys'], persistence: boolean) {
  const client = clients.get(config.service) ?? (config.service ? undefined : clients.values().next().value);
  if (!client) throw new Error(`bundle ${name}: service ${JSON.stringify(config.service)} is not configured`);
  if (client.config.type === 'oci') ociReferenceOf(name, config.resource);
  const signing = verificationConfigFor(name, config.signing, keys);
  if (config.persist && !persistence) throw new Error(`bundle ${name}: persist needs a persistence directory`);
  return { client, signing };
}

export type BundleSourceKind = 'download' | 'file' | 'upload';

export interface BundleInfo {
  name: string;
  source: BundleSourceKind;
  /** Where it comes from: the resource URL, the local path, or "admin API". */
  location: string;
  revision?: string;
  etag?: string;
  activatedAt?: Date;
  lastError?: string;
  lastErrorAt?: Date;
  activations: number;
  failures: number;
  /** Whether the last activation was a snapshot or a delta bundle, and how long activating the set took. */
  type?: 'snapshot' | 'delta';
  activationNs?: number;
  /** Download details for `download` bundles. */
  download?: DownloadStatus;
}

/** An admin request the manager refuses: `status` is the HTTP status the API should answer with. */
export class BundleRequestError extends Error {
  override name = 'BundleRequestError';
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message);
  }
}

export class BundleManager<B extends ManagedBundle> {
  private readonly active = new Map<string, B>();
  private readonly records = new Map<string, BundleInfo>();
  private readonly remotes = new Map<string, RemoteBundleSource>();
  private readonly locals = new Map<string, LocalBundleSource>();
  private readonly persistence?: BundlePersistence;
  private readonly seenFailures = new Map<string, number>();
  private queue: Promise<unknown> = Promise.resolve();
  private remoteConfigs: Record<string, RemoteBundleConfig & { signing?: BundleSigningConfig }>;
  private services: ServiceConfig[];
  private clients: Map<string, ServiceClient>;
  private keys: BundleManagerOptions<B>['keys'];
  private started = false;

  constructor(private readonly options: BundleManagerOptions<B>) {
    if (options.persistenceDirectory) this.persistence = new BundlePersistence(options.persistenceDirectory);
    this.remoteConfigs = options.bundles ?? {};
    this.services = normaliseServices(options.services);
    this.clients = this.clientsFor(this.services);
    this.keys = options.keys;
    for (const [name, config] of Object.entries(this.remoteConfigs)) {
      const { source, location } = this.remoteSource(name, config);
      this.remotes.set(name, source);
      this.records.set(name, this.newRecord(name, 'download', location));
    }
    for (const [name, path] of Object.entries(options.localPaths ?? {})) {
      if (this.records.has(name)) throw new Error(`bundle ${name} is both downloaded and loaded from ${path}`);
      const signing = verificationConfigFor(name, options.localSigning, options.keys);
      const source = new LocalBundleSource(name, path, async (read) => {
        await this.change(name, 'file', async () => {
          const files = signing ? (await verifyBundleSignatures(read, signing)).files : read;
          return { bundle: await this.options.parse(name, files) };
        });
      }, { limits: { ...defaultBundleLimits, ...options.limits }, ignore: options.localIgnore, onStatus: (s) => this.noteSourceFailures(name, s.failures, s.lastError) });
      this.locals.set(name, source);
      this.records.set(name, this.newRecord(name, 'file', path));
    }
  }

  /** Loads local bundles and persisted copies (uploads, persist:true downloads), then starts polling and watching. */
  async start(): Promise<void> {
    this.started = true;
    for (const local of this.locals.values()) {
      await local.reload();
      if (this.options.watch) await local.start();
    }
    await this.restoreUploads();
    await Promise.all([...this.remotes.values()].map((remote) => remote.start()));
    for (const [name, remote] of this.remotes) {
      const { persistError } = remote.status();
      if (persistError) this.noteFailure(name, persistError);
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.remotes.values()].map((r) => r.stop()));
    await Promise.all([...this.locals.values()].map((l) => l.stop()));
    await this.queue;
  }

  /**
   * Discovery: the configured downloads become `bundles` (with `services` and `keys`). Downloads whose config
   * is unchanged keep running; removed or changed ones stop and their bundles leave the active set; new ones
   * start. Everything is checked before anything changes, so a bad config throws and changes nothing.
   */
  async reconfigure(next: Pick<BundleManagerOptions<B>, 'services' | 'bundles' | 'keys'>): Promise<void> {
    const bundles = next.bundles ?? {};
    const services = normaliseServices(next.services);
    const serviceOf = (list: ServiceConfig[], config: { service: string }) => JSON.stringify(list.find((s) => s.name === config.service) ?? (config.service ? undefined : list[0]));
    const unchanged = (name: string) =>
      Object.hasOwn(bundles, name) &&
      JSON.stringify(bundles[name]) === JSON.stringify(this.remoteConfigs[name]) &&
      serviceOf(services, bundles[name]!) === serviceOf(this.services, this.remoteConfigs[name]!) &&
      JSON.stringify(next.keys ?? {}) === JSON.stringify(this.keys ?? {});
    const removed = [...this.remotes.keys()].filter((name) => !unchanged(name));
    const previous = { services: this.services, clients: this.clients, keys: this.keys };
    this.services = services;
    this.keys = next.keys;
    const added = new Map<string, ReturnType<BundleManager<B>['remoteSource']>>();
    try {
      this.clients = this.clientsFor(services);
      for (const [name, config] of Object.entries(bundles)) {
        if (this.remotes.has(name) && !removed.includes(name)) continue;
        const existing = this.records.get(name);
        if (existing && existing.source !== 'download') throw new Error(`bundle ${name} is both downloaded and loaded from ${existing.location}`);
        added.set(name, this.remoteSource(name, config));
      }
    } catch (err) {
      this.services = previous.services;
      this.clients = previous.clients;
      this.keys = previous.keys;
      throw err;
    }
    // Stopped first (a stopped source activates nothing more), then the rest of the set activated once: the
    // policies left must compile without the removed bundles, or this throws with them still serving.
    await Promise.all(removed.map((name) => this.remotes.get(name)!.stop()));
    await this.exclusive(async () => {
      if (!removed.some((name) => this.active.has(name))) return;
      const rest = new Map(this.active);
      for (const name of removed) rest.delete(name);
      await this.options.activate([...rest.values()]);
      for (const name of removed) this.active.delete(name);
    });
    for (const name of removed) {
      this.remotes.delete(name);
      this.records.delete(name);
      this.seenFailures.delete(name);
    }
    this.remoteConfigs = bundles;
    for (const [name, { source, location }] of added) {
      this.remotes.set(name, source);
      this.records.set(name, this.newRecord(name, 'download', location));
      if (this.started) await source.start();
    }
  }

  /** /health?bundles: every configured bundle (download or local) has been activated at least once. */
  ready(): boolean {
    return [...this.records.values()].filter((r) => r.source !== 'upload').every((r) => r.activations > 0);
  }

  list(): BundleInfo[] {
    return [...this.records.values()].map((r) => ({ ...r })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  get(name: string): BundleInfo | undefined {
    const record = this.records.get(name);
    return record && { ...record };
  }

  /** PUT /v1/bundles/{name}: verify, activate and persist an uploaded bundle. Throws on refusal. */
  async upload(name: string, bytes: Buffer): Promise<BundleInfo> {
    const existing = this.uploadable(name);
    if (!existing) this.records.set(name, this.newRecord(name, 'upload', 'admin API'));
    const signing = verificationConfigFor(name, this.options.uploadSigning, this.options.keys);
    try {
      await this.change(name, 'upload', () => this.fromArchive(name, bytes, signing));
    } catch (err) {
      if (existing) this.noteFailure(name, (err as Error).message);
      else this.records.delete(name);
      throw err;
    }
    try {
      await this.persistence?.save(name, bytes, { source: 'upload' });
    } catch (err) {
      // The bundle is active; only its survival across a restart failed. Recorded, not thrown at the uploader.
      this.noteFailure(name, `bundle ${name} is active but could not be persisted: ${(err as Error).message}`);
    }
    return this.get(name)!;
  }

  /**
   * The active set as it would be with `bytes` uploaded as `name`: checked, read, verified and parsed (a delta
   * applied) as an upload is, for a dry run. Nothing is activated, persisted or recorded.
   */
  async uploadCandidate(name: string, bytes: Buffer): Promise<B[]> {
    this.uploadable(name);
    const { bundle } = await this.fromArchive(name, bytes, verificationConfigFor(name, this.options.uploadSigning, this.options.keys));
    return [...new Map(this.active).set(name, bundle).values()];
  }

  /** The record an upload as `name` would replace (undefined: a new bundle); throws when it may not. */
  private uploadable(name: string): BundleInfo | undefined {
    if (!name || name.includes('/')) throw new BundleRequestError(400, `bundle name ${JSON.stringify(name)} is not valid: use a non-empty name without "/"`);
    const existing = this.records.get(name);
    if (existing && existing.source !== 'upload') {
      throw new BundleRequestError(409, `bundle ${name} comes from ${existing.source === 'download' ? 'a bundle server' : 'a local path'} and cannot be replaced by an upload`);
    }
    return existing;
  }

  /** DELETE /v1/bundles/{name}: deactivates an uploaded bundle and forgets its persisted copy. */
  async remove(name: string): Promise<void> {
    const record = this.records.get(name);
    if (!record) throw new BundleRequestError(404, `bundle ${name} not found`);
    if (record.source !== 'upload') throw new BundleRequestError(409, `bundle ${name} comes from the configuration; remove it there`);
    await this.exclusive(async () => {
      const next = new Map(this.active);
      next.delete(name);
      await this.options.activate([...next.values()]);
      this.active.delete(name);
      this.records.delete(name);
    });
    await this.persistence?.remove(name);
  }

  /** POST /v1/bundles/{name}/trigger: polls a configured bundle now. */
  async trigger(name: string): Promise<BundleInfo> {
    const remote = this.remotes.get(name);
    if (!remote) throw new BundleRequestError(this.records.has(name) ? 409 : 404, `bundle ${name} is not downloaded from a bundle server`);
    await remote.trigger();
    return this.get(name)!;
  }

  /** The active bundles (for data.system.bundles and status). */
  activeBundles(): B[] {
    return [...this.active.values()];
  }

  private clientsFor(services: ServiceConfig[]): Map<string, ServiceClient> {
    return serviceClients(services, this.options.serviceOptions);
  }

  private remoteSource(name: string, config: RemoteBundleConfig & { signing?: BundleSigningConfig }): { source: RemoteBundleSource; location: string } {
    const { client, signing } = downloadOf(name, config, this.clients, this.keys, this.persistence !== undefined);
    const source = new RemoteBundleSource(
      name,
      config,
      client,
      async ({ bytes, etag }) => this.change(name, 'download', () => this.fromArchive(name, bytes, signing, fileSizeLimit(config)), etag),
      config.persist ? this.persistence : undefined,
      { onStatus: (download) => this.noteDownload(name, download) },
    );
    // An OCI bundle's resource is already a full image reference.
    const location = client.config.type === 'oci' ? config.resource ?? '' : `${client.config.url.replace(/\/+$/, '')}/${(config.resource ?? `bundles/${name}`).replace(/^\/+/, '')}`;
    return { source, location };
  }

  private async restoreUploads(): Promise<void> {
    if (!this.persistence) return;
    for (const name of await this.persistence.names()) {
      if (this.records.has(name)) continue;
      const saved = await this.persistence.load(name);
      if (saved?.source !== 'upload') continue;
      this.records.set(name, this.newRecord(name, 'upload', 'admin API'));
      const signing = verificationConfigFor(name, this.options.uploadSigning, this.options.keys);
      await this.change(name, 'upload', () => this.fromArchive(name, saved.bytes, signing)).catch((err: Error) => {
        this.noteFailure(name, `persisted upload could not be restored: ${err.message}`);
      });
    }
  }

  /** `sizeLimitBytes`: a downloaded bundle's per-file limit (fileSizeLimit, BundleLimits.sizeLimitBytes). */
  private async fromArchive(name: string, bytes: Buffer, signing: ReturnType<typeof verificationConfigFor>, sizeLimitBytes?: number): Promise<{ bundle: B; delta?: boolean }> {
    const { files } = await readVerifiedBundle(bytes, { limits: { ...this.options.limits, sizeLimitBytes }, signing });
    const patch = files.find((f) => f.path === 'patch.json');
    const operations = patch ? parsePatchFile(patch.data) : [];
    if (operations.length === 0) return { bundle: await this.options.parse(name, files) };
    const current = this.active.get(name);
    if (!current) throw new Error(`delta bundle for ${name} arrived but no snapshot of it is active`);
    const manifestFile = files.find((f) => f.path === '.manifest');
    const manifest = manifestFile ? (readJson(manifestFile.data.toString('utf8')) as ManagedBundle['manifest']) : current.manifest;
    checkDeltaManifest(name, current.manifest, manifest);
    const data = applyPatch(current.data as { [key: string]: JsonValue }, operations);
    return { bundle: { ...current, data, manifest: { ...current.manifest, revision: manifest.revision ?? current.manifest.revision } }, delta: true };
  }

  /**
   * One change to the active set: build the new bundle, activate the whole set, record the success.
   * A failure is thrown to the source, which reports it once (see noteSourceFailures and upload()).
   */
  private change(name: string, source: BundleSourceKind, build: () => Promise<{ bundle: B; delta?: boolean }>, etag?: string): Promise<{ delta?: boolean }> {
    return this.exclusive(async () => {
      const { bundle, delta } = await build();
      if (etag) bundle.etag = etag;
      const next = new Map(this.active).set(name, bundle);
      const started = process.hrtime.bigint();
      await this.options.activate([...next.values()]);
      const activationNs = Number(process.hrtime.bigint() - started);
      this.active.set(name, bundle);
      const record = this.records.get(name) ?? this.newRecord(name, source, '');
      const type = delta ? 'delta' : 'snapshot';
      Object.assign(record, { revision: bundle.manifest.revision, etag, activatedAt: new Date(), lastError: undefined, lastErrorAt: undefined, type, activationNs });
      record.activations++;
      this.records.set(name, record);
      this.options.onChange?.({ ...record });
      return { delta };
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private newRecord(name: string, source: BundleSourceKind, location: string): BundleInfo {
    return { name, source, location, activations: 0, failures: 0 };
  }

  private noteFailure(name: string, message: string): void {
    const record = this.records.get(name);
    if (!record) return;
    record.failures++;
    record.lastError = message;
    record.lastErrorAt = new Date();
    this.options.onChange?.({ ...record });
  }

  private noteDownload(name: string, download: DownloadStatus): void {
    const record = this.records.get(name);
    if (record) record.download = download;
    this.noteSourceFailures(name, download.failures, download.lastError);
  }

  /** Sources count their failures (download, read, verify, activate); each new one is recorded once. */
  private noteSourceFailures(name: string, failures: number, lastError: string | undefined): void {
    const seen = this.seenFailures.get(name) ?? 0;
    if (failures > seen && lastError) this.noteFailure(name, lastError);
    this.seenFailures.set(name, failures);
  }
}
