// Small traversals over the AST shared by the compile stages.
import type { Body, Expr, Location, Module, Rule, Term } from './ast.js';
import { isTerm } from './ast.js';

/** Every term directly inside `t` (not into comprehension bodies or template expressions). */
export function childTerms(t: Term): Term[] {
  switch (t.type) {
    case 'ref': case 'array': case 'set': case 'call': return t.value;
    case 'object': return t.value.flat();
    default: return [];
  }
}

// The walks below run over every term of every rule several times per compile, mostly in code not yet
// optimised by the JIT (a policy is compiled once): they use indexed loops and module-level functions rather
// than iterators, spread arrays and per-call closures, which the interpreter runs several times slower.

/** Calls `g` on the terms an expression holds at its own level, in exprTerms order. */
function eachExprTerm(e: Expr, g: (t: Term) => void): void {
  const t = e.terms;
  if (Array.isArray(t)) {
    for (let i = 0; i < t.length; i++) g(t[i]);
  } else if (isTerm(t)) g(t);
  else if (t.type === 'some') {
    for (let i = 0; i < t.symbols.length; i++) g(t.symbols[i]);
  } else if (t.type === 'every') {
    if (t.key) g(t.key);
    g(t.value);
    g(t.domain);
  }
}

/** Calls `f` on every var in `t` but those inside comprehensions and template strings (closures). */
export function forEachVarOutsideClosures(t: Term, f: (v: Term & { type: 'var' }) => void): void {
  if (t.type === 'var') f(t);
  else {
    const xs = childTerms(t);
    for (let i = 0; i < xs.length; i++) forEachVarOutsideClosures(xs[i], f);
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
    case 'ref': case 'array': case 'set': case 'call': {
      const xs = t.value;
      for (let i = 0; i < xs.length; i++) forEachVar(xs[i], f);
      return;
    }
    case 'object': {
      const kvs = t.value;
      for (let i = 0; i < kvs.length; i++) {
        forEachVar(kvs[i][0], f);
        forEachVar(kvs[i][1], f);
      }
      return;
    }
    default:
  }
}

export function forEachVarInExpr(e: Expr, f: (v: Term & { type: 'var' }) => void): void {
  eachExprTerm(e, (t) => forEachVar(t, f));
  const terms = e.terms;
  if (!Array.isArray(terms) && !isTerm(terms)) {
    if (terms.type === 'every' || terms.type === 'not') forEachVarInBody(terms.body, f);
    else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
      forEachVarInBody(terms.lhs, f);
      forEachVarInBody(terms.rhs, f);
    }
  }
  if (e.with) {
    for (let i = 0; i < e.with.length; i++) {
      forEachVar(e.with[i].target, f);
      forEachVar(e.with[i].value, f);
    }
  }
}

export function forEachVarInBody(b: Body, f: (v: Term & { type: 'var' }) => void): void {
  for (let i = 0; i < b.length; i++) forEachVarInExpr(b[i], f);
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
    case 'ref': case 'array': case 'set': case 'call': {
      const xs = t.value;
      for (let i = 0; i < xs.length; i++) forEachRef(xs[i], f);
      return;
    }
    case 'object': {
      const kvs = t.value;
      for (let i = 0; i < kvs.length; i++) {
        forEachRef(kvs[i][0], f);
        forEachRef(kvs[i][1], f);
      }
      return;
    }
    default:
  }
}

export function forEachRefInBody(b: Body, f: (r: Term & { type: 'ref' }) => void): void {
  for (let i = 0; i < b.length; i++) {
    const e = b[i];
    eachExprTerm(e, (t) => forEachRef(t, f));
    const terms = e.terms;
    if (!Array.isArray(terms) && !isTerm(terms)) {
      if (terms.type === 'every' || terms.type === 'not') forEachRefInBody(terms.body, f);
      else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
        forEachRefInBody(terms.lhs, f);
        forEachRefInBody(terms.rhs, f);
      }
    }
    if (e.with) {
      for (let j = 0; j < e.with.length; j++) {
        forEachRef(e.with[j].target, f);
        forEachRef(e.with[j].value, f);
      }
    }
  }
}

