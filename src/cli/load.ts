// Policy and data files named on the command line (`verdict eval -d PATH`, `verdict run PATH`), loaded the way
// `opa eval -d` / `opa run` load them: .rego files as modules; .json/.yaml/.yml files as data, a file named
// directly at the root of data, a file found under a directory at its directory's path relative to that
// directory. `a.b:PATH` puts what PATH holds under data.a.b; `file://` URLs name paths that contain a colon.
// `ignore` patterns (Go filepath.Match syntax, as `--ignore`) skip files and directories by name below the
// named paths, never a path named itself.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlAsOpa } from '../json/yaml.js';
import { goYamlMessage } from '../json/yaml-errors.js';
import { readJsonDataFile } from '../json/data-file.js';
import { isJsonObject as isObject, someNumberText } from '../json/kinds.js';
import { beyondOpaRange } from '../json/number-text.js';
import type { RegoFile } from '../compiler/compile-rego.js';
import type { RegoVersion } from '../compiler/ast.js';
import type { SchemaSet } from '../compiler/stages/schema-annotations.js';


export interface LoadedFiles {
  modules: Array<RegoFile & { regoVersion?: RegoVersion }>;
  data: Record<string, unknown>;
}

export interface LoadOptions {
  /** `--ignore` patterns, matched against each file or directory name below a named path. */
  ignore?: string[];
}

export class LoadError extends Error {}

const DATA_EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

/** `a.b:path` → prefix ["a", "b"] and the path; `file://` URLs are paths, with or without a prefix. */
export function splitPrefix(arg: string): { prefix: string[]; path: string } {
  const asPath = (text: string) => (text.startsWith('file://') ? fileURLToPath(text) : text);
  if (arg.startsWith('file://')) return { prefix: [], path: asPath(arg) };
  const colon = arg.indexOf(':');
  if (colon <= 0) return { prefix: [], path: arg };
  return { prefix: arg.slice(0, colon).split('.'), path: asPath(arg.slice(colon + 1)) };
}

/** `--ignore` patterns as expressions; the glob translator (with the bundle signing code) is loaded only for them. */
async function ignorePatterns(options: LoadOptions): Promise<RegExp[]> {
  if (!options.ignore?.length) return [];
  const { globToRegExp } = await import('../bundle/signing.js');
  return options.ignore.map(globToRegExp);
}

export async function loadPaths(args: string[], options: LoadOptions = {}): Promise<LoadedFiles> {
  const loaded: LoadedFiles = { modules: [], data: {} };
  const ignore = await ignorePatterns(options);
  for (const arg of args) {
    const { prefix, path } = splitPrefix(arg);
    const info = await stat(path).catch(() => {
      throw new LoadError(`stat ${path}: no such file or directory`);
    });
    if (info.isDirectory()) await loadDirectory(path, path, prefix, ignore, loaded);
    else await loadFile(path, prefix, loaded, true);
  }
  return loaded;
}

/** `-d` paths and `-b` bundles together, as `verdict eval` loads them; a document both give is an error. */
export async function loadDataAndBundles(dataPaths: string[], bundlePaths: string[], options: LoadOptions = {}): Promise<LoadedFiles> {
  const fromData = await loadPaths(dataPaths, options);
  const fromBundles = await loadBundlePaths(bundlePaths, options);
  return { modules: [...fromData.modules, ...fromBundles.modules], data: mergeData(fromData.data, fromBundles.data) };
}

function mergeData(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  if (Object.keys(b).length === 0) return a;
  for (const [k, v] of Object.entries(b)) {
    if (k in a) throw new LoadError(`merge error: data.${k} is given by both -d and -b`);
    a[k] = v;
  }
  return a;
}

/**
 * `--bundle`: each path is a bundle directory or .tar.gz file, read and checked as the server reads bundles;
 * a module keeps its directory path (its path inside an archive), and the Rego version its manifest's rego_version gives.
 */
export async function loadBundlePaths(paths: string[], options: LoadOptions = {}): Promise<LoadedFiles> {
  const loaded: LoadedFiles = { modules: [], data: {} };
  if (paths.length === 0) return loaded;
  // Imported here: the archive reader (tar-stream) is not needed by commands without --bundle.
  const { parseBundle } = await import('../bundle/bundle.js');
  const { BundleError, readBundleArchive, readBundleDirectory } = await import('../bundle/files.js');
  const ignore = await ignorePatterns(options);
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new LoadError(`stat ${path}: no such file or directory`);
    });
    try {
      const files = info.isDirectory() ? await readBundleDirectory(path, undefined, ignore) : await readBundleArchive(await readFile(path));
      const bundle = parseBundle(path, files);
      const version = bundle.manifest.rego_version;
      for (const m of bundle.modules) {
        loaded.modules.push({ path: info.isDirectory() ? join(path, m.path) : `/${m.path}`, source: m.source, ...(version === undefined ? {} : { regoVersion: version === 0 ? 'v0' : 'v1' }) });
      }
      mergeObjects(loaded.data, bundle.data, path);
    } catch (err) {
      if (err instanceof BundleError) throw new LoadError(`${path}: ${err.message}`);
      throw err;
    }
  }
  return loaded;
}

