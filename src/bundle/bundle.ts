// Interprets the raw files of a bundle (see files.ts) the way OPA does: the optional `.manifest`, data files
// placed at their directory path, Rego modules kept as source, and `policy.wasm` modules. Root checks follow
// OPA's bundle activation and reuse its messages, so operators see the same errors from both servers.
// Format: https://www.openpolicyagent.org/docs/management-bundles#bundle-file-format
import { parseYamlAsOpa } from '../json/yaml.js';
import { BundleError, type BundleFile } from './files.js';
import { packData, packDataYielding, packPiece } from '../json/packed.js';
import { MAX_JSON_DEPTH, readJson, readJsonYielding } from '../json/reader.js';
import { isJsonObject as isObject } from '../json/kinds.js';

export interface WasmEntrypoint {
  /** Slash-separated rule or package path, e.g. "gateway/authz/allow". */
  entrypoint: string;
  /** Module path as written in the manifest, e.g. "/policy.wasm". */
  module: string;
}

export interface BundleManifest {
  revision: string;
  /** Slash-separated roots; [""] (the default) owns the whole data tree. */
  roots: string[];
  wasm?: WasmEntrypoint[];
  metadata?: Record<string, unknown>;
  rego_version?: number;
  file_rego_versions?: Record<string, number>;
}

export interface RegoModule {
  /** Path inside the bundle, e.g. "gateway/authz/policy.rego". */
  path: string;
  /** Package path as data path segments, e.g. ["gateway", "authz"]. */
  packagePath: string[];
  source: string;
  /** An ad-hoc query wrapped as a module (src/compiler/query.ts): no part of data, so it may read all of data. */
  query?: true;
}

export interface WasmModule {
  /** Path inside the bundle with a leading slash, as manifests name it: "/policy.wasm". */
  path: string;
  bytes: Uint8Array;
}

export interface Bundle {
  name: string;
  manifest: BundleManifest;
  /** The bundle's base documents, merged from every data.json/data.yaml at its directory path. */
  data: Record<string, unknown>;
  modules: RegoModule[];
  wasm: WasmModule[];
  /** The ETag the bundle server sent with a downloaded bundle (data.system.bundles.<name>.etag, as OPA). */
  etag?: string;
}

/**
 * parseBundle for a server that is answering decisions meanwhile: large data.json files are read in pieces,
 * and packed, giving the event loop a turn between pieces (see readJsonYielding). Same bundle, same errors.
 */
export async function parseBundleYielding(name: string, files: BundleFile[]): Promise<Bundle> {
  const read = new Map<BundleFile, unknown>();
  const dataDirs = files.filter((f) => isDataFile(f.path)).map((f) => dirOf(f.path));
  const manifest = files.find((f) => f.path === '.manifest');
  let depth: number | undefined;
  try {
    depth = packDepth(manifest ? parseManifest(manifest.data) : { revision: '', roots: [''] });
  } catch {
    // readBundle reports the manifest's error.
  }
  for (const file of files) {
    if (file.path.slice(file.path.lastIndexOf('/') + 1) !== 'data.json') continue;
    // Packed piece by piece while read, unless another data file merges into this one's values.
    const dir = dirOf(file.path);
    const alone = !dataDirs.some((other) => other.length > dir.length && dir.every((segment, i) => other[i] === segment));
    const pack = depth !== undefined && alone ? (value: unknown, enclosing: number) => packPiece(value, dir.length + enclosing, depth) : undefined;
    // A file that does not read is left to parseBundle, which reports it.
    await readJsonYielding(file.data, MAX_JSON_DEPTH, pack).then((value) => read.set(file, value), () => undefined);
  }
  const bundle = readBundle(name, files, read);
  return { ...bundle, data: await packDataYielding(bundle.data, packDepth(bundle.manifest)) };
}

/**
 * Turns the files of one bundle into a Bundle, checking the manifest and that everything lies under its roots.
 * Large data is held packed, as JSON text (src/json/packed.ts; the wasm instances hold the copy decisions read).
 */
export function parseBundle(name: string, files: BundleFile[]): Bundle {
  const bundle = readBundle(name, files, new Map());
  return { ...bundle, data: packData(bundle.data, packDepth(bundle.manifest)) };
}

/** The data path of a file's directory in the bundle. */
function dirOf(path: string): string[] {
  return path.includes('/') ? path.slice(0, path.lastIndexOf('/')).split('/') : [];
}

function isDataFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'data.json' || base === 'data.yaml' || base === 'data.yml';
}

/** Packed parts lie at or below the shallowest root, where the store takes bundle data whole. */
function packDepth(manifest: BundleManifest): number {
  return Math.max(1, Math.min(...manifest.roots.map((root) => root.split('/').filter((s) => s !== '').length)));
}

