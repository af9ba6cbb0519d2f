// `verdict build [-o FILE] [-e ENTRYPOINT]... [-t rego|wasm|plan] [-b] PATH...`: compiles policies with Verdict's
// own compiler into a bundle tar.gz shaped like `opa build`'s: /data.json, the .rego sources, /.manifest and, as
// opa build's targets, nothing more (-t rego, the default: the sources are checked), /policy.wasm with its
// entrypoints in the manifest (-t wasm) or /plan.json (-t plan). Without -b the paths are
// loaded like `opa eval -d` and the manifest holds only the defaults, as in `opa build`; with -b (one bundle
// directory) its .manifest's revision, roots and metadata are kept.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { ownerOnlyFileMode } from '../fs/owner-only.js';
import { join, relative } from 'node:path';
import { writeBundleArchive, type BundleFile } from '../bundle/files.js';
import { capabilitiesFlag, capabilitiesOption, verdictCompileCapabilities, type CompileCapabilities } from './capabilities-flag.js';
import { checkRego, RegoCompileError, type RegoFile } from '../compiler/compile-rego.js';
import type { Module } from '../compiler/ast.js';
import { formatRegoError } from '../compiler/errors.js';
import { ruleDataPath } from '../compiler/rule-data-path.js';
import { JsonSyntaxError, readJson } from '../json/reader.js';
import { goErrorList } from './go-format.js';
import { FlagError, flagsHelp, parseCommandLine, sharedFlags, type FlagGroup } from './flags.js';
import { PlanError, planModules } from '../compiler/planner/index.js';
import { compilePlan } from '../wasm/compile.js';
import { LoadError, loadPaths } from './load.js';

const buildFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      output: { type: 'string', short: 'o', default: 'bundle.tar.gz', value: 'FILE', help: 'the bundle file to write (default bundle.tar.gz)' },
      target: { type: 'string', short: 't', default: 'rego', value: 'TARGET', help: 'rego (the checked sources), wasm or plan (default rego)' },
      entrypoint: { type: 'string', short: 'e', multiple: true, value: 'PATH', help: 'entrypoint (pkg/rule) for -t wasm and -t plan; repeatable' },
      format: { type: 'string', default: 'json', value: 'FORMAT', help: 'the plan format of -t plan: json (the default; proto is refused)' },
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
  if (options.target !== 'rego' && options.entrypoints.length === 0) throw new BuildError(`${options.target} compilation requires at least one entrypoint`);
  if (options.bundle) await bundleDirectoryExists(options.paths);
  const { modules, data } = await loadPaths(options.paths);
  const entrypoints = options.entrypoints.map((e) => e.replace(/^\/+|\/+$/g, ''));
  const compileOptions = options.capabilities ?? verdictCompileCapabilities;
  const checked = checkRego(modules, compileOptions);
  if (options.target !== 'rego') refuseEntrypointsWithoutRules(checked, options.entrypoints);
  const plan = options.target === 'rego' ? undefined : planModules(checked, entrypoints, compileOptions.builtins);
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

/**
 * As opa build: an entrypoint must lead to (or into) some rule's data path. One that goes past a rule's path is a
 * question for the type checker, so only a path no rule shares a prefix with is refused here.
 */
function refuseEntrypointsWithoutRules(modules: Module[], entrypoints: string[]): void {
  const paths = modules.flatMap((m) => m.rules.map((r) => ruleDataPath(m, r)).filter((p) => p !== undefined));
  for (const entrypoint of entrypoints) {
    const segments = entrypoint.replace(/^\/+/, '').split('/').filter((s, i, all) => s !== '' || i < all.length - 1);
    const reaches = paths.some((p) => segments.slice(0, p.length).every((s, i) => s === p[i]));
    if (!reaches) throw new BuildError(`entrypoint ${JSON.stringify(entrypoint)} does not refer to a rule or policy decision`);
  }
}

async function bundleDirectoryExists(paths: string[]): Promise<void> {
  if (paths.length !== 1) throw new BuildError('-b takes exactly one bundle directory');
  await stat(paths[0]!).catch(() => {
    throw new BuildError(`load error: error reading ${JSON.stringify(paths[0])}: stat ${paths[0]}: no such file or directory`);
  });
}

async function bundleManifest(paths: string[]): Promise<Record<string, unknown>> {
  const text = await readFile(join(paths[0]!, '.manifest'), 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  let parsed: Record<string, unknown>;
  try {
    parsed = readJson(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new BuildError(`load error: bundle ${paths[0]}: bundle load failed on manifest decode: ${err.message}`);
    throw err;
  }
  const { revision, roots, metadata } = parsed;
  return { ...(revision !== undefined ? { revision } : {}), ...(roots !== undefined ? { roots } : {}), ...(metadata !== undefined ? { metadata } : {}) };
}

/** Sources keep the path they were loaded from (as opa build does, also with -b), relative to the working directory when under it. */
function modulePath(m: RegoFile): string {
  const rel = relative(process.cwd(), m.path);
  return (rel.startsWith('..') ? m.path : rel).replace(/^\/+/, '');
}

/** What opa build prints after "error: " for a failure; parse errors are, as in OPA, errors of loading. */
function buildErrorText(err: unknown): string | undefined {
  if (err instanceof RegoCompileError) {
    const items = err.errors.map(formatRegoError);
    return err.errors.every((e) => e.code === 'rego_parse_error') ? `load error: ${goErrorList(items, ' during loading')}` : goErrorList(items);
  }
  if (err instanceof LoadError) return `load error: ${goErrorList([err.message], ' during loading')}`;
  if (err instanceof PlanError || err instanceof BuildError) return err.message;
  return undefined;
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
      if (values.format === 'proto') throw new FlagError('--format proto: the protobuf plan format is not written by Verdict (json is)');
      if (values.format !== 'json') throw new FlagError(`--format ${String(values.format)}: expected json or proto`);
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
    const message = buildErrorText(err);
    if (message === undefined) throw err;
    // opa build prints its failure on stdout, with Go's error-list layout.
    console.log(`error: ${message}`);
    return 1;
  }
}
