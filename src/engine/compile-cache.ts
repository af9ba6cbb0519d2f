// Compile results by content hash, in memory and on disk, so restarts, re-downloads of an unchanged bundle and
// workers of one server compile a given set of modules once. The key covers everything the output depends on:
// the modules (path, package, source), the Rego version and the compiler's fingerprint (planner and back-end
// versions), so a new OPA or a rebuilt runtime never serves a stale module.
import { createHash } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegoModule } from '../bundle/bundle.js';
import { makeOwnerOnlyDir, writeOwnerOnlyFile } from '../fs/owner-only.js';
import type { CompiledPolicy, RegoCompiler } from './compiler.js';

/** Bump when the cached files' layout changes. */
const FORMAT = 'verdict-compile-cache/2';

export class CachingCompiler implements RegoCompiler {
  private readonly memory = new Map<string, Promise<CompiledPolicy>>();
  /** Hits and misses, for tests and metrics. */
  readonly stats = { memory: 0, disk: 0, compiled: 0 };

  constructor(
    private readonly inner: RegoCompiler,
    /** Identifies the compiler's versions; part of every key. */
    private readonly fingerprint: string,
    /** Folder for cached modules; undefined keeps the cache in memory only. */
    private readonly dir?: string,
  ) {}

  compile(modules: RegoModule[], options: { regoVersion: 0 | 1 }): Promise<CompiledPolicy> {
    const key = cacheKey(this.fingerprint, modules, options.regoVersion);
    let result = this.memory.get(key);
    if (result) {
      this.stats.memory++;
    } else {
      result = this.load(key, modules, options);
      this.memory.set(key, result);
      // A failed compile is not cached: the error may come from the environment (a missing OPA, a full disk).
      result.catch(() => this.memory.delete(key));
    }
    return result;
  }

  private async load(key: string, modules: RegoModule[], options: { regoVersion: 0 | 1 }): Promise<CompiledPolicy> {
    const cached = this.dir ? await readCached(this.dir, key) : undefined;
    if (cached) {
      this.stats.disk++;
      return cached;
    }
    const compiled = await this.inner.compile(modules, options);
    this.stats.compiled++;
    if (this.dir) await writeCached(this.dir, key, compiled);
    return compiled;
  }
}

export function cacheKey(fingerprint: string, modules: RegoModule[], regoVersion: 0 | 1): string {
  const hash = createHash('sha256').update(`${FORMAT}\0${fingerprint}\0${regoVersion}\0`);
  // Length-prefixed fields, so no two different module lists hash the same text.
  for (const m of [...modules].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    for (const field of [m.path, m.packagePath.join('/'), m.source, m.query ? 'query' : '']) hash.update(`${Buffer.byteLength(field)}:`).update(field);
  }
  return hash.digest('hex');
}

async function readCached(dir: string, key: string): Promise<CompiledPolicy | undefined> {
  try {
    const [wasm, meta] = await Promise.all([readFile(join(dir, `${key}.wasm`)), readFile(join(dir, `${key}.json`), 'utf8')]);
    const { entrypoints, packages } = JSON.parse(meta) as { entrypoints?: unknown; packages?: unknown };
    if (!isStringArray(entrypoints) || !isStringArray(packages)) return undefined;
    // A truncated or foreign file must not be served: fall back to compiling.
    if (!WebAssembly.validate(wasm)) return undefined;
    return { wasm: new Uint8Array(wasm), entrypoints, packages };
  } catch {
    return undefined;
  }
}

/** Written under temporary names and renamed, so a concurrent reader (another worker) never sees half a file. */
async function writeCached(dir: string, key: string, compiled: CompiledPolicy): Promise<void> {
  try {
    // Compiled policies may hold secrets written into the Rego: owner-only, as everything Verdict writes.
    await makeOwnerOnlyDir(dir);
    const tmp = `.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeOwnerOnlyFile(join(dir, `${key}.wasm${tmp}`), compiled.wasm);
    await rename(join(dir, `${key}.wasm${tmp}`), join(dir, `${key}.wasm`));
    // The metadata last: readCached needs both, so a reader never pairs it with a missing module.
    await writeOwnerOnlyFile(join(dir, `${key}.json${tmp}`), JSON.stringify({ entrypoints: compiled.entrypoints, packages: compiled.packages }));
    await rename(join(dir, `${key}.json${tmp}`), join(dir, `${key}.json`));
  } catch {
    // The disk cache is an optimisation: a read-only or full disk only costs a compile next time.
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((e) => typeof e === 'string');
}
