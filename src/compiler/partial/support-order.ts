// The order OPA gives the rules of each support module: it sorts them as it orders rules (the head's arguments,
// reference, key and value; a rule before a default rule of the same head; then the bodies expression by
// expression), so `default p := false` comes before `p := true if …` and after `p := false if …`.
import type { Expr, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { compareTerms, exprJson } from './ast-json.js';
import type { SupportRule } from './evaluator.js';

/** Support rules grouped by package (in the order their packages first appear), each group in OPA's order. */
export function orderSupport(rules: SupportRule[]): SupportRule[] {
  const byPackage = new Map<string, SupportRule[]>();
  for (const rule of rules) {
    const key = rule.path.slice(0, -1).join('.');
    byPackage.set(key, [...(byPackage.get(key) ?? []), rule]);
  }
  return [...byPackage.values()].flatMap((group) => group.sort(compareRules));
}

function compareRules(a: SupportRule, b: SupportRule): number {
  return compareLists(a.args ?? [], b.args ?? [], compareTerms)
    || compareLists(headRef(a), headRef(b), compareTerms)
    || compareOptional(headKey(a), headKey(b))
    || compareOptional(headValue(a), headValue(b))
    || Number(a.default === true) - Number(b.default === true)
    || compareLists(a.body, b.body, compareExprs);
}

function headRef(r: SupportRule): Term[] {
  return [{ type: 'var', value: r.path[r.path.length - 1]!, loc: r.value.loc }, ...(r.ref ?? [])];
}

/** A set's element is its head's key; a partial object's key is the one term of its reference. */
function headKey(r: SupportRule): Term | undefined {
  return r.kind === 'set' ? r.value : r.ref?.length === 1 ? r.ref[0] : undefined;
}

function headValue(r: SupportRule): Term | undefined {
  return r.kind === 'set' ? undefined : r.value;
}

function compareOptional(a: Term | undefined, b: Term | undefined): number {
  if (a === undefined || b === undefined) return Number(a !== undefined) - Number(b !== undefined);
  return compareTerms(a, b);
}

function compareLists<T>(a: readonly T[], b: readonly T[], compare: (x: T, y: T) => number): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compare(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** A lone term before a call, before `every`, before a negation of a body; then index, then negation last. */
function exprKind(e: Expr): number {
  if (isTerm(e.terms)) return 1;
  if (Array.isArray(e.terms)) return 2;
  return e.terms.type === 'some' ? 0 : e.terms.type === 'every' ? 3 : 5;
}

function compareExprs(a: Expr, b: Expr): number {
  const c = exprKind(a) - exprKind(b) || a.index - b.index || Number(a.negated === true) - Number(b.negated === true);
  if (c !== 0) return c;
  if (isTerm(a.terms) && isTerm(b.terms)) return compareTerms(a.terms, b.terms);
  if (Array.isArray(a.terms) && Array.isArray(b.terms)) return compareLists(a.terms, b.terms, compareTerms) || compareText(a, b);
  return compareText(a, b);
}

/** What the order above leaves equal (`every`, `with` modifiers): compared by their JSON text. */
function compareText(a: Expr, b: Expr): number {
  const x = JSON.stringify(exprJson(a));
  const y = JSON.stringify(exprJson(b));
  return x < y ? -1 : x > y ? 1 : 0;
}
