// `verdict inspect [-a] [--format pretty|json] PATH`, as `opa inspect`: what a bundle (directory or .tar.gz)
// holds: its manifest, the namespaces its modules and data files fill, the builtins and language features its
// policies need, and with -a the annotations (`# METADATA`) of its packages and rules. Like OPA, it lists the
// bundle without checking its roots; modules must parse.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Annotations, Module, Term } from '../compiler/ast.js';
import { checkParsedModules, parseRegoFiles, RegoCompileError } from '../compiler/compile-rego.js';
import { verdictBuiltins, verdictDeprecated } from '../compiler/builtins.js';
import { annotationValue } from '../compiler/planner/metadata.js';
import { requiredCapabilities } from './inspect-capabilities.js';
import { parseManifest, type BundleManifest } from '../bundle/bundle.js';
import { BundleError, readBundleArchive, readBundleDirectory } from '../bundle/files.js';
import { flagsHelp, parseCommandLine, sharedFlags, type FlagGroup } from './flags.js';
import { goErrorList, goJson } from './go-format.js';
import { formatRegoError } from '../compiler/errors.js';
import { prettyTable } from './pretty-table.js';
import { inspectPrettyAnnotations } from './inspect-annotations.js';

const inspectFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      annotations: { type: 'boolean', short: 'a', help: 'list annotations' },
      format: { type: 'string', short: 'f', default: 'pretty', value: 'FORMAT', help: 'pretty or json (default pretty)' },
      'v0-compatible': sharedFlags['v0-compatible'],
      help: sharedFlags.help,
    },
  },
];

export function inspectHelp(): string {
  return flagsHelp(
    [
      'usage: verdict inspect [flags] PATH',
      '',
      'Lists what the bundle at PATH (a directory or a .tar.gz file) holds, as opa inspect does: its manifest, the',
      'namespaces its policies and data fill, the builtins and features its policies need, and with -a the',
      'annotations of its packages and rules. Exit code: 0, or 1 when the bundle cannot be read or parsed.',
    ],
    inspectFlags,
  );
}

export interface AnnotationEntry {
  annotations: Record<string, unknown>;
  location: { file: string; row: number; col: number };
  path: Array<{ type: 'var' | 'string'; value: string }>;
}