/** forEachExprDeep's search of a term for the bodies nested in it. */
function exprsInTerm(t: Term, f: (e: Expr) => void): void {
  switch (t.type) {
    case 'var': case 'string': case 'number': case 'boolean': case 'null': return;
    case 'arraycomprehension': case 'setcomprehension':
      exprsInTerm(t.value.term, f);
      forEachExprDeep(t.value.body, f);
      return;
    case 'objectcomprehension':
      exprsInTerm(t.value.key, f);
      exprsInTerm(t.value.value, f);
      forEachExprDeep(t.value.body, f);
      return;
    case 'templatestring':
      for (const p of t.value.parts) {
        if ('terms' in p) forEachExprDeep([p], f);
        else exprsInTerm(p, f);
      }
      return;
    case 'ref': case 'array': case 'set': case 'call': {
      const xs = t.value;
      for (let i = 0; i < xs.length; i++) exprsInTerm(xs[i], f);
      return;
    }
    case 'object': {
      const kvs = t.value;
      for (let i = 0; i < kvs.length; i++) {
        exprsInTerm(kvs[i][0], f);
        exprsInTerm(kvs[i][1], f);
      }
      return;
    }
    default:
  }
}

/** Calls `f` on every expression of `b` and of the bodies nested in it (comprehensions, every, not, and/or). */
export function forEachExprDeep(b: Body, f: (e: Expr) => void): void {
  for (let i = 0; i < b.length; i++) {
    const e = b[i];
    f(e);
    const terms = e.terms;
    if (Array.isArray(terms)) {
      for (let j = 0; j < terms.length; j++) exprsInTerm(terms[j], f);
    } else if (isTerm(terms)) exprsInTerm(terms, f);
    else {
      if (terms.type === 'some') {
        for (let j = 0; j < terms.symbols.length; j++) exprsInTerm(terms.symbols[j], f);
      } else if (terms.type === 'every') {
        if (terms.key) exprsInTerm(terms.key, f);
        exprsInTerm(terms.value, f);
        exprsInTerm(terms.domain, f);
      }
      if (terms.type === 'every' || terms.type === 'not') forEachExprDeep(terms.body, f);
      else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
        forEachExprDeep(terms.lhs, f);
        forEachExprDeep(terms.rhs, f);
      }
    }
    if (e.with) {
      for (let j = 0; j < e.with.length; j++) {
        exprsInTerm(e.with[j].target, f);
        exprsInTerm(e.with[j].value, f);
      }
    }
  }
}

/** The dotted name a call's operator spells (`count`, `data.lib.f`), or undefined when it holds a variable part. */
export function callName(op: Term): string | undefined {
  if (op.type !== 'ref') return undefined;
  let name = '';
  for (let i = 0; i < op.value.length; i++) {
    const t = op.value[i];
    if ((i === 0 && t.type === 'var') || t.type === 'string') name += i === 0 ? t.value : `.${t.value}`;
    else return undefined;
  }
  return name;
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

/**
 * Calls `f` on the operator of every function call in a rule (head, body, else branches, nested bodies),
 * in source order, with the location OPA reports for it: the call term's own, or the expression's for a call
 * written as an expression (`f(x)`, `x = y`), the number of its operands, and whether it is nested in a term
 * (`nested`) rather than written as an expression.
 */
export function forEachCallInRule(rule: Rule, f: (op: Term, loc: Location, operands: number, nested: boolean) => void): void {
  // Bodies nested in terms are reached by forEachExprDeep/exprsInTerm; this covers the terms themselves.
  const inTerm = (t: Term): void => {
    if (t.type === 'call') f(t.value[0], t.loc, t.value.length - 1, true);
    if (t.type === 'arraycomprehension' || t.type === 'setcomprehension') inTerm(t.value.term);
    else if (t.type === 'objectcomprehension') {
      inTerm(t.value.key);
      inTerm(t.value.value);
    }
    const children = childTerms(t);
    for (let i = t.type === 'call' ? 1 : 0; i < children.length; i++) inTerm(children[i]);
  };
  const inExpr = (e: Expr): void => {
    const call = Array.isArray(e.terms);
    if (call) f((e.terms as Term[])[0], e.loc, (e.terms as Term[]).length - 1, false);
    const terms = exprTerms(e);
    for (let i = call ? 1 : 0; i < terms.length; i++) inTerm(terms[i]);
    if (e.with) for (let i = 0; i < e.with.length; i++) inTerm(e.with[i].value);
  };
  for (let r: Rule | undefined = rule; r; r = r.else) {
    for (const t of [r.head.key, r.head.value, ...(r.head.args ?? [])]) {
      if (!t) continue;
      inTerm(t);
      exprsInTerm(t, inExpr);
    }
    forEachExprDeep(r.body, inExpr);
  }
}

/** Calls `f` on every rule of the modules and on each of its else branches, in order. */
export function forEachRule(modules: readonly Module[], f: (r: Rule) => void): void {
  for (const m of modules) for (const rule of m.rules) for (let r: Rule | undefined = rule; r; r = r.else) f(r);
}
