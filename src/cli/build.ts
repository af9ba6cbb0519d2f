// `verdict build [-o FILE] [-e ENTRYPOINT]... [-t rego|wasm|plan] [-b] PATH...`: compiles policies with Verdict's
// own compiler into a bundle tar.gz shaped like `opa build`'s: /data.json, the .rego sources, /.manifest and, as
// opa build's targets, nothing more (-t rego, the default: the sources are checked), /policy.wasm with its
// entrypoints in the manifest (-t wasm) or /plan.json (-t plan). Without -b the paths are
// loaded like `opa eval -d` and the manifest holds only the defaults, as in `opa build`; with -b (one bundle
// directory) its .manifest's revision, roots and metadata are kept.
import { readFile, writeFile } from 'node:fs/promises';
import { ownerOnlyFileMode } from '../fs/owner-only.js';
import { join, relative } from 'node:path';
import { writeBundleArchive, type BundleFile } from '../bundle/files.js';
import { capabilitiesFlag, capabilitiesOption, verdictCompileCapabilities, type CompileCapabilities } from './capabilities-flag.js';
import { checkRego, planRego, RegoCompileError, type RegoFile } from '../compiler/compile-rego.js';
import { FlagError, flagsHelp, parseCommandLine, sharedFlags, type FlagGroup } from './flags.js';
import { PlanError } from '../compiler/planner/index.js';
import { compilePlan } from '../wasm/compile.js';
import { LoadError, loadPaths } from './load.js';

const buildFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      output: { type: 'string', short: 'o', default: 'bundle.tar.gz', value: 'FILE', help: 'the bundle file to write (default bundle.tar.gz)' },
      target: { type: 'string', short: 't', default: 'rego', value: 'TARGET', help: 'rego (the checked sources), wasm or plan (default rego)' },
      entrypoint: { type: 'string', short: 'e', multiple: true, value: 'PATH', help: 'entrypoint (pkg/rule) for -t wasm and -t plan; repeatable' },
      bundle: { type: 'boolean', short: 'b', help: "the path is a bundle directory: keep its manifest's revision, roots and metadata" },
      ...capabilitiesFlag,
      help: sharedFlags.help,
    },
  },
  {
    title: 'Refused',
    flags: {
      optimize: { type: 'string', short: 'O', help: '', refused: 'optimised Rego bundles (partial evaluation of the entrypoints) are not built by Verdict' },
      'signing-key': { type: 'string', help: '', refused: 'build the bundle, then sign it with verdict sign' },
      revision: { type: 'string', short: 'r', help: '', refused: 'give the revision in the bundle directory .manifest with -b' },
      'v0-compatible': { type: 'boolean', help: '', refused: 'verdict build reads Rego v1 sources only' },
    },
  },
];

export function buildHelp(): string {
  return flagsHelp(['usage: verdict build [flags] PATH...', '', "Compiles policies and data with Verdict's compiler into a bundle, as opa build does."], buildFlags);
}

export interface BuildOptions {
  paths: string[];
  entrypoints: string[];
  target: 'rego' | 'wasm' | 'plan';
  /** Treat the (single) path as a bundle directory and keep its manifest. */
  bundle?: boolean;
  /** `--capabilities`: the builtins and features the policies compile against (else Verdict's). */
  capabilities?: CompileCapabilities;
}

export class BuildError extends Error {}

/** The bundle's files; throws RegoCompileError, PlanError, LoadError or BuildError. */
export async function buildBundle(options: BuildOptions): Promise<BundleFile[]> {
  if (options.target === 'wasm' && options.entrypoints.length === 0) throw new BuildError('wasm compilation requires at least one entrypoint (-e)');
  const { modules, data } = await loadPaths(options.paths);
  const entrypoints = options.entrypoints.map((e) => e.replace(/^\/+|\/+$/g, '').replace(/\./g, '/'));
  const compileOptions = options.capabilities ?? verdictCompileCapabilities;
  const plan = options.target === 'rego' ? (checkRego(modules, compileOptions), undefined) : planRego(modules, entrypoints, compileOptions);
  const manifest: Record<string, unknown> = { revision: '', roots: [''], ...(options.bundle ? await bundleManifest(options.paths) : {}) };
  const files: BundleFile[] = [{ path: 'data.json', data: Buffer.from(JSON.stringify(data)) }];
  for (const m of modules) files.push({ path: modulePath(m), data: Buffer.from(m.source) });
  if (options.target === 'wasm') {
    files.push({ path: 'policy.wasm', data: Buffer.from(compilePlan(plan!)) });
    manifest.wasm = entrypoints.map((entrypoint) => ({ entrypoint, module: '/policy.wasm' }));
  } else if (plan) {
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
  let capabilities: CompileCapabilities | undefined;
  const parsed = parseCommandLine(args, {
    name: 'build',
    groups: buildFlags,
    help: buildHelp,
    validate: (values, positionals) => {
      if (!['rego', 'wasm', 'plan'].includes(values.target as string)) throw new FlagError(`-t ${String(values.target)}: expected rego, wasm or plan`);
      if (positionals.length === 0) throw new FlagError('expected at least one path');
      capabilities = capabilitiesOption(values);
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const target = values.target as BuildOptions['target'];
  try {
    const files = await buildBundle({ paths: positionals, entrypoints: (values.entrypoint as string[] | undefined) ?? [], target, bundle: values.bundle === true, capabilities });
    // A new bundle is owner-only (it may carry data); an existing file keeps the mode its owner gave it.
    await writeFile(values.output as string, await writeBundleArchive(files), { mode: ownerOnlyFileMode });
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
