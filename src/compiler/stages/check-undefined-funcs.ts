// CheckUndefinedFuncs: every call names a function defined by the policy or a builtin (OPA: v1/ast/compile.go
// checkUndefinedFuncs). Calls through a ref with variables (`data.x[y](1)`, dynamic dispatch) are left to
// evaluation. Skipped when the compiler was not told which builtins exist.
import type { Expr, Rule, Term } from '../ast.js';
import { childTerms, exprTerms, forEachExprDeep } from '../walk.js';
import { functionArities } from './check-safety.js';
import type { CompileContext, Stage } from './context.js';

function callName(op: Term): string | undefined {
  if (op.type !== 'ref') return undefined;
  const parts: string[] = [];
  for (const [i, t] of op.value.entries()) {
    if (i === 0 && t.type === 'var') parts.push(t.value);
    else if (t.type === 'string') parts.push(t.value);
    else return undefined;
  }
  return parts.join('.');
}

export const checkUndefinedFuncs: Stage = {
  name: 'CheckUndefinedFuncs',
  run(ctx: CompileContext) {
    const builtin = ctx.options.builtin;
    if (!builtin) return;
    const functions = functionArities(ctx.modules);
    const check = (op: Term, loc: Expr['loc']) => {
      const name = callName(op);
      if (name === undefined || functions.has(name) || (!name.startsWith('data.') && builtin(name))) return;
      ctx.error('rego_type_error', loc, `undefined function ${name}`);
    };
    const inTerm = (t: Term, loc: Expr['loc']): void => {
      if (t.type === 'call') check(t.value[0], loc);
      for (const c of childTerms(t)) inTerm(c, loc);
    };
    const inRule = (r: Rule) => {
      for (const t of [r.head.key, r.head.value, ...(r.head.args ?? [])]) if (t) inTerm(t, r.head.loc);
      forEachExprDeep(r.body, (e) => {
        if (Array.isArray(e.terms)) check(e.terms[0], e.loc);
        for (const t of exprTerms(e).slice(Array.isArray(e.terms) ? 1 : 0)) inTerm(t, e.loc);
        for (const w of e.with ?? []) inTerm(w.value, e.loc);
      });
    };
    for (const m of ctx.modules) for (const rule of m.rules) for (let r: Rule | undefined = rule; r; r = r.else) inRule(r);
  },
};
