// Reads the raw files of a bundle, from a gzipped tarball or a directory, before anything interprets them.
// Every path is normalised to a relative, slash-separated form ("a/b/data.json") and checked here, so later
// stages never see "..", absolute paths, links or duplicates.
import { createGunzip, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { readdir, readFile, lstat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import tar from 'tar-stream';

/** One file of a bundle: its path inside the bundle (no leading slash) and its bytes. */
export interface BundleFile {
  path: string;
  data: Buffer;
}

/** Bounds on what a bundle may contain. */
export interface BundleLimits {
  /**
   * A downloaded bundle's `size_limit_bytes`: as in OPA, the largest size a file in the archive may state in its
   * tar header (not the archive's size), refused with OPA's message before the file is read.
   */
  sizeLimitBytes?: number;
  maxCompressedBytes: number;
  maxUncompressedBytes: number;
  maxFileBytes: number;
  maxFiles: number;
  maxPathDepth: number;
  /**
   * Largest uncompressed/compressed size ratio once the content passes `ratioFloorBytes`; ordinary JSON and Rego
   * compress 5-20×, a gzip bomb up to ~1000×. Small bundles are exempt so a tiny repetitive file is not refused.
   */
  maxCompressionRatio: number;
  ratioFloorBytes: number;
}

export const defaultBundleLimits: BundleLimits = {
  maxCompressedBytes: 1024 * 1024 * 1024,
  maxUncompressedBytes: 1024 * 1024 * 1024,
  maxFileBytes: 1024 * 1024 * 1024,
  maxFiles: 100_000,
  maxPathDepth: 64,
  maxCompressionRatio: 200,
  ratioFloorBytes: 16 * 1024 * 1024,
};

/** A bundle that cannot be read; the message names the offending file or limit. */
export class BundleError extends Error {
  override name = 'BundleError';
}

/** Normalises a path from a tarball or directory and rejects anything that could escape the bundle. */
export function normaliseBundlePath(raw: string, limits: BundleLimits = defaultBundleLimits): string {
  const path = raw.replace(/\\/g, '/').replace(/^\.\//, '');
  // A drive letter or a UNC host is absolute on some system whatever we do with it: refused, never re-rooted.
  if (/^[A-Za-z]:/.test(path) || path.startsWith('//')) {
    throw new BundleError(`bundle path ${JSON.stringify(raw)} is an absolute path`);
  }
  if (path.startsWith('/')) {
    // OPA's own `opa build` writes "/data.json"; a leading slash means the bundle root, not the filesystem root.
    return normaliseBundlePath(path.slice(1), limits);
  }
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new BundleError(`bundle path ${JSON.stringify(raw)} escapes the bundle root`);
  if (parts.length > limits.maxPathDepth) {
    throw new BundleError(`bundle path ${JSON.stringify(raw)} is deeper than ${limits.maxPathDepth} levels`);
  }
  return parts.join('/');
}

/** Reads a gzipped tarball held in memory, streaming through gunzip so a gzip bomb is stopped at the limit. */
export async function readBundleArchive(
  archive: Uint8Array,
  limits: BundleLimits = defaultBundleLimits,
): Promise<BundleFile[]> {
  if (archive.byteLength > limits.maxCompressedBytes) {
    throw new BundleError(`bundle archive is ${archive.byteLength} bytes, over the limit of ${limits.maxCompressedBytes}`);
  }
  const files: BundleFile[] = [];
  const seen = new Set<string>();
  let total = 0;
  const extract = tar.extract();
  const gunzip = createGunzip({ chunkSize: gunzipChunkSize(archive, limits) });
  // A view of the archive: a copy put a large bundle's bytes in malloc's heap once more for the whole read.
  const source = Readable.from([Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength)]);
  const failed = new Promise<never>((_, reject) => {
    gunzip.on('error', (err) => reject(new BundleError(`bundle archive is not valid gzip: ${err.message}`)));
    extract.on('error', (err) => reject(new BundleError(`bundle archive is not a valid tar: ${err.message}`)));
  });
  source.pipe(gunzip).pipe(extract);
  const read = (async () => {
    for await (const entry of extract) {
      const { header } = entry;
      if (header.type === 'directory') {
        entry.resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        throw new BundleError(`bundle entry ${JSON.stringify(header.name)} is a ${header.type}; only regular files are allowed`);
      }
      if (limits.sizeLimitBytes !== undefined && (header.size ?? 0) > limits.sizeLimitBytes) {
        throw new BundleError(`bundle file ${header.name} size (${header.size} bytes) exceeds configured size_limit_bytes (${limits.sizeLimitBytes} bytes)`);
      }
      const path = normaliseBundlePath(header.name, limits);
      if (seen.has(path)) throw new BundleError(`bundle contains ${JSON.stringify(path)} more than once`);
      seen.add(path);
      if (files.length + 1 > limits.maxFiles) throw new BundleError(`bundle has more than ${limits.maxFiles} files`);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        size += chunk.length;
        total += chunk.length;
        if (size > limits.maxFileBytes) throw new BundleError(`bundle file ${JSON.stringify(path)} is larger than ${limits.maxFileBytes} bytes`);
        if (total > limits.maxUncompressedBytes) throw new BundleError(`bundle is larger than ${limits.maxUncompressedBytes} bytes uncompressed`);
        if (total > limits.ratioFloorBytes && total > archive.byteLength * limits.maxCompressionRatio) {
          throw new BundleError(
            `bundle archive expands more than ${limits.maxCompressionRatio} times its compressed size of ${archive.byteLength} bytes (a gzip bomb?)`,
          );
        }
        chunks.push(chunk);
      }
      files.push({ path, data: Buffer.concat(chunks) });
    }
    return files;
  })();
  try {
    return await Promise.race([read, failed]);
  } finally {
    source.destroy();
    gunzip.destroy();
    extract.destroy();
  }
}

/**
 * Output chunk size for gunzipping `archive`: the size its gzip trailer states (ISIZE, the last member's size
 * modulo 2^32: a hint, capped by the limits), so the tarball comes out in one buffer. In zlib's default 16 KiB
 * chunks, 100 MB of data was 6,000 short-lived mallocs held until the files were joined, which grew glibc's
 * heap by as much; free again, that heap stayed resident, pinned by the few lasting allocations made
 * meanwhile. One large buffer is mapped and unmapped whole.
 */
function gunzipChunkSize(archive: Uint8Array, limits: BundleLimits): number {
  const stated = archive.byteLength >= 18 ? new DataView(archive.buffer, archive.byteOffset + archive.byteLength - 4).getUint32(0, true) : 0;
  return Math.max(DEFAULT_GUNZIP_CHUNK, Math.min(stated + 1, limits.maxUncompressedBytes + 1, MAX_GUNZIP_CHUNK));
}

const DEFAULT_GUNZIP_CHUNK = 16 << 10;
const MAX_GUNZIP_CHUNK = 1 << 30;

/** Reads a bundle laid out as a directory; symbolic links and special files are refused. */
export async function readBundleDirectory(
  dir: string,
  limits: BundleLimits = defaultBundleLimits,
  /** `--ignore`: entries whose name matches are skipped (files and whole directories). */
  ignore: RegExp[] = [],
): Promise<BundleFile[]> {
  const files: BundleFile[] = [];
  let total = 0;
  async function walk(current: string): Promise<void> {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      if (ignore.some((pattern) => pattern.test(entry.name))) continue;
      const full = join(current, entry.name);
      const path = normaliseBundlePath(relative(dir, full).split(sep).join('/'), limits);
      const info = await lstat(full);
      if (info.isDirectory()) {
        await walk(full);
      } else if (info.isFile()) {
        if (files.length + 1 > limits.maxFiles) throw new BundleError(`bundle has more than ${limits.maxFiles} files`);
        if (info.size > limits.maxFileBytes) throw new BundleError(`bundle file ${JSON.stringify(path)} is larger than ${limits.maxFileBytes} bytes`);
        total += info.size;
        if (total > limits.maxUncompressedBytes) throw new BundleError(`bundle is larger than ${limits.maxUncompressedBytes} bytes`);
        files.push({ path, data: await readFile(full) });
      } else {
        throw new BundleError(`bundle entry ${JSON.stringify(path)} is not a regular file or directory`);
      }
    }
  }
  await walk(dir);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files;
}

/** Writes files as a gzipped tarball in the layout bundle servers serve (and `opa build` writes). */
export async function writeBundleArchive(files: BundleFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const file of files) {
    pack.entry({ name: file.path, size: file.data.length, mode: 0o644, mtime: new Date(0) }, file.data);
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}