async function loadDirectory(root: string, dir: string, prefix: string[], ignore: RegExp[], loaded: LoadedFiles): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    if (ignore.some((pattern) => pattern.test(entry.name))) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await loadDirectory(root, full, prefix, ignore, loaded);
    else if (entry.isFile()) {
      const rel = relative(root, dir);
      await loadFile(full, rel === '' ? prefix : [...prefix, ...rel.split(sep)], loaded, false);
    }
  }
}

async function loadFile(path: string, at: string[], loaded: LoadedFiles, named: boolean): Promise<void> {
  const ext = extname(path);
  if (ext === '.rego') {
    loaded.modules.push({ path, source: await readFile(path, 'utf8') });
  } else if (DATA_EXTENSIONS.has(ext)) {
    const value = await readDataFile(path);
    // OPA stores data as its own numbers, whose range ends there; its message names no file.
    if (someNumberText(value, beyondOpaRange)) throw new LoadError('invalid number: number too big');
    if (at.length === 0 && !isObject(value)) throw new LoadError(`${path}: document must be of type object`);
    mergeAt(loaded.data, at, value, path);
  } else if (named) {
    throw new LoadError(`${path}: expected a .rego, .json, .yaml or .yml file or a directory`);
  }
  // Other files inside a directory are skipped, as OPA does.
}

/**
 * A data file's document (a .json file is read as JSON, others as YAML), or a schema file's (OPA reads those as
 * YAML whatever their extension); LoadError naming the file, in OPA's words, where it does not parse.
 */
async function readDataFile(path: string, kind: 'data' | 'schema' = 'data'): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  const asYaml = kind === 'schema' || extname(path) !== '.json';
  try {
    return asYaml ? parseYamlAsOpa(text) : readJsonDataFile(text);
  } catch (err) {
    if (!asYaml) throw new LoadError(`${path}: ${(err as Error).message}`);
    throw new LoadError(`${path}: ${kind === 'data' ? 'error converting YAML to JSON: ' : ''}${goYamlMessage(err as Error, text)}`);
  }
}

/**
 * `--schema PATH`, as OPA reads it: a file is the input schema; in a directory every .json, .yaml and .yml file
 * is a schema document that annotations refer to by its path without the extension (`a/b.c.json` is
 * `schema.a["b.c"]`), and other files are skipped.
 */
export async function loadSchemaSet(path: string): Promise<SchemaSet> {
  const info = await stat(path).catch(() => {
    throw new LoadError(`stat ${path}: no such file or directory`);
  });
  if (!info.isDirectory()) return { input: await readDataFile(path, 'schema'), documents: new Map() };
  const documents = new Map<string, unknown>();
  const walk = async (dir: string, at: string[]): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, entry.name);
      const ext = extname(entry.name);
      if (entry.isDirectory()) await walk(full, [...at, entry.name]);
      else if (entry.isFile() && DATA_EXTENSIONS.has(ext)) documents.set(JSON.stringify([...at, entry.name.slice(0, -ext.length)]), await readDataFile(full, 'schema'));
    }
  };
  await walk(path, []);
  return { documents };
}

/** The compiler's schema option for `--schema PATH` (or none): annotations' schemas are used either way. */
export async function schemaOption(path: unknown): Promise<{ set?: SchemaSet }> {
  return typeof path === 'string' ? { set: await loadSchemaSet(path) } : {};
}

function mergeAt(data: Record<string, unknown>, at: string[], value: unknown, path: string): void {
  let node = data;
  for (const key of at) {
    const next = node[key];
    if (next === undefined) node = node[key] = {};
    else if (isObject(next)) node = next;
    else throw new LoadError(`${path}: merge error: data.${at.join('.')} conflicts with other data`);
  }
  if (at.length > 0 && !isObject(value)) {
    const key = at[at.length - 1]!;
    const parent = at.slice(0, -1).reduce<Record<string, unknown>>((n, k) => n[k] as Record<string, unknown>, data);
    if (Object.keys(parent[key] as object).length > 0) throw new LoadError(`${path}: merge error at data.${at.join('.')}`);
    parent[key] = value;
    return;
  }
  mergeObjects(node, value as Record<string, unknown>, path);
}

function mergeObjects(into: Record<string, unknown>, from: Record<string, unknown>, path: string): void {
  for (const [k, v] of Object.entries(from)) {
    const have = into[k];
    if (have === undefined) into[k] = v;
    else if (isObject(have) && isObject(v)) mergeObjects(have, v, path);
    else throw new LoadError(`${path}: merge error: key ${JSON.stringify(k)} is defined more than once`);
  }
}
