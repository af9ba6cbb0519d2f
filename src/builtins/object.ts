// object.*: get, keys, remove, filter, union and union_n are answered by the wasm runtime
// (src/wasm/runtime/builtins/collections.ts); object.subset by the host, below.
// object.subset: objects recurse key by key, a set is a subset when it holds every element of the other set,
// an array is a subset of an array when it occurs in it as a contiguous run, and at the top level a set is a
// subset of an array holding all its elements. Nested values only compare with values of their own kind.
import { BuiltinError, obj, type JsonObject } from './args.js';
import { jsonEqual } from './json-value.js';
import { isRegoSet, regoSet } from './rego-value.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';
import { isJsonObject as isObject } from '../json/kinds.js';

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

export const objectBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'object.filter',
    decl: fn([arg('object', t.objectOf(t.any, t.any)), arg('keys', t.anyOf(t.arrayOf(t.any), t.objectOf(t.any, t.any), t.setOf(t.any)))], arg('filtered', t.objectOf(t.any, t.any))),
    runtime: 'b_object_filter',
  },
  {
    name: 'object.get',
    decl: fn([arg('object', t.objectOf(t.any, t.any)), arg('key', t.any), arg('default', t.any)], arg('value', t.any)),
    runtime: 'b_object_get',
    host: (o: unknown, k: unknown, d: unknown) => {
      const x = obj('object.get', 1, o);
      return typeof k === 'string' && k in x ? x[k] : d;
    },
  },
  {
    name: 'object.keys',
    decl: fn([arg('object', t.objectOf(t.any, t.any))], arg('value', t.setOf(t.any))),
    runtime: 'b_object_keys',
    host: (o: unknown) => regoSet(Object.keys(obj('object.keys', 1, o)).sort()),
  },
  {
    name: 'object.remove',
    decl: fn([arg('object', t.objectOf(t.any, t.any)), arg('keys', t.anyOf(t.arrayOf(t.any), t.objectOf(t.any, t.any), t.setOf(t.any)))], arg('output', t.objectOf(t.any, t.any))),
    runtime: 'b_object_remove',
  },
  {
    name: 'object.subset',
    decl: fn([arg('super', t.anyOf(t.arrayOf(t.any), t.objectOf(t.any, t.any), t.setOf(t.any))), arg('sub', t.anyOf(t.arrayOf(t.any), t.objectOf(t.any, t.any), t.setOf(t.any)))], arg('result', t.boolean)),
    host: subset,
  },
  {
    name: 'object.union',
    decl: fn([arg('a', t.objectOf(t.any, t.any)), arg('b', t.objectOf(t.any, t.any))], arg('output', t.objectOf(t.any, t.any))),
    runtime: 'b_object_union',
  },
  {
    name: 'object.union_n',
    decl: fn([arg('objects', t.arrayOf(t.objectOf(t.any, t.any)))], arg('output', t.objectOf(t.any, t.any))),
    runtime: 'b_object_union_n',
  },
];
