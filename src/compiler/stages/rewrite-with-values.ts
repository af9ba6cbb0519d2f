// RewriteWithValues: a `with` value that looks something up by a variable (`p with input as input.a[y]`) is
// evaluated in the body just before its expression, `__localN__ = input.a[y]; p with input as __localN__`, so
// the lookup's variables are bound by iterating like any `xs[i]` in a body instead of being unsafe reads (OPA
// moves every value holding a ref or a comprehension; moving only lookups by variable keeps the other values as
// written for the planner, with the same results).
import type { Body, Expr, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { childTerms, forEachRule } from '../walk.js';
import type { CompileContext, Stage } from './context.js';
import { looksUpByVar } from './rewrite-refs-in-head.js';
import { localEquality } from './rewrite-rule-head-refs.js';

/** Rewrites the bodies nested in a term: comprehension bodies, recursively. */
function rewriteInTerm(ctx: CompileContext, t: Term): void {
  switch (t.type) {
    case 'arraycomprehension': case 'setcomprehension':
      t.value.body = rewriteBody(ctx, t.value.body);
      rewriteInTerm(ctx, t.value.term);
      return;
    case 'objectcomprehension':
      t.value.body = rewriteBody(ctx, t.value.body);
      rewriteInTerm(ctx, t.value.key);
      rewriteInTerm(ctx, t.value.value);
      return;
    default:
      for (const c of childTerms(t)) rewriteInTerm(ctx, c);
  }
}

function rewriteNested(ctx: CompileContext, e: Expr): void {
  const t = e.terms;
  if (Array.isArray(t)) t.forEach((x) => rewriteInTerm(ctx, x));
  else if (isTerm(t)) rewriteInTerm(ctx, t);
  else if (t.type === 'every' || t.type === 'not') {
    if (t.type === 'every') rewriteInTerm(ctx, t.domain);
    t.body = rewriteBody(ctx, t.body);
  } else if (t.type === 'logicaland' || t.type === 'logicalor') {
    t.lhs = rewriteBody(ctx, t.lhs);
    t.rhs = rewriteBody(ctx, t.rhs);
  }
  for (const w of e.with ?? []) rewriteInTerm(ctx, w.value);
}

function rewriteBody(ctx: CompileContext, body: Body): Body {
  const out: Body = [];
  for (const e of body) {
    rewriteNested(ctx, e);
    for (const w of e.with ?? []) {
      if (!looksUpByVar(w.value)) continue;
      const { local, expr } = localEquality(ctx, w.value, out.length);
      out.push(expr);
      w.value = local;
    }
    out.push(out.length === e.index ? e : { ...e, index: out.length });
  }
  return out;
}

export const rewriteWithValues: Stage = {
  name: 'RewriteWithValues',
  run(ctx) {
    forEachRule(ctx.modules, (r) => {
      r.body = rewriteBody(ctx, r.body);
      // Comprehensions in the head (`q := [v | v := p with input as xs[_]]`) have bodies of their own.
      for (const t of [r.head.key, r.head.value, ...(r.head.args ?? [])]) if (t) rewriteInTerm(ctx, t);
    });
  },
};