/** parseBundle without the packing. `read`: data.json files already read (by parseBundleYielding). */
function readBundle(name: string, files: BundleFile[], read: ReadonlyMap<BundleFile, unknown>): Bundle {
  let manifest: BundleManifest = { revision: '', roots: [''] };
  const data: Record<string, unknown> = {};
  const modules: RegoModule[] = [];
  const wasm: WasmModule[] = [];
  const dataFiles: { dir: string[]; value: unknown; path: string }[] = [];

  for (const file of files) {
    const base = file.path.slice(file.path.lastIndexOf('/') + 1);
    const dir = dirOf(file.path);
    if (file.path === '.manifest') {
      manifest = parseManifest(file.data);
    } else if (base === 'data.json') {
      dataFiles.push({ dir, path: file.path, value: read.has(file) ? read.get(file) : parseJsonFile(file) });
    } else if (base === 'data.yaml' || base === 'data.yml') {
      dataFiles.push({ dir, path: file.path, value: parseYamlFile(file) });
    } else if (base.endsWith('.rego')) {
      const source = file.data.toString('utf8');
      modules.push({ path: file.path, source, packagePath: packageOf(source, file.path) });
    } else if (base === 'policy.wasm') {
      wasm.push({ path: `/${file.path}`, bytes: new Uint8Array(file.data) });
    }
    // OPA ignores every other file (including .signatures.json, which the signing code checks before us).
  }

  checkRootsDoNotOverlap(manifest.roots);
  for (const { dir, value, path } of dataFiles) {
    if (dir.length === 0) {
      if (!isObject(value)) throw new BundleError(`bundle ${name}: ${path} at the bundle root must hold a JSON object`);
      for (const key of Object.keys(value)) checkDataPathUnderRoots(name, manifest.roots, [key]);
    } else {
      checkDataPathUnderRoots(name, manifest.roots, dir);
    }
    mergeAt(data, dir, value, name, path);
  }
  for (const module of modules) {
    const pkg = module.packagePath.join('/');
    if (!manifest.roots.some((root) => isUnder(pkg, root))) {
      throw new BundleError(
        `bundle ${name}: manifest roots ${formatRoots(manifest.roots)} do not permit 'package ${module.packagePath.join('.')}' in module '${module.path}'`,
      );
    }
  }
  for (const entry of manifest.wasm ?? []) {
    if (!wasm.some((w) => w.path === entry.module)) {
      throw new BundleError(`bundle ${name}: manifest names wasm module ${entry.module} for entrypoint ${entry.entrypoint}, but the bundle has no such file`);
    }
  }
  return { name, manifest, data, modules, wasm };
}

/** OPA's rule for overlapping roots across the bundles active together. */
export function checkBundlesDoNotOverlap(bundles: Bundle[]): void {
  for (let i = 0; i < bundles.length; i++) {
    for (let j = i + 1; j < bundles.length; j++) {
      for (const a of bundles[i].manifest.roots) {
        for (const b of bundles[j].manifest.roots) {
          if (isUnder(a, b) || isUnder(b, a)) {
            const names = [bundles[i].name, bundles[j].name].sort();
            throw new BundleError(`detected overlapping roots in manifests for these bundles: [${names.join(', ')}] (${a} overlaps ${b})`);
          }
        }
      }
    }
  }
}

/** True when slash path `path` equals `root` or lies below it; the empty root owns everything. */
export function isUnder(path: string, root: string): boolean {
  return root === '' || path === root || path.startsWith(`${root}/`);
}

