// object.subset: objects recurse key by key, a set is a subset when it holds every element of the other set,
// an array is a subset of an array when it occurs in it as a contiguous run, and at the top level a set is a
// subset of an array holding all its elements. Nested values only compare with values of their own kind.
import { BuiltinError, type HostBuiltinTable, type JsonObject } from './args.js';
import { jsonEqual } from './json-value.js';
import { isRegoSet } from './rego-value.js';

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isArray(v: unknown): v is unknown[] {
  return Array.isArray(v) && !isRegoSet(v);
}

function arraySubset(sup: unknown[], sub: unknown[]): boolean {
  if (sub.length > sup.length) return false;
  for (let start = 0; start + sub.length <= sup.length; start++) {
    if (sub.every((x, i) => jsonEqual(sup[start + i], x))) return true;
  }
  return false;
}

const holdsAll = (sup: unknown[], sub: unknown[]) => sub.every((x) => sup.some((y) => jsonEqual(x, y)));

function subset(sup: unknown, sub: unknown): boolean {
  if (isObject(sup) && isObject(sub)) {
    return Object.entries(sub).every(([k, v]) => k in sup && (jsonEqual(sup[k], v) || subsetOfSameKind(sup[k], v)));
  }
  if (isRegoSet(sub) && Array.isArray(sup)) return holdsAll(sup, sub);
  if (isArray(sup) && isArray(sub)) return arraySubset(sup, sub);
  throw new BuiltinError('object.subset', 'both arguments object.subset must be of the same type or array and set');
}

function subsetOfSameKind(sup: unknown, sub: unknown): boolean {
  const sameKind = (isObject(sup) && isObject(sub)) || (isRegoSet(sup) && isRegoSet(sub)) || (isArray(sup) && isArray(sub));
  return sameKind && subset(sup, sub);
}

export const objectBuiltins: HostBuiltinTable = {
  'object.subset': subset,
};
