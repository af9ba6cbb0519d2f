// `persist: true` (docs: management-bundles, "Bundle Persistence"): the last bundle that activated is kept at
// <persistence_directory>/bundles/<name>/bundle.tar.gz, and loaded at start-up before the first download, so
// Verdict serves policy even while the bundle server is down. Writes go to a temporary file renamed into place,
// so a crash mid-write never leaves a torn bundle behind.
import { readFile, rename, rm, readdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { makeOwnerOnlyDir, ownerOnlyFileMode } from '../fs/owner-only.js';
import { threadId } from 'node:worker_threads';

export interface PersistedBundle {
  name: string;
  bytes: Buffer;
  etag?: string;
  /** Where the bundle came from, e.g. "download" or "upload"; lets start-up restore uploaded bundles too. */
  source?: string;
  savedAt: string;
}

interface Meta {
  etag?: string;
  source?: string;
  savedAt: string;
}

export class BundlePersistence {
  private readonly root: string;

  /** `persistenceDirectory` is OPA's `persistence_directory` (default ./.opa in OPA; the caller picks ours). */
  constructor(persistenceDirectory: string) {
    this.root = join(persistenceDirectory, 'bundles');
  }

  // Bundle names are free text (may hold "/" or ".."): encoded so each is exactly one directory under root.
  private dir(name: string): string {
    if (name === '') throw new Error('bundle name must not be empty');
    return join(this.root, encodeURIComponent(name).replace(/\./g, '%2E'));
  }

  /** Stores the bytes of a bundle that has just been activated. */
  async save(name: string, bytes: Buffer, meta: { etag?: string; source?: string } = {}): Promise<void> {
    const dir = this.dir(name);
    await makeOwnerOnlyDir(dir);
    const record: Meta = { ...meta, savedAt: new Date().toISOString() };
    await atomicWrite(join(dir, 'bundle.tar.gz'), bytes);
    await atomicWrite(join(dir, 'bundle.json'), Buffer.from(JSON.stringify(record)));
  }

  /** The stored bundle, or undefined when none was saved. Other read errors are thrown. */
  async load(name: string): Promise<PersistedBundle | undefined> {
    const dir = this.dir(name);
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, 'bundle.tar.gz'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let meta: Partial<Meta> = {};
    try {
      meta = JSON.parse(await readFile(join(dir, 'bundle.json'), 'utf8')) as Meta;
    } catch {
      // Metadata is a convenience (the ETag saves one download); the bundle is usable without it.
    }
    return { name, bytes, etag: meta.etag, source: meta.source, savedAt: meta.savedAt ?? '' };
  }

  async remove(name: string): Promise<void> {
    await rm(this.dir(name), { recursive: true, force: true });
  }

  /** Names of all stored bundles (for restoring uploaded bundles, which no config lists). */
  async names(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => decodeURIComponent(e.name)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

async function atomicWrite(path: string, bytes: Buffer): Promise<void> {
  // Unique per thread too: the server threads of one process share its pid.
  const tmp = `${path}.${process.pid}.${threadId}.${Date.now()}.tmp`;
  const handle = await open(tmp, 'w', ownerOnlyFileMode);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}
