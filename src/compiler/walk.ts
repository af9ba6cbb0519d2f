// Small traversals over the AST shared by the compile stages.
import type { Body, Expr, Term } from './ast.js';
import { isTerm } from './ast.js';

/** Every term directly inside `t` (not into comprehension bodies or template expressions). */
export function childTerms(t: Term): Term[] {
  switch (t.type) {
    case 'ref': case 'array': case 'set': case 'call': return t.value;
    case 'object': return t.value.flat();
    default: return [];
  }
}

/** Calls `f` on every var in `t`, including those inside comprehensions and template strings. */
export function forEachVar(t: Term, f: (v: Term & { type: 'var' }) => void): void {
  switch (t.type) {
    case 'var': f(t); return;
    case 'arraycomprehension': case 'setcomprehension':
      forEachVar(t.value.term, f);
      forEachVarInBody(t.value.body, f);
      return;
    case 'objectcomprehension':
      forEachVar(t.value.key, f);
      forEachVar(t.value.value, f);
      forEachVarInBody(t.value.body, f);
      return;
    case 'templatestring':
      for (const p of t.value.parts) {
        if ('terms' in p) forEachVarInExpr(p, f);
        else forEachVar(p, f);
      }
      return;
    default:
      for (const c of childTerms(t)) forEachVar(c, f);
  }
}

export function forEachVarInExpr(e: Expr, f: (v: Term & { type: 'var' }) => void): void {
  for (const t of exprTerms(e)) forEachVar(t, f);
  const terms = e.terms;
  if (!Array.isArray(terms) && !isTerm(terms)) {
    if (terms.type === 'every' || terms.type === 'not') forEachVarInBody(terms.body, f);
    else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
      forEachVarInBody(terms.lhs, f);
      forEachVarInBody(terms.rhs, f);
    }
  }
  for (const w of e.with ?? []) {
    forEachVar(w.target, f);
    forEachVar(w.value, f);
  }
}

export function forEachVarInBody(b: Body, f: (v: Term & { type: 'var' }) => void): void {
  for (const e of b) forEachVarInExpr(e, f);
}

/** The terms an expression holds at its own level (not those of nested bodies). */
export function exprTerms(e: Expr): Term[] {
  const t = e.terms;
  if (Array.isArray(t)) return t;
  if (isTerm(t)) return [t];
  if (t.type === 'some') return t.symbols;
  if (t.type === 'every') return [...(t.key ? [t.key] : []), t.value, t.domain];
  return [];
}

/** Every ref in a term, outermost first, including refs inside comprehensions. */
export function forEachRef(t: Term, f: (r: Term & { type: 'ref' }) => void): void {
  if (t.type === 'ref') f(t);
  switch (t.type) {
    case 'arraycomprehension': case 'setcomprehension':
      forEachRef(t.value.term, f);
      forEachRefInBody(t.value.body, f);
      return;
    case 'objectcomprehension':
      forEachRef(t.value.key, f);
      forEachRef(t.value.value, f);
      forEachRefInBody(t.value.body, f);
      return;
    case 'templatestring':
      for (const p of t.value.parts) {
        if ('terms' in p) forEachRefInBody([p], f);
        else forEachRef(p, f);
      }
      return;
    default:
      for (const c of childTerms(t)) forEachRef(c, f);
  }
}

export function forEachRefInBody(b: Body, f: (r: Term & { type: 'ref' }) => void): void {
  for (const e of b) {
    for (const t of exprTerms(e)) forEachRef(t, f);
    const terms = e.terms;
    if (!Array.isArray(terms) && !isTerm(terms)) {
      if (terms.type === 'every' || terms.type === 'not') forEachRefInBody(terms.body, f);
      else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
        forEachRefInBody(terms.lhs, f);
        forEachRefInBody(terms.rhs, f);
      }
    }
    for (const w of e.with ?? []) {
      forEachRef(w.target, f);
      forEachRef(w.value, f);
    }
  }
}

/** Calls `f` on every expression of `b` and of the bodies nested in it (comprehensions, every, not, and/or). */
export function forEachExprDeep(b: Body, f: (e: Expr) => void): void {
  const inTerm = (t: Term): void => {
    switch (t.type) {
      case 'arraycomprehension': case 'setcomprehension':
        inTerm(t.value.term);
        forEachExprDeep(t.value.body, f);
        return;
      case 'objectcomprehension':
        inTerm(t.value.key);
        inTerm(t.value.value);
        forEachExprDeep(t.value.body, f);
        return;
      case 'templatestring':
        for (const p of t.value.parts) {
          if ('terms' in p) forEachExprDeep([p], f);
          else inTerm(p);
        }
        return;
      default:
        for (const c of childTerms(t)) inTerm(c);
    }
  };
  for (const e of b) {
    f(e);
    for (const t of exprTerms(e)) inTerm(t);
    const terms = e.terms;
    if (!Array.isArray(terms) && !isTerm(terms)) {
      if (terms.type === 'every' || terms.type === 'not') forEachExprDeep(terms.body, f);
      else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
        forEachExprDeep(terms.lhs, f);
        forEachExprDeep(terms.rhs, f);
      }
    }
    for (const w of e.with ?? []) {
      inTerm(w.target);
      inTerm(w.value);
    }
  }
}

/** The operator name of a call expression (`eq`, `assign`, `internal.member_2`), or ''. */
export function exprOperator(e: Expr): string {
  if (!Array.isArray(e.terms)) return '';
  const op = e.terms[0];
  if (op.type !== 'ref') return '';
  // Called for every expression by several stages: build the name without intermediate arrays.
  const head = op.value[0];
  let name = head.type === 'var' || head.type === 'string' ? head.value : '?';
  for (let i = 1; i < op.value.length; i++) {
    const t = op.value[i];
    name += t.type === 'string' ? `.${t.value}` : '.?';
  }
  return name;
}
