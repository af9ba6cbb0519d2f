// The base-document store: data from bundles plus writes through the Data API, and who owns which path.
// Writes inside a bundle's roots are refused with OPA's messages (v1/server/server.go checkPathScope).
import { isObject, isUnder, type Bundle, type BundleManifest } from '../bundle/bundle.js';
import { cloneJson } from '../json/clone.js';

/** A refused or impossible write; `kind` picks OPA's status and code in the server's error catalogue. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly kind: 'owned_by_bundle' | 'not_found' | 'conflict' | 'bad_patch' | 'rule_conflict',
    message: string,
  ) {
    super(message);
  }
}

export type JsonPatchOp = { op: 'add' | 'remove' | 'replace'; path: string; value?: unknown };

/** A document prepared for activation (see DataStore.prepare). */
export interface PreparedData {
  readonly bundles: Bundle[];
  readonly root: Record<string, unknown>;
  /** The store's version it was prepared from. */
  readonly basedOn: number;
}

export class DataStore {
  private root: Record<string, unknown> = {};
  private owners: { name: string; roots: string[] }[] = [];
  /** Bumped on every change so wasm instances know to reload their copy of data. */
  version = 0;
  /**
   * Documents a server keeps under data.system besides the bundles' manifests (OPA's data.system.version),
   * placed again (copied: Data API writes may change them) at every activation.
   */
  systemDocuments: Record<string, unknown> = {};
  /**
   * Refuses a write that would leave data where the active policies' rules live: given the written path and
   * a reader of the document as it would be after the write, OPA's message, or undefined to allow it.
   */
  ruleGuard?: (writtenAt: string[], after: (path: string[]) => unknown) => string | undefined;

  /**
   * The document with the new bundles' data in place of the old bundles', keeping writes made outside every
   * root; the store itself is unchanged until commit(). Copy-on-write: only the objects on the paths that
   * change are copied (shallowly); the rest, bundle data included, is shared, never copied (deep-cloning
   * 10 MB of data took seconds). Only bundle data at or under a root is shared: the store refuses writes
   * there, and delta bundles build new objects rather than edit; objects above the roots are copied, as
   * Data API writes may add keys to them.
   */
  prepare(bundles: Bundle[]): PreparedData {
    const next: Record<string, unknown> = { ...this.root };
    const fresh = new Set<object>([next]);
    const allRoots = [...this.owners, ...bundles.map((b) => ({ name: b.name, roots: b.manifest.roots }))].flatMap((o) => o.roots);
    for (const root of allRoots) removeFresh(next, splitPath(root), fresh);
    const manifests: Record<string, unknown> = {};
    for (const bundle of bundles) {
      mergeFresh(next, bundle.data, fresh, [], bundle.manifest.roots.map(splitPath));
      manifests[bundle.name] = { manifest: storedManifest(bundle.manifest), etag: bundle.etag ?? '' };
    }
    if (!isObject(next.system)) next.system = {};
    const system = freshChild(next, 'system', fresh)!;
    for (const [key, value] of Object.entries(this.systemDocuments)) system[key] = cloneJson(value);
    // As OPA: data.system.bundles exists while some bundle is active, and is left out when none is.
    if (bundles.length > 0) system.bundles = manifests;
    else delete system.bundles;
    if (Object.keys(system).length === 0) delete next.system;
    return { bundles, root: next, basedOn: this.version };
  }

  /**
   * Makes prepared data the store's. True when it is exactly what was prepared; false when a Data API write
   * came in between, and the bundles were placed again over the written document (so whoever loaded the
   * prepared document must load again).
   */
  commit(prepared: PreparedData): boolean {
    const exact = prepared.basedOn === this.version;
    const data = exact ? prepared : this.prepare(prepared.bundles);
    this.root = data.root;
    this.owners = prepared.bundles.map((b) => ({ name: b.name, roots: b.manifest.roots }));
    this.version++;
    return exact;
  }

  /** Replaces bundle data with the new bundles' data at once (prepare and commit). */
  activate(bundles: Bundle[]): void {
    this.commit(this.prepare(bundles));
  }

