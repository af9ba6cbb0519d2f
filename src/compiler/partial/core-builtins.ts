// The builtins the partial evaluator runs on known arguments. Host builtins come from the registry; the
// operators and string/collection functions that the compiled path answers inside our wasm runtime have no
// JavaScript form there, so the common ones are written here. A builtin in neither place is refused by name
// when its arguments are known (its call is kept residual when they are not).
import { builtinRegistry } from '../../builtins/registry.js';
import { compareJson, jsonTypeName } from '../../builtins/json-value.js';
import { isRegoSet, regoSet } from '../../builtins/rego-value.js';
import { sortedSet, valuesEqual } from './values.js';

type Impl = (...args: unknown[]) => unknown;

/** Thrown for an operand of the wrong type: the call is undefined, as in OPA's non-strict mode. */
class Undefined extends Error {}

const num = (v: unknown): number => {
  if (typeof v !== 'number') throw new Undefined();
  return v;
};
const str = (v: unknown): string => {
  if (typeof v !== 'string') throw new Undefined();
  return v;
};
const collection = (v: unknown): unknown[] => {
  if (Array.isArray(v)) return v;
  if (v !== null && typeof v === 'object') return Object.values(v);
  throw new Undefined();
};

const core: Record<string, Impl> = {
  equal: (a, b) => valuesEqual(a, b),
  neq: (a, b) => !valuesEqual(a, b),
  lt: (a, b) => compareJson(a, b) < 0,
  lte: (a, b) => compareJson(a, b) <= 0,
  gt: (a, b) => compareJson(a, b) > 0,
  gte: (a, b) => compareJson(a, b) >= 0,
  plus: (a, b) => num(a) + num(b),
  minus: (a, b) => {
    if (isRegoSet(a) && isRegoSet(b)) return sortedSet(a.filter((x) => !b.some((y) => valuesEqual(x, y))));
    return num(a) - num(b);
  },
  mul: (a, b) => num(a) * num(b),
  div: (a, b) => {
    if (num(b) === 0) throw new Undefined();
    return num(a) / num(b);
  },
  rem: (a, b) => {
    if (num(b) === 0 || !Number.isInteger(a) || !Number.isInteger(b)) throw new Undefined();
    return num(a) % num(b);
  },
  abs: (a) => Math.abs(num(a)),
  count: (a) => (typeof a === 'string' ? [...a].length : collection(a).length),
  sum: (a) => collection(a).reduce((s: number, x) => s + num(x), 0),
  max: (a) => {
    const xs = collection(a);
    if (xs.length === 0) throw new Undefined();
    return xs.reduce((m, x) => (compareJson(x, m) > 0 ? x : m));
  },
  min: (a) => {
    const xs = collection(a);
    if (xs.length === 0) throw new Undefined();
    return xs.reduce((m, x) => (compareJson(x, m) < 0 ? x : m));
  },
  'internal.member_2': (x, xs) => collection(xs).some((y) => valuesEqual(x, y)),
  'internal.member_3': (k, v, xs) => {
    if (Array.isArray(xs) && !isRegoSet(xs)) return typeof k === 'number' && valuesEqual(xs[k], v);
    if (xs !== null && typeof xs === 'object' && !Array.isArray(xs)) return typeof k === 'string' && k in xs && valuesEqual((xs as Record<string, unknown>)[k], v);
    throw new Undefined();
  },
  startswith: (s, p) => str(s).startsWith(str(p)),
  endswith: (s, p) => str(s).endsWith(str(p)),
  contains: (s, p) => str(s).includes(str(p)),
  lower: (s) => str(s).toLowerCase(),
  upper: (s) => str(s).toUpperCase(),
  concat: (sep, xs) => collection(xs).map(str).join(str(sep)),
  split: (s, sep) => str(s).split(str(sep)),
  trim_space: (s) => str(s).trim(),
  indexof: (s, p) => str(s).indexOf(str(p)),
  is_string: (v) => typeof v === 'string' || (() => { throw new Undefined(); })(),
  is_number: (v) => typeof v === 'number' || (() => { throw new Undefined(); })(),
  is_null: (v) => v === null || (() => { throw new Undefined(); })(),
  is_array: (v) => (Array.isArray(v) && !isRegoSet(v)) || (() => { throw new Undefined(); })(),
  type_name: (v) => (isRegoSet(v) ? 'set' : jsonTypeName(v)),
  'object.get': (o, k, d) => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Undefined();
    return typeof k === 'string' && k in o ? (o as Record<string, unknown>)[k] : d;
  },
  'object.keys': (o) => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Undefined();
    return regoSet(Object.keys(o).sort());
  },
  union: (a, b) => sortedSet([...collection(a), ...collection(b)]),
  intersection: (xs) => {
    const sets = collection(xs).map(collection);
    if (sets.length === 0) return regoSet([]);
    return sortedSet(sets[0]!.filter((x) => sets.every((s) => s.some((y) => valuesEqual(x, y)))));
  },
  and: (a, b) => sortedSet(collection(a).filter((x) => collection(b).some((y) => valuesEqual(x, y)))),
  or: (a, b) => sortedSet([...collection(a), ...collection(b)]),
};

const registered = new Map(builtinRegistry.map((b) => [b.name, b]));

export type BuiltinOutcome = { defined: true; value: unknown } | { defined: false } | { unsupported: true };

/** Runs builtin `name` on known arguments. */
export function callBuiltin(name: string, args: unknown[]): BuiltinOutcome {
  const spec = registered.get(name);
  const impl = core[name] ?? (spec?.host as Impl | undefined);
  if (!impl) return { unsupported: true };
  try {
    const value = impl(...args);
    return value === undefined ? { defined: false } : { defined: true, value };
  } catch {
    return { defined: false };
  }
}

/** Declared argument count of a builtin, or undefined for a name that is not one. */
export function builtinArity(name: string): { arity: number; variadic: boolean } | undefined {
  const spec = registered.get(name);
  return spec && { arity: spec.decl.args?.length ?? 0, variadic: spec.decl.variadic !== undefined };
}
