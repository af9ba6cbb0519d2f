// RewriteRuleHeadRefs: a head ref segment that is neither a scalar nor a var is bound to a fresh local in the
// body, so rule heads hold only scalars and vars (`p.q[y.z] := 1 if ...` → `p.q[__local0__] := 1 if { ...;
// __local0__ = y.z }`), which is what the rule tree and the planner index by.
import type { Expr, Rule, Term } from '../ast.js';
import { forEachRule } from '../walk.js';
import type { CompileContext, Stage } from './context.js';

const SCALARS = new Set(['null', 'boolean', 'number', 'string', 'var']);

/** `__localN__ = term`, at the term's location, and the local that now stands for the term. */
export function localEquality(ctx: CompileContext, term: Term, index: number): { local: Term; expr: Expr } {
  const local = ctx.local(term.loc);
  const eq: Term = { type: 'ref', value: [{ type: 'var', value: 'eq', loc: term.loc }], loc: term.loc };
  return { local, expr: { index, terms: [eq, local, term], loc: term.loc, generated: true } };
}

/** Binds `term` to a fresh local by `local = term` at the end of the rule's body; returns the local. */
export function bindInBody(ctx: CompileContext, rule: Rule, term: Term): Term {
  const { local, expr } = localEquality(ctx, term, rule.body.length);
  rule.body.push(expr);
  return local;
}

function rewrite(ctx: CompileContext, rule: Rule): void {
  const ref = rule.head.ref;
  for (let i = 1; i < ref.length; i++) {
    const seg = ref[i];
    if (SCALARS.has(seg.type)) continue;
    const local = bindInBody(ctx, rule, seg);
    if (i === ref.length - 1 && rule.head.key === seg) rule.head.key = local;
    ref[i] = local;
  }
}

export const rewriteRuleHeadRefs: Stage = {
  name: 'RewriteRuleHeadRefs',
  run(ctx) {
    forEachRule(ctx.modules, (r) => rewrite(ctx, r));
  },
};