  /** The whole data document as the wasm module sees it. */
  get document(): Record<string, unknown> {
    return this.root;
  }

  read(path: string[]): unknown {
    let node: unknown = this.root;
    for (const key of path) {
      node = childOf(node, key);
      if (node === undefined) return undefined;
    }
    return node;
  }

  /** OPA's ownership rule: writes inside a bundle root, or to the root while any roots exist, are refused. */
  checkWritable(path: string[]): void {
    const joined = path.join('/');
    for (const owner of this.owners) {
      if (owner.roots.length === 0 || owner.roots.every((r) => r === '')) throw new StoreError('owned_by_bundle', `all paths owned by bundle "${owner.name}"`);
      if (joined === '') throw new StoreError('owned_by_bundle', "can't write to document root with bundle roots configured");
      for (const root of owner.roots) {
        if (isUnder(joined, root) || isUnder(root, joined)) throw new StoreError('owned_by_bundle', `path ${joined} is owned by bundle "${owner.name}"`);
      }
    }
  }

  /** PUT: creates parents as needed and overwrites. */
  put(path: string[], value: unknown): void {
    this.checkWritable(path);
    // Parents missing on the written path are created as objects.
    this.guard(path, (at) => (at.length > path.length ? readFrom(value, at.slice(path.length)) : at.length === path.length ? value : (this.read(at) ?? {})));
    if (path.length === 0) {
      if (!isObject(value)) throw new StoreError('bad_patch', 'root document must be an object');
      this.root = value;
    } else {
      let node = this.root;
      for (const key of path.slice(0, -1)) {
        if (node[key] === undefined) node[key] = {};
        if (!isObject(node[key])) throw new StoreError('conflict', `storage_write_conflict_error: /${path.join('/')}`);
        node = node[key] as Record<string, unknown>;
      }
      node[path[path.length - 1]] = value;
    }
    this.version++;
  }

  delete(path: string[]): void {
    this.checkWritable(path);
    if (this.read(path) === undefined) throw new StoreError('not_found', 'storage_not_found_error: document does not exist');
    removePath(this.root, path);
    this.version++;
  }

  /** PATCH: JSON Patch add/remove/replace applied relative to `path`, all or nothing. */
  patch(path: string[], ops: JsonPatchOp[]): void {
    this.checkWritable(path);
    let draft = cloneJson(this.root);
    for (const op of ops) {
      const target = [...path, ...splitPointer(op.path)];
      if (target.length === 0) {
        // The whole document is replaced, as OPA does; the rule-conflict check below still applies.
        if (op.op === 'remove') throw new StoreError('bad_patch', 'storage_invalid_patch_error: root cannot be removed');
        if (!isObject(op.value)) throw new StoreError('bad_patch', 'storage_invalid_patch_error: root must be object');
        draft = op.value;
        continue;
      }
      const parent = readFrom(draft, target.slice(0, -1));
      const key = target[target.length - 1];
      if (parent === undefined) throw new StoreError('not_found', 'storage_not_found_error: document does not exist');
      if (Array.isArray(parent)) {
        // OPA's words: an index past the end is not found, while removing or replacing at the end (or `-`) is an
        // invalid path.
        const at = `/${target.join('/')}`;
        if (key !== '-' && !/^[-+]?[0-9]+$/.test(key!)) throw new StoreError('not_found', `storage_not_found_error: ${at}: array index must be integer`);
        const index = key === '-' ? parent.length : Number(key);
        if (index < 0 || index > parent.length) throw new StoreError('not_found', `storage_not_found_error: ${at}: array index out of range`);
        if (op.op === 'add') parent.splice(index, 0, op.value);
        else if (index === parent.length) throw new StoreError('bad_patch', `storage_invalid_patch_error: ${at}: invalid patch path`);
        else if (op.op === 'remove') parent.splice(index, 1);
        else parent[index] = op.value;
      } else if (isObject(parent)) {
        if (op.op !== 'add' && !(key in parent)) throw new StoreError('not_found', 'storage_not_found_error: document does not exist');
        if (op.op === 'remove') delete parent[key];
        else parent[key] = op.value;
      } else {
        throw new StoreError('conflict', `storage_write_conflict_error: /${target.join('/')}`);
      }
    }
    this.guard(path, (at) => readFrom(draft, at));
    this.root = draft;
    this.version++;
  }