export async function inspectCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, {
    name: 'inspect',
    groups: inspectFlags,
    help: inspectHelp,
    formats: ['pretty', 'json'],
    operands: { count: 'one', name: 'path' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const path = positionals[0]!;
  let report: Awaited<ReturnType<typeof inspect>>;
  try {
    report = await inspect(path, values['v0-compatible'] === true, values.annotations === true);
  } catch (err) {
    if (err instanceof RegoCompileError) console.error(`error: bundle ${path}: ${goErrorList(err.errors.map(formatRegoError))}`);
    else if (err instanceof InspectError) console.error(`error: ${err.message}`);
    else throw err;
    return 1;
  }
  process.stdout.write(values.format === 'json' ? `${goJson(report.json, 2)}\n` : pretty(report.json, report.hasManifest));
  return 0;
}

class InspectError extends Error {}

async function inspect(path: string, v0: boolean, withAnnotations: boolean) {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new InspectError(`error reading ${JSON.stringify(path)}: stat ${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  });
  let files;
  let manifest: BundleManifest | undefined;
  try {
    files = info.isDirectory() ? await readBundleDirectory(path) : await readBundleArchive(await readFile(path));
    const file = files.find((f) => f.path === '.manifest');
    manifest = file ? parseManifest(file.data) : undefined;
  } catch (err) {
    if (err instanceof BundleError) throw new InspectError(`error reading ${JSON.stringify(path)}: ${err.message}`);
    throw err;
  }
  const shown = (p: string) => (info.isDirectory() ? join(path, p) : `/${p}`);
  const regoVersion = v0 || manifest?.rego_version === 0 ? 'v0' : 'v1';
  const sources = files.filter((f) => f.path.endsWith('.rego')).map((f) => ({ path: shown(f.path), source: f.data.toString('utf8') }));
  const modules = parseRegoFiles(sources, { regoVersion });
  const annotations = withAnnotations ? annotationEntries(modules) : undefined;
  // Calls as written (the compile stages rewrite `:=` in place), taken before the modules are checked.
  const capabilities = requiredCapabilities(modules, regoVersion);
  checkParsedModules(modules, { builtins: verdictBuiltins, deprecated: verdictDeprecated });

  const namespaces = new Map<string, string[]>();
  const add = (ns: string, file: string) => namespaces.set(ns, [...(namespaces.get(ns) ?? []), file]);
  for (const m of modules) add(['data', ...packagePath(m)].join('.'), m.file);
  for (const f of files) {
    const base = f.path.slice(f.path.lastIndexOf('/') + 1);
    if (!['data.json', 'data.yaml', 'data.yml'].includes(base)) continue;
    const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')).split('/') : [];
    add(['data', ...dir].join('.'), shown(f.path));
  }
  const json = {
    manifest: manifestJson(manifest ?? { revision: '', roots: [''] }),
    signatures_config: {},
    ...(namespaces.size > 0 ? { namespaces: Object.fromEntries([...namespaces].sort(([a], [b]) => (a < b ? -1 : 1))) } : {}),
    ...(annotations && annotations.length > 0 ? { annotations } : {}),
    capabilities,
  };
  return { json, hasManifest: manifest !== undefined };
}

/** The manifest's fields in OPA's order. */
function manifestJson(m: BundleManifest) {
  return {
    revision: m.revision,
    roots: m.roots,
    ...(m.wasm ? { wasm: m.wasm } : {}),
    ...(m.rego_version !== undefined ? { rego_version: m.rego_version } : {}),
    ...(m.file_rego_versions ? { file_rego_versions: m.file_rego_versions } : {}),
    ...(m.metadata ? { metadata: m.metadata } : {}),
  };
}

function packagePath(m: Module): string[] {
  return m.package.path.slice(1).map((t) => String((t as { value: unknown }).value));
}

/** Package annotations at the package, rule and document annotations at the rule; sorted by path. */
function annotationEntries(modules: Module[]): AnnotationEntry[] {
  const entries: AnnotationEntry[] = [];
  const entry = (a: Annotations, at: { file: string; row: number; col: number }, path: string[]): AnnotationEntry => ({
    annotations: opaAnnotation(a),
    location: { file: at.file, row: at.row, col: at.col },
    path: [{ type: 'var', value: 'data' }, ...path.map((value) => ({ type: 'string' as const, value }))],
  });
  for (const m of modules) {
    const pkg = packagePath(m);
    for (const a of m.annotations) if (a.scope === 'package' || a.scope === 'subpackages') entries.push(entry(a, { ...m.package.loc, file: m.file }, pkg));
    for (const r of m.rules) {
      for (const a of r.annotations ?? []) entries.push(entry(a, { ...r.loc, file: m.file }, [...pkg, ...ruleRef(r.head.ref)]));
    }
  }
  const key = (e: AnnotationEntry) => e.path.map((p) => p.value).join('\0');
  return entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.location.row - b.location.row));
}

/** The constant leading part of a rule's head reference. */
function ruleRef(ref: Term[]): string[] {
  const out: string[] = [];
  for (const t of ref) {
    if (t.type !== 'var' && t.type !== 'string') break;
    if (t.type === 'var' && out.length > 0) break;
    out.push(t.value);
  }
  return out;
}

/**
 * An annotation as OPA's JSON has it: keys in order, authors as {name, email}, and `entrypoint: true` without a
 * scope meaning the document scope.
 */
function opaAnnotation(a: Annotations): Record<string, unknown> {
  const value = annotationValue(a) as Record<string, unknown>;
  if (a.raw.scope === undefined && a.raw.entrypoint === true) value.scope = 'document';
  if (Array.isArray(value.authors)) value.authors = (value.authors as Array<{ name?: string; email?: string }>).map(({ name, email }) => ({ ...(name ? { name } : {}), ...(email ? { email } : {}) }));
  return sortedKeys(value);
}

function sortedKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

type Report = Awaited<ReturnType<typeof inspect>>['json'];

/** OPA's pretty tables cut a cell of 50 characters or more to 50: a value loses its end, a path its middle. */
const MAX_CELL = 50;

function cut(text: string): string {
  return [...text].length < MAX_CELL ? text : `${[...text].slice(0, MAX_CELL - 3).join('')}...`;
}

function cutPath(path: string): string {
  const chars = [...path];
  if (chars.length < MAX_CELL) return path;
  const head = chars.slice(0, chars.indexOf('/', 1) + 1);
  return `${head.join('')}...${chars.slice(chars.length - (MAX_CELL - head.length - 3)).join('')}`;
}

function pretty(report: Report, hasManifest: boolean): string {
  const out: string[] = [];
  const m = report.manifest;
  if (hasManifest) {
    const rows: string[][] = [];
    if (m.rego_version !== undefined) rows.push(['Rego Version', String(m.rego_version)]);
    if (m.revision) rows.push(['Revision', cut(m.revision)]);
    if (!(m.roots.length === 1 && m.roots[0] === '')) m.roots.forEach((root, i) => rows.push([i === 0 ? 'Roots' : '', cut(root)]));
    if (m.metadata) rows.push(['Metadata', cut(JSON.stringify(m.metadata))]);
    if (rows.length > 0) out.push('MANIFEST:', prettyTable(['Field', 'Value'].map((h) => h.toUpperCase()), rows));
  }
  if (report.namespaces) {
    const rows = Object.entries(report.namespaces).flatMap(([ns, files]) => files.map((f, i) => [i === 0 ? ns : '', cutPath(f)]));
    out.push('NAMESPACES:', prettyTable(['NAMESPACE', 'FILE'], rows));
  }
  if (report.annotations) out.push('ANNOTATIONS:', inspectPrettyAnnotations(report.annotations));
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