export function parseManifest(bytes: Buffer): BundleManifest {
  let raw: unknown;
  try {
    raw = readJson(bytes.toString('utf8'));
  } catch (err) {
    throw new BundleError(`.manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw new BundleError('.manifest must be a JSON object');
  const manifest: BundleManifest = { revision: '', roots: [''] };
  if (raw.revision !== undefined) {
    if (typeof raw.revision !== 'string') throw new BundleError('.manifest: "revision" must be a string');
    manifest.revision = raw.revision;
  }
  if (raw.roots !== undefined) {
    if (!Array.isArray(raw.roots) || raw.roots.some((r) => typeof r !== 'string')) {
      throw new BundleError('.manifest: "roots" must be an array of strings');
    }
    // OPA trims slashes so "/a/b/" and "a/b" are the same root.
    manifest.roots = (raw.roots as string[]).map((r) => r.replace(/^\/+|\/+$/g, ''));
  }
  if (raw.wasm !== undefined) {
    if (!Array.isArray(raw.wasm)) throw new BundleError('.manifest: "wasm" must be an array of {entrypoint, module}');
    manifest.wasm = raw.wasm.map((entry, i) => {
      if (!isObject(entry) || typeof entry.entrypoint !== 'string' || typeof entry.module !== 'string') {
        throw new BundleError(`.manifest: wasm[${i}] must be an object with string "entrypoint" and "module"`);
      }
      return { entrypoint: entry.entrypoint.replace(/^\/+/, ''), module: entry.module.startsWith('/') ? entry.module : `/${entry.module}` };
    });
  }
  if (raw.metadata !== undefined) {
    if (!isObject(raw.metadata)) throw new BundleError('.manifest: "metadata" must be an object');
    manifest.metadata = raw.metadata;
  }
  if (raw.rego_version !== undefined) {
    if (raw.rego_version !== 0 && raw.rego_version !== 1) throw new BundleError('.manifest: "rego_version" must be 0 or 1');
    manifest.rego_version = raw.rego_version;
  }
  if (raw.file_rego_versions !== undefined) {
    if (!isObject(raw.file_rego_versions)) throw new BundleError('.manifest: "file_rego_versions" must be an object of glob → 0|1');
    manifest.file_rego_versions = raw.file_rego_versions as Record<string, number>;
  }
  return manifest;
}

function parseJsonFile(file: BundleFile): unknown {
  try {
    return readJson(file.data.toString('utf8'));
  } catch (err) {
    throw new BundleError(`${file.path}: invalid JSON: ${(err as Error).message}`);
  }
}

function parseYamlFile(file: BundleFile): unknown {
  try {
    return parseYamlAsOpa(file.data.toString('utf8'));
  } catch (err) {
    throw new BundleError(`${file.path}: invalid YAML: ${(err as Error).message}`);
  }
}

/**
 * Reads the package path of a Rego module from its `package` clause. A full parse belongs to the compiler;
 * the bundle only needs the path to check roots and derive entrypoints.
 */
export function packageOf(source: string, path: string): string[] {
  const withoutComments = source.replace(/#[^\n]*/g, '');
  const match = /^\s*package\s+([^\s]+)/m.exec(withoutComments);
  if (!match) throw new BundleError(`${path}: no package clause found`);
  const segments: string[] = [];
  const ref = match[1];
  const part = /(?:^|\.)([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\]/gy;
  let m: RegExpExecArray | null;
  while ((m = part.exec(ref)) !== null) segments.push(m[1] ?? JSON.parse(`"${m[2]}"`));
  if (part.lastIndex !== ref.length && segments.length === 0) throw new BundleError(`${path}: cannot read package path ${ref}`);
  return segments[0] === 'data' ? segments.slice(1) : segments;
}

function checkRootsDoNotOverlap(roots: string[]): void {
  for (let i = 0; i < roots.length; i++) {
    for (let j = i + 1; j < roots.length; j++) {
      if (isUnder(roots[i], roots[j]) || isUnder(roots[j], roots[i])) {
        throw new BundleError(`manifest has overlapped roots: '${roots[i]}' and '${roots[j]}'`);
      }
    }
  }
}

function checkDataPathUnderRoots(name: string, roots: string[], dir: string[]): void {
  const path = dir.join('/');
  // A data file above a root is fine as long as it only writes below the root; OPA checks the file's
  // directory, and a root file's top-level keys.
  if (!roots.some((root) => isUnder(path, root))) {
    throw new BundleError(
      `bundle ${name}: manifest roots ${formatRoots(roots)} do not permit data at path '/${path}' (hint: check bundle directory structure)`,
    );
  }
}

function formatRoots(roots: string[]): string {
  return `[${roots.join(' ')}]`;
}

function mergeAt(target: Record<string, unknown>, dir: string[], value: unknown, name: string, file: string): void {
  let node = target;
  for (const [i, key] of dir.entries()) {
    if (i === dir.length - 1) {
      node[key] = isObject(node[key]) && isObject(value) ? deepMerge(node[key] as Record<string, unknown>, value, file) : conflictCheck(node[key], value, file, name);
      return;
    }
    if (node[key] === undefined) node[key] = {};
    if (!isObject(node[key])) throw new BundleError(`bundle ${name}: ${file} is placed below a non-object value at /${dir.slice(0, i + 1).join('/')}`);
    node = node[key] as Record<string, unknown>;
  }
  if (!isObject(value)) throw new BundleError(`bundle ${name}: ${file} at the bundle root must hold a JSON object`);
  deepMerge(target, value, file);
}

function conflictCheck(existing: unknown, value: unknown, file: string, name: string): unknown {
  if (existing !== undefined) throw new BundleError(`bundle ${name}: ${file} conflicts with data already placed at its path`);
  return value;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>, file: string): Record<string, unknown> {
  for (const [key, value] of Object.entries(source)) {
    if (isObject(target[key]) && isObject(value)) deepMerge(target[key] as Record<string, unknown>, value, file);
    else if (target[key] !== undefined) throw new BundleError(`${file}: key ${JSON.stringify(key)} conflicts with data from another file`);
    else target[key] = value;
  }
  return target;
}

export { isJsonObject as isObject } from '../json/kinds.js';
