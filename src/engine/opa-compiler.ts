// Choosing the Rego planner, and the reference OPA's planner. Verdict plans with its own compiler
// (src/compiler, VerdictPlanner) by default, in-process, with no OPA needed. `VERDICT_PLANNER=opa` selects
// OpaCliPlanner instead: it plans with the reference OPA (`opa check`, `opa parse`, `opa build -t plan`), kept
// as a comparison planner and test oracle. Either way the plan is compiled to wasm by our back end
// (PlanningCompiler), never by OPA's wasm codegen.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RegoModule } from '../bundle/bundle.js';
import { readBundleArchive } from '../bundle/files.js';
import type { Policy } from '../ir/plan.js';
import { CachingCompiler } from './compile-cache.js';
import { VerdictPlanner } from './verdict-planner.js';
import { NoRulesError, PlanningCompiler, RegoCompileError, packagesAbove, type PlannedPolicy, type RegoCompiler, type RegoPlanner } from './compiler.js';

const run = promisify(execFile);
const big = { maxBuffer: 64 << 20 };

/** Where scripts/install-opa.sh installs the pinned OPA, relative to the package root (dist/src/engine). */
const installedOpa = resolve(dirname(fileURLToPath(import.meta.url)), '../../../.tools/opa/bin/opa');

/** Finds the reference OPA: the path in VERDICT_OPA, else the installer's location; undefined when absent. */
export function findOpa(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env.VERDICT_OPA || installedOpa;
  return existsSync(path) ? path : undefined;
}

/** The planners VERDICT_PLANNER can name; the first is the default. */
export const PLANNERS = ['verdict', 'opa'] as const;

/**
 * The server's compiler: our planner (or OPA's, with VERDICT_PLANNER=opa) and our back end, cached by content
 * hash in memory and under `cacheDir`. The cache fingerprint names the planner and covers its code (or the
 * OPA binary), so plans of one planner are never served for the other.
 */
export function defaultCompiler(options: { cacheDir?: string } = {}, env: NodeJS.ProcessEnv = process.env): RegoCompiler {
  const cacheDir = options.cacheDir ?? defaultCacheDir;
  const planner = env.VERDICT_PLANNER || PLANNERS[0];
  if (planner === 'verdict') {
    const code = fingerprint(['../compiler/', '../wasm/', '../ir/', './verdict-planner.js']);
    return new CachingCompiler(new PlanningCompiler(new VerdictPlanner()), `verdict-plan:${code}`, cacheDir);
  }
  if (planner !== 'opa') throw new Error(`VERDICT_PLANNER must be one of ${PLANNERS.join(', ')}; got "${planner}"`);
  const opa = findOpa(env);
  if (!opa) return opaMissing;
  return new CachingCompiler(new PlanningCompiler(new OpaCliPlanner(opa)), `opa-plan:${fileIdentity(opa)}|${fingerprint(['../wasm/', '../ir/'])}`, cacheDir);
}

/** VERDICT_PLANNER=opa on a machine without the reference OPA: every compile is refused, saying why. */
const opaMissing: RegoCompiler = {
  async compile(modules) {
    throw new RegoCompileError(
      `cannot compile ${modules.length} Rego module(s) (${modules.map((m) => m.path).join(', ')}): VERDICT_PLANNER=opa selects the reference ` +
        "OPA's planner, but no opa binary was found; install it with scripts/install-opa.sh or set VERDICT_OPA, or unset VERDICT_PLANNER " +
        'to use the built-in planner',
    );
  },
};

export const defaultCacheDir = '.verdict/cache/compile';

/** Path, size and modification time: a reinstalled or upgraded OPA changes it. */
function fileIdentity(path: string): string {
  const stat = statSync(path);
  return `${path}:${stat.size}:${stat.mtimeMs}`;
}

/**
 * Hash of our compiled code at `paths` (files, or folders with their subfolders: .js and runtime.wasm), so a
 * rebuild of the planner or back end invalidates the cache.
 */
function fingerprint(paths: string[]): string {
  const hash = createHash('sha256');
  for (const path of paths) {
    const full = fileURLToPath(new URL(path, import.meta.url));
    if (statSync(full).isFile()) {
      hash.update(path).update(readFileSync(full));
      continue;
    }
    const names = (readdirSync(full, { recursive: true }) as string[]).filter((n) => n.endsWith('.js') || n.endsWith('.wasm')).sort();
    for (const name of names) hash.update(name).update(readFileSync(join(full, name)));
  }
  return hash.digest('hex');
}

interface ParsedModule {
  rules?: { head: { ref?: { type: string; value: unknown }[]; args?: unknown[] } }[];
}

