// OPA's RewriteDynamicTerms, for negated expressions only: the references among a call's arguments (and inside
// composite operands of `=`/`==`) are evaluated before the expression, so `not f(x.y)` with x.y undefined is
// undefined, not true (`opa eval` agrees). Outside `not` the order makes no difference, so plain expressions are
// planned as they are.
import type { Expr, Term } from '../ast.js';
import { refName } from './calls.js';
import type { Ctx } from './context.js';
import { planTerm } from './terms.js';

type KT = (t: Term) => void;
type KTs = (ts: Term[]) => void;

let fresh = 0;

/** Plans the dynamic terms of negated `e` into the current block, then `k` gets `e` with them replaced by vars. */
export function hoistDynamics(c: Ctx, e: Expr, k: (e: Expr) => void): void {
  const t = e.terms;
  if (Array.isArray(t)) {
    const name = refName(t[0]!);
    const each = name === 'eq' || name === 'equal' ? hoistIn : hoistOne;
    return all(c, t.slice(1), each, (args) => k({ ...e, terms: [t[0]!, ...args] }));
  }
  if (t.type === 'ref') return hoistIn(c, t, (r) => k({ ...e, terms: r }));
  k(e);
}

/** An operand of `=`: a reference itself stays; the terms of its keys, and of a composite head, are hoisted. */
function hoistIn(c: Ctx, t: Term, k: KT): void {
  if (t.type !== 'ref') return hoistOne(c, t, k);
  const head = t.value[0]!;
  const parts = head.type === 'var' ? t.value.slice(1) : t.value;
  all(c, parts, hoistOne, (hoisted) => k({ ...t, value: head.type === 'var' ? [head, ...hoisted] : hoisted }));
}

function hoistOne(c: Ctx, t: Term, k: KT): void {
  switch (t.type) {
    case 'ref':
      // A reference that still iterates (`xs[_]`) is left where it is: hoisting it would change what `not` means.
      return hoistIn(c, t, (r) => (bound(c, r) ? hoist(c, r, k) : k(r)));
    case 'array': return all(c, t.value, hoistOne, (value) => k({ ...t, value }));
    case 'set': return all(c, t.value, hoistOne, (value) => k({ ...t, value }));
    case 'object':
      return all(c, t.value.flat(), hoistOne, (flat) => {
        const value: [Term, Term][] = [];
        for (let i = 0; i < flat.length; i += 2) value.push([flat[i]!, flat[i + 1]!]);
        k({ ...t, value });
      });
    // A nested call goes before the expression too (OPA's RewriteExprTerms), its result undefined or not.
    case 'call': return all(c, t.value.slice(1), hoistOne, (args) => hoist(c, { ...t, value: [t.value[0]!, ...args] }, k));
    default: return k(t);
  }
}

/** Plans `t` here and continues with a fresh variable bound to its value. */
function hoist(c: Ctx, t: Term, k: KT): void {
  planTerm(c, t, (op) => {
    const name = `__dynamic${fresh++}__`;
    c.e.bind(name, c.e.toLocal(op), () => k({ type: 'var', value: name, loc: t.loc }));
  });
}

function all(c: Ctx, ts: Term[], each: (c: Ctx, t: Term, k: KT) => void, k: KTs, acc: Term[] = []): void {
  if (acc.length === ts.length) return k(acc);
  each(c, ts[acc.length]!, (t) => all(c, ts, each, k, [...acc, t]));
}

/** Every variable of the reference (past its head) is bound, and it calls no function. */
function bound(c: Ctx, r: Term): boolean {
  if (r.type === 'var') return c.e.lookup(r.value) !== undefined;
  if (r.type === 'ref') return r.value.slice(1).every((p) => bound(c, p));
  if (r.type === 'array' || r.type === 'set') return r.value.every((p) => bound(c, p));
  if (r.type === 'object') return r.value.flat().every((p) => bound(c, p));
  return r.type !== 'call' && !r.type.endsWith('comprehension') && r.type !== 'templatestring';
}
