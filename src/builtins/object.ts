// object.subset. Sets reach host builtins as arrays, so array operands follow OPA's array rule
// (a contiguous run); nested objects recurse as OPA does.
import { BuiltinError, type HostBuiltinTable, type JsonObject } from './args.js';
import { jsonEqual } from './json-value.js';

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function arraySubset(sup: unknown[], sub: unknown[]): boolean {
  if (sub.length > sup.length) return false;
  for (let start = 0; start + sub.length <= sup.length; start++) {
    if (sub.every((x, i) => jsonEqual(sup[start + i], x))) return true;
  }
  return false;
}

function subset(sup: unknown, sub: unknown): boolean {
  if (isObject(sup) && isObject(sub)) {
    return Object.entries(sub).every(([k, v]) => k in sup && (jsonEqual(sup[k], v) || subsetOfSameKind(sup[k], v)));
  }
  if (Array.isArray(sup) && Array.isArray(sub)) return arraySubset(sup, sub);
  throw new BuiltinError('object.subset', 'both arguments object.subset must be of the same type or array and set');
}

function subsetOfSameKind(sup: unknown, sub: unknown): boolean {
  if ((isObject(sup) && isObject(sub)) || (Array.isArray(sup) && Array.isArray(sub))) return subset(sup, sub);
  return false;
}

export const objectBuiltins: HostBuiltinTable = {
  'object.subset': subset,
};
