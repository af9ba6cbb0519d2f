// Delta bundles (docs: management-bundles, "Delta Bundles"): `patch.json` is {"data":[{op,path,value}]} applied
// in order to the data of the active snapshot. `upsert` (OPA's own op) creates missing parents, `remove` and
// `replace` need the target to exist. The data tree given is never mutated: a new tree is returned sharing the
// untouched parts, so a patch that fails half-way leaves the active data as it was.
import { readJson } from '../json/reader.js';
import { isJsonObject } from '../json/kinds.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface PatchOperation {
  op: 'upsert' | 'remove' | 'replace';
  path: string;
  value?: JsonValue;
}

/** A patch that cannot be read or applied; the message names the operation and path. */
export class DeltaError extends Error {
  override name = 'DeltaError';
}

/**
 * Reads patch.json. An empty `data` list is not a delta at all (OPA then treats the bundle as a snapshot
 * with no data), so callers should check `operations.length` before taking the delta path.
 */
export function parsePatchFile(bytes: Buffer): PatchOperation[] {
  let doc: unknown;
  try {
    doc = readJson(bytes.toString('utf8'));
  } catch (err) {
    throw new DeltaError(`patch.json is not valid JSON: ${(err as Error).message}`);
  }
  const ops = (doc as { data?: unknown } | null)?.data ?? [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Array.isArray(ops)) {
    throw new DeltaError('patch.json must be an object with a "data" array of operations');
  }
  return ops.map((raw, n): PatchOperation => {
    const op = raw as { op?: unknown; path?: unknown; value?: unknown };
    if (typeof op !== 'object' || op === null) throw new DeltaError(`patch.json: operation ${n} is not an object`);
    if (op.op !== 'upsert' && op.op !== 'remove' && op.op !== 'replace') {
      throw new DeltaError(`patch.json: operation ${n}: bad patch operation ${JSON.stringify(op.op)} (expected upsert, remove or replace)`);
    }
    if (typeof op.path !== 'string') throw new DeltaError(`patch.json: operation ${n}: "path" must be a string`);
    if (op.op !== 'remove' && !('value' in op)) throw new DeltaError(`patch.json: operation ${n} (${op.op} ${op.path}) has no "value"`);
    return { op: op.op, path: op.path, value: op.value as JsonValue };
  });
}

/** Splits "/a/b~1c/%20" into ["a", "b/c", " "]: URL-unescaped as OPA's storage paths, then JSON Pointer escapes. */
export function parsePatchPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return [];
  return trimmed.split('/').map((segment) => {
    let unescaped: string;
    try {
      unescaped = decodeURIComponent(segment);
    } catch {
      throw new DeltaError(`patch path ${JSON.stringify(path)} has a bad %-escape`);
    }
    return unescaped.replace(/~1/g, '/').replace(/~0/g, '~');
  });
}

/** Applies the operations in order and returns the new data tree; throws DeltaError naming the failing one. */
export function applyPatch(data: { [key: string]: JsonValue }, operations: PatchOperation[]): { [key: string]: JsonValue } {
  let root: JsonValue = data;
  operations.forEach((op, n) => {
    const where = `patch.json: operation ${n} (${op.op} ${op.path})`;
    const segments = parsePatchPath(op.path);
    root = applyOne(root, segments, op, where);
  });
  if (!isObject(root)) throw new DeltaError('patch.json: the data root must stay an object');
  return root;
}

function isObject(v: JsonValue | undefined): v is { [key: string]: JsonValue } {
  return isJsonObject(v);
}

function applyOne(node: JsonValue, segments: string[], op: PatchOperation, where: string): JsonValue {
  if (segments.length === 0) {
    if (op.op === 'remove') throw new DeltaError(`${where}: the data root cannot be removed`);
    if (!isObject(op.value)) throw new DeltaError(`${where}: the data root can only be set to an object`);
    return op.value;
  }
  const [key, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(node)) return applyInArray(node, key, rest, op, where);
  if (!isObject(node)) throw new DeltaError(`${where}: ${JSON.stringify(key)} is below a ${node === null ? 'null' : typeof node}, not an object or array`);
  const exists = Object.hasOwn(node, key);
  if (rest.length === 0) {
    if (op.op !== 'upsert' && !exists) throw new DeltaError(`${where}: document missing: ${JSON.stringify(key)} does not exist`);
    const copy = { ...node };
    if (op.op === 'remove') delete copy[key];
    else copy[key] = op.value!;
    return copy;
  }
  if (!exists) {
    if (op.op !== 'upsert') throw new DeltaError(`${where}: document missing: ${JSON.stringify(key)} does not exist`);
    return { ...node, [key]: applyOne({}, rest, op, where) };
  }
  return { ...node, [key]: applyOne(node[key]!, rest, op, where) };
}

// Arrays follow JSON Patch: an index or "-" (append) for upsert, which inserts; remove/replace need an index in range.
function applyInArray(node: JsonValue[], key: string, rest: string[], op: PatchOperation, where: string): JsonValue {
  const last = rest.length === 0;
  const append = key === '-' && last && op.op === 'upsert';
  const index = append ? node.length : /^(0|[1-9]\d*)$/.test(key) ? Number(key) : -1;
  const limit = last && op.op === 'upsert' ? node.length : node.length - 1;
  if (index < 0 || index > limit) throw new DeltaError(`${where}: array index ${JSON.stringify(key)} is out of range (length ${node.length})`);
  const copy = [...node];
  if (!last) copy[index] = applyOne(node[index]!, rest, op, where);
  else if (op.op === 'remove') copy.splice(index, 1);
  else if (op.op === 'replace') copy[index] = op.value!;
  else copy.splice(index, 0, op.value!);
  return copy;
}

/** OPA refuses a delta whose manifest changes the roots or wasm entrypoints of the active snapshot. */
export function checkDeltaManifest(
  name: string,
  active: { roots?: string[]; wasm?: unknown[] },
  delta: { roots?: string[]; wasm?: unknown[] },
): void {
  const roots = (m: { roots?: string[] }) => JSON.stringify([...(m.roots ?? [''])].sort());
  const wasm = (m: { wasm?: unknown[] }) => JSON.stringify(m.wasm ?? []);
  if (roots(active) !== roots(delta) || wasm(active) !== wasm(delta)) {
    throw new DeltaError(`delta bundle '${name}' has wasm resolvers or manifest roots that are different from those in the store`);
  }
}