  private guard(writtenAt: string[], after: (path: string[]) => unknown): void {
    const refused = this.ruleGuard?.(writtenAt, after);
    if (refused !== undefined) throw new StoreError('rule_conflict', refused);
  }
}

/** The manifest as OPA stores it under data.system.bundles.<name>.manifest. */
function storedManifest(manifest: BundleManifest): Record<string, unknown> {
  const stored: Record<string, unknown> = { revision: manifest.revision, roots: manifest.roots };
  if (manifest.wasm) stored.wasm = manifest.wasm;
  if (manifest.metadata) stored.metadata = manifest.metadata;
  if (manifest.rego_version !== undefined) stored.rego_version = manifest.rego_version;
  return stored;
}

export function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** A patch path under the written document; OPA takes it with or without its leading "/". */
function splitPointer(pointer: string): string[] {
  const relative = pointer.startsWith('/') ? pointer.slice(1) : pointer;
  if (relative === '') return [];
  return relative.split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** One step down a JSON document: an object key, or a decimal index into an array. */
export function childOf(node: unknown, key: string): unknown {
  if (Array.isArray(node)) {
    return /^(0|[1-9][0-9]*)$/.test(key) ? node[Number(key)] : undefined;
  }
  if (isObject(node) && Object.prototype.hasOwnProperty.call(node, key)) return node[key];
  return undefined;
}

function readFrom(node: unknown, path: string[]): unknown {
  for (const key of path) {
    node = childOf(node, key);
    if (node === undefined) return undefined;
  }
  return node;
}

/** The object at `key` of a parent copied in this activation, copied itself (shallowly) the first time. */
function freshChild(parent: Record<string, unknown>, key: string, fresh: Set<object>): Record<string, unknown> | undefined {
  const child = parent[key];
  if (!isObject(child)) return undefined;
  if (fresh.has(child)) return child;
  const copy = { ...child };
  parent[key] = copy;
  fresh.add(copy);
  return copy;
}

/** removePath on a copy-on-write tree: copies the ancestors of the removed path, nothing else. */
function removeFresh(root: Record<string, unknown>, path: string[], fresh: Set<object>): void {
  let node: Record<string, unknown> | undefined = root;
  for (const key of path.slice(0, -1)) {
    node = freshChild(node, key, fresh);
    if (!node) return;
  }
  if (path.length === 0) {
    for (const key of Object.keys(node)) if (key !== 'system') delete node[key];
  } else {
    delete node[path[path.length - 1]];
  }
}

/**
 * Merges a bundle's data into a copy-on-write tree. Values at or under one of the bundle's roots are shared;
 * objects above the roots are copied as they are merged.
 */
function mergeFresh(target: Record<string, unknown>, source: Record<string, unknown>, fresh: Set<object>, path: string[], roots: string[][]): void {
  for (const [key, value] of Object.entries(source)) {
    const at = [...path, key];
    const owned = roots.some((root) => root.length <= at.length && root.every((s, i) => at[i] === s));
    if (isObject(value) && (!owned || isObject(target[key]))) {
      if (!isObject(target[key])) {
        target[key] = {};
        fresh.add(target[key] as object);
      }
      mergeFresh(freshChild(target, key, fresh)!, value, fresh, at, roots);
    } else {
      target[key] = value;
    }
  }
}

function removePath(node: Record<string, unknown>, path: string[]): void {
  if (path.length === 0) {
    for (const key of Object.keys(node)) if (key !== 'system') delete node[key];
    return;
  }
  const parent = readFrom(node, path.slice(0, -1));
  if (isObject(parent)) delete parent[path[path.length - 1]];
}
