// `verdict build [-o FILE] [-e ENTRYPOINT]... [-t wasm|plan] [-b] PATH...`: compiles policies with Verdict's own
// compiler into a bundle tar.gz shaped like `opa build`'s: /data.json, the .rego sources, /.manifest and either
// /policy.wasm with its entrypoints in the manifest (-t wasm) or /plan.json (-t plan). Without -b the paths are
// loaded like `opa eval -d` and the manifest holds only the defaults, as in `opa build`; with -b (one bundle
// directory) its .manifest's revision, roots and metadata are kept.
import { readFile, writeFile } from 'node:fs/promises';
import { ownerOnlyFileMode } from '../fs/owner-only.js';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBundleArchive, type BundleFile } from '../bundle/files.js';
import { verdictBuiltins, verdictDeprecated } from '../compiler/builtins.js';
import { planRego, RegoCompileError, type RegoFile } from '../compiler/compile-rego.js';
import { PlanError } from '../compiler/planner/index.js';
import { compilePlan } from '../wasm/compile.js';
import { LoadError, loadPaths } from './load.js';

export const buildUsage = 'verdict build [-o FILE] [-e ENTRYPOINT]... [-t wasm|plan] [-b] PATH...';

export interface BuildOptions {
  paths: string[];
  entrypoints: string[];
  target: 'wasm' | 'plan';
  /** Treat the (single) path as a bundle directory and keep its manifest. */
  bundle?: boolean;
}

export class BuildError extends Error {}

/** The bundle's files; throws RegoCompileError, PlanError, LoadError or BuildError. */
export async function buildBundle(options: BuildOptions): Promise<BundleFile[]> {
  if (options.target === 'wasm' && options.entrypoints.length === 0) throw new BuildError('wasm compilation requires at least one entrypoint (-e)');
  const { modules, data } = await loadPaths(options.paths);
  const entrypoints = options.entrypoints.map((e) => e.replace(/^\/+|\/+$/g, '').replace(/\./g, '/'));
  const plan = planRego(modules, entrypoints, { builtins: verdictBuiltins, deprecated: verdictDeprecated });
  const manifest: Record<string, unknown> = { revision: '', roots: [''], ...(options.bundle ? await bundleManifest(options.paths) : {}) };
  const files: BundleFile[] = [{ path: 'data.json', data: Buffer.from(JSON.stringify(data)) }];
  for (const m of modules) files.push({ path: modulePath(m), data: Buffer.from(m.source) });
  if (options.target === 'wasm') {
    files.push({ path: 'policy.wasm', data: Buffer.from(compilePlan(plan)) });
    manifest.wasm = entrypoints.map((entrypoint) => ({ entrypoint, module: '/policy.wasm' }));
  } else {
    files.push({ path: 'plan.json', data: Buffer.from(JSON.stringify(plan)) });
  }
  manifest.rego_version = 1;
  files.push({ path: '.manifest', data: Buffer.from(JSON.stringify(manifest)) });
  return files;
}

async function bundleManifest(paths: string[]): Promise<Record<string, unknown>> {
  if (paths.length !== 1) throw new BuildError('-b takes exactly one bundle directory');
  const text = await readFile(join(paths[0]!, '.manifest'), 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  const { revision, roots, metadata } = JSON.parse(text) as Record<string, unknown>;
  return { ...(revision !== undefined ? { revision } : {}), ...(roots !== undefined ? { roots } : {}), ...(metadata !== undefined ? { metadata } : {}) };
}

/** Sources keep the path they were loaded from (as opa build does, also with -b), relative to the working directory when under it. */
function modulePath(m: RegoFile): string {
  const rel = relative(process.cwd(), m.path);
  return (rel.startsWith('..') ? m.path : rel).replace(/^\/+/, '');
}

/** Runs the subcommand; returns the process exit code. */
export async function buildCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o', default: 'bundle.tar.gz' },
        entrypoint: { type: 'string', short: 'e', multiple: true },
        target: { type: 'string', short: 't', default: 'rego' },
        bundle: { type: 'boolean', short: 'b' },
      },
    });
  } catch (err) {
    console.error(`verdict build: ${(err as Error).message}\nusage: ${buildUsage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const target = values.target;
  if (target !== 'wasm' && target !== 'plan') {
    console.error(`verdict build: -t ${target}: expected wasm or plan\nusage: ${buildUsage}`);
    return 2;
  }
  if (positionals.length === 0) {
    console.error(`verdict build: expected at least one path\nusage: ${buildUsage}`);
    return 2;
  }
  try {
    const files = await buildBundle({ paths: positionals, entrypoints: values.entrypoint ?? [], target, bundle: values.bundle });
    // A new bundle is owner-only (it may carry data); an existing file keeps the mode its owner gave it.
    await writeFile(values.output!, await writeBundleArchive(files), { mode: ownerOnlyFileMode });
    return 0;
  } catch (err) {
    if (err instanceof RegoCompileError) {
      console.error(JSON.stringify({ errors: err.errors }, null, 2));
      return 1;
    }
    if (err instanceof PlanError || err instanceof LoadError || err instanceof BuildError) {
      console.error(`verdict build: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