interface OpaError {
  code: string;
  message: string;
  location?: { file: string; row: number; col: number };
  details?: Record<string, unknown>;
}

export class OpaCliPlanner implements RegoPlanner {
  constructor(private readonly opa: string) {}

  async plan(modules: RegoModule[], options: { regoVersion: 0 | 1 }): Promise<PlannedPolicy> {
    const dir = await mkdtemp(join(tmpdir(), 'verdict-opa-build-'));
    // Modules are written as m<N>.rego: ids from the Policy API need not end in .rego or be valid paths,
    // and OPA's messages are mapped back to the module's own name.
    const names = new Map<string, string>();
    const file = (i: number) => join(dir, 'src', `m${i}.rego`);
    try {
      await mkdir(join(dir, 'src'));
      for (const [i, module] of modules.entries()) {
        await writeFile(file(i), module.source);
        names.set(file(i), module.path);
      }
      const flags = options.regoVersion === 0 ? ['--v0-compatible'] : [];
      await this.check(join(dir, 'src'), flags, names);
      const found = new Set<string>();
      // A few `opa parse` processes at a time: a bundle may hold hundreds of modules.
      for (let i = 0; i < modules.length; i += 8) {
        const batch = modules.slice(i, i + 8).map((m, j) => this.entrypointsOf(m, file(i + j), flags));
        for (const paths of await Promise.all(batch)) for (const path of paths) found.add(path);
      }
      let entrypoints = [...found].sort();
      if (entrypoints.length === 0) throw new NoRulesError();
      let packages = packagesAbove(entrypoints);
      const out = join(dir, 'bundle.tar.gz');
      const build = (eps: string[]) => run(this.opa, ['build', '-t', 'plan', ...flags, ...eps.flatMap((e) => ['-e', e]), '-o', out, join(dir, 'src')], big);
      try {
        await build([...entrypoints, ...packages]);
      } catch (err) {
        // OPA's planner refuses some rules as entrypoints (seen: a rule named like a local reference in
        // a function body) while compiling them fine as dependencies. Keep the paths it accepts on their own.
        const accepts = async (names: string[]) => {
          const accepted: string[] = [];
          for (const name of names) if (await build([name]).then(() => true, () => false)) accepted.push(name);
          return accepted;
        };
        entrypoints = await accepts(entrypoints);
        if (entrypoints.length === 0) throw new RegoCompileError(`opa build failed: ${outputOf(err, names)}`);
        packages = (await accepts(packages)).filter((p) => entrypoints.some((e) => e.startsWith(`${p}/`)));
        await build([...entrypoints, ...packages]).catch((again: unknown) => {
          throw new RegoCompileError(`opa build failed: ${outputOf(again, names)}`);
        });
      }
      const planFile = (await readBundleArchive(await readFile(out))).find((f) => f.path === 'plan.json');
      if (!planFile) throw new RegoCompileError('opa build -t plan produced no plan.json');
      return { plan: JSON.parse(Buffer.from(planFile.data).toString('utf8')) as Policy, entrypoints, packages };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `opa check` first, so parse and type errors come back structured, with locations in our module names. */
  private async check(src: string, flags: string[], names: Map<string, string>): Promise<void> {
    try {
      await run(this.opa, ['check', ...flags, '--format', 'json', src], big);
    } catch (err) {
      let errors: OpaError[] | undefined;
      try {
        const { stdout, stderr } = err as { stdout?: string; stderr?: string };
        errors = (JSON.parse(String(stdout || stderr)) as { errors?: OpaError[] }).errors;
      } catch {
        throw new RegoCompileError(`opa check failed: ${outputOf(err, names)}`);
      }
      throw new RegoCompileError(
        'error(s) occurred while compiling module(s)',
        (errors ?? []).map((e) => ({
          code: e.code,
          message: e.message,
          ...(e.location ? { location: { file: names.get(e.location.file) ?? e.location.file, row: e.location.row, col: e.location.col } } : {}),
          ...(e.details ? { details: e.details } : {}),
        })),
      );
    }
  }

  /** Every rule of a module (not functions), as the static prefix of its head reference under the package. */
  private async entrypointsOf(module: RegoModule, file: string, flags: string[]): Promise<string[]> {
    const { stdout } = await run(this.opa, ['parse', ...flags, '--format', 'json', file], big);
    const parsed = JSON.parse(stdout) as ParsedModule;
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
}

/** OPA prints errors on stdout or stderr depending on the command; replace temporary file names with the modules' names. */
function outputOf(err: unknown, names: Map<string, string>): string {
  const output = err as { stdout?: string; stderr?: string; message?: string };
  let text = String(output.stdout || output.stderr || output.message).trim();
  for (const [tmp, name] of names) text = text.split(tmp).join(name);
  return text;
}
