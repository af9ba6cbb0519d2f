// Equality and ordering of JSON values as OPA compares them (numbers by value, objects by keys and values),
// and the type names OPA uses in messages.

import { NumberText, regoSet } from './rego-value.js';
import { runtimeCompare } from '../wasm/runtime-calls.js';
export function jsonEqual(a: unknown, b: unknown): boolean {
  return compareJson(a, b) === 0;
}

const RANK: Record<string, number> = { null: 0, boolean: 1, number: 2, string: 3, array: 4, object: 5 };

export function jsonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof NumberText) return 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** OPA's total order on JSON values: null < booleans < numbers < strings < arrays < objects; numbers exactly. */
export function compareJson(a: unknown, b: unknown): number {
  const ta = jsonTypeName(a);
  const tb = jsonTypeName(b);
  if (ta !== tb) return RANK[ta]! - RANK[tb]!;
  if (ta === 'null') return 0;
  if (ta === 'array') {
    const x = a as unknown[];
    const y = b as unknown[];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = compareJson(x[i], y[i]);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  }
  if (ta === 'object') {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const xk = Object.keys(x).sort();
    const yk = Object.keys(y).sort();
    for (let i = 0; i < Math.min(xk.length, yk.length); i++) {
      if (xk[i] !== yk[i]) return xk[i]! < yk[i]! ? -1 : 1;
      const c = compareJson(x[xk[i]!], y[yk[i]!]);
      if (c !== 0) return c;
    }
    return xk.length - yk.length;
  }
  if (ta === 'string') return compareStrings(a as string, b as string);
  // A number kept as its text (1e400, 0.1000000000000000001) is ordered exactly, as the wasm runtime orders it.
  if (a instanceof NumberText || b instanceof NumberText) return runtimeCompare(a, b);
  const p = a as number | boolean;
  const q = b as number | string | boolean;
  return p === q ? 0 : p < q ? -1 : 1;
}

/** Go compares strings by UTF-8 bytes, which is code point order (JS `<` compares UTF-16 units). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
  }
  return x.length - y.length;
}

/** A set result: the values without duplicates in OPA's set order, sent back to the module as a set. */
export function asSet<T>(values: T[]): T[] {
  const sorted = [...values].sort(compareJson);
  return regoSet(sorted.filter((v, i) => i === 0 || compareJson(sorted[i - 1], v) !== 0)) as T[];
}
