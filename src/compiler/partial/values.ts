// Ground terms and the JSON values builtins work on, both ways. The partial evaluator keeps every value as an
// AST term, so that known and residual values travel alike and residual ones can be printed as Rego; a ground
// term (no variable, no reference) converts to a plain value whenever a builtin must run on it.
import type { Location, Term } from '../ast.js';
import { asSet, compareJson } from '../../builtins/json-value.js';
import { isRegoSet } from '../../builtins/rego-value.js';
import { NumberText, numberFromText } from '../../json/number-text.js';

export const NO_LOC: Location = { file: '', row: 0, col: 0, offset: 0, end: 0 };

/** True when `t` holds no variable, reference, call or comprehension. */
export function isGround(t: Term): boolean {
  switch (t.type) {
    case 'null': case 'boolean': case 'number': case 'string': return true;
    case 'array': case 'set': return t.value.every(isGround);
    case 'object': return t.value.every(([k, v]) => isGround(k) && isGround(v));
    default: return false;
  }
}

/**
 * The value of a ground term. Object keys that are not strings are kept as their JSON text; a number that a JS
 * number would not print back (1e400, 0.1000000000000000001) is kept as its NumberText.
 */
export function toValue(t: Term): unknown {
  switch (t.type) {
    case 'null': return null;
    case 'boolean': case 'string': return t.value;
    case 'number': return numberFromText(t.value);
    case 'array': return t.value.map(toValue);
    case 'set': return sortedSet(t.value.map(toValue));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of t.value) out[k.type === 'string' ? k.value : JSON.stringify(toValue(k))] = toValue(v);
      return out;
    }
    default: throw new Error(`not a ground term: ${t.type}`);
  }
}

export function toTerm(v: unknown, loc: Location = NO_LOC): Term {
  if (v === null || v === undefined) return { type: 'null', loc };
  if (typeof v === 'boolean') return { type: 'boolean', value: v, loc };
  if (typeof v === 'number') return { type: 'number', value: String(v), loc };
  if (typeof v === 'string') return { type: 'string', value: v, loc };
  if (v instanceof NumberText) return { type: 'number', value: v.text, loc };
  if (isRegoSet(v)) return { type: 'set', value: sortedSet([...v]).map((x) => toTerm(x, loc)), loc };
  if (Array.isArray(v)) return { type: 'array', value: v.map((x) => toTerm(x, loc)), loc };
  const entries = Object.keys(v as object).sort().map((k): [Term, Term] => [{ type: 'string', value: k, loc }, toTerm((v as Record<string, unknown>)[k], loc)]);
  return { type: 'object', value: entries, loc };
}

/** Whether a term holds a reference anywhere (a call's arguments included). */
export function hasRefs(t: Term): boolean {
  switch (t.type) {
    case 'ref': return true;
    case 'array': case 'set': case 'call': return t.value.some(hasRefs);
    case 'object': return t.value.some(([a, b]) => hasRefs(a) || hasRefs(b));
    default: return false;
  }
}

/** A set value: elements deduplicated and in OPA's order. */
export const sortedSet = asSet;

export function valuesEqual(a: unknown, b: unknown): boolean {
  return compareJson(a, b) === 0;
}

/** Ground terms compared as values (1 and 1.0 are equal, sets regardless of order). */
export function groundEqual(a: Term, b: Term): boolean {
  return valuesEqual(toValue(a), toValue(b));
}
