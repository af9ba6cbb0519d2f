// Interim RegoCompiler: builds wasm with the reference OPA (`opa build -t wasm`) until our own compiler
// lands. Only used when an `opa` binary is found (VERDICT_OPA, or where scripts/install-opa.sh puts it).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RegoModule } from '../bundle/bundle.js';
import { readBundleArchive } from '../bundle/files.js';
import { RegoCompileError, noCompiler, type CompiledPolicy, type RegoCompiler } from './compiler.js';

const run = promisify(execFile);

/** Where scripts/install-opa.sh installs the pinned OPA, relative to the package root. */
const installedOpa = resolve(dirname(fileURLToPath(import.meta.url)), '../../../.tools/opa/bin/opa');

/** Finds the reference OPA: VERDICT_OPA first, then the installer's location; undefined when absent. */
export function findOpa(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.VERDICT_OPA) return env.VERDICT_OPA;
  return existsSync(installedOpa) ? installedOpa : undefined;
}

/** The best compiler this machine has: OPA when installed, otherwise one that refuses with a clear error. */
export function defaultCompiler(): RegoCompiler {
  const opa = findOpa();
  return opa ? new OpaCliCompiler(opa) : noCompiler;
}

interface ParsedModule {
  rules?: { head: { ref?: { type: string; value: unknown }[]; args?: unknown[] } }[];
}

interface OpaCheckOutput {
  errors?: { code: string; message: string; location?: { file: string; row: number; col: number } }[];
}

export class OpaCliCompiler implements RegoCompiler {
  constructor(private readonly opa: string) {}

  async compile(modules: RegoModule[], options: { regoVersion: 0 | 1 }): Promise<CompiledPolicy> {
    const dir = await mkdtemp(join(tmpdir(), 'verdict-opa-build-'));
    try {
      const src = join(dir, 'src');
      for (const module of modules) {
        const file = join(src, module.path);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, module.source);
      }
      const versionFlags = options.regoVersion === 0 ? ['--v0-compatible'] : [];
      const entrypoints = [...new Set((await Promise.all(modules.map((m) => this.entrypointsOf(m, join(src, m.path), versionFlags)))).flat())].sort();
      if (entrypoints.length === 0) throw new RegoCompileError('no rules to compile: the modules define only functions or nothing at all');
      const out = join(dir, 'bundle.tar.gz');
      try {
        await run(this.opa, ['build', '-t', 'wasm', ...versionFlags, ...entrypoints.flatMap((e) => ['-e', e]), '-o', out, src], { maxBuffer: 64 << 20 });
      } catch (err) {
        throw await this.explain(src, versionFlags, err, dir);
      }
      const files = await readBundleArchive(await readFile(out));
      const wasm = files.find((f) => f.path === 'policy.wasm');
      if (!wasm) throw new RegoCompileError('opa build produced no policy.wasm');
      return { wasm: new Uint8Array(wasm.data), entrypoints };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Every rule of a module, as the static prefix of its head reference under the package. */
  private async entrypointsOf(module: RegoModule, file: string, versionFlags: string[]): Promise<string[]> {
    let parsed: ParsedModule;
    try {
      const { stdout } = await run(this.opa, ['parse', ...versionFlags, '--format', 'json', file], { maxBuffer: 64 << 20 });
      parsed = JSON.parse(stdout) as ParsedModule;
    } catch (err) {
      throw await this.explain(dirname(file), versionFlags, err, dirname(file));
    }
    const paths = new Set<string>();
    for (const rule of parsed.rules ?? []) {
      if ((rule.head.args?.length ?? 0) > 0 || !rule.head.ref?.length) continue;
      const [first, ...rest] = rule.head.ref;
      const segments = [String(first.value)];
      for (const term of rest) {
        if (term.type !== 'string') break;
        segments.push(String(term.value));
      }
      paths.add([...module.packagePath, ...segments].join('/'));
    }
    return [...paths];
  }

  /** Turns a failed OPA run into a RegoCompileError with OPA's structured errors (from `opa check`). */
  private async explain(src: string, versionFlags: string[], err: unknown, prefix: string): Promise<RegoCompileError> {
    try {
      await run(this.opa, ['check', ...versionFlags, '--format', 'json', src], { maxBuffer: 64 << 20 });
    } catch (checkErr) {
      const stdout = (checkErr as { stdout?: string }).stdout ?? '';
      try {
        const report = JSON.parse(stdout) as OpaCheckOutput;
        if (report.errors?.length) {
          const errors = report.errors.map((e) => ({
            ...e,
            ...(e.location ? { location: { ...e.location, file: e.location.file.replace(`${prefix}/src/`, '').replace(`${prefix}/`, '') } } : {}),
          }));
          return new RegoCompileError('error(s) occurred while compiling module(s)', errors);
        }
      } catch {
        // Fall through to the raw message below.
      }
    }
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message).split(prefix + '/src/').join('');
    return new RegoCompileError(`opa build failed: ${stderr.trim()}`);
  }
}
