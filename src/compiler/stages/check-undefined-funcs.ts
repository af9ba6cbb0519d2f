// CheckUndefinedFuncs: every call names a function defined by the policy or a builtin (OPA: v1/ast/compile.go
// checkUndefinedFuncs). Calls through a ref with variables (`data.x[y](1)`, dynamic dispatch) are left to
// evaluation. Skipped when the compiler was not told which builtins exist.
import type { Expr, Rule, Term } from '../ast.js';
import { childTerms, exprTerms, forEachExprDeep } from '../walk.js';
import { functionArities } from './check-safety.js';
import type { CompileContext, Stage } from './context.js';

function callName(op: Term): string | undefined {
  if (op.type !== 'ref') return undefined;
  let name = '';
  for (let i = 0; i < op.value.length; i++) {
    const t = op.value[i];
    if ((i === 0 && t.type === 'var') || t.type === 'string') name += i === 0 ? t.value : `.${t.value}`;
    else return undefined;
  }
  return name;
}

export const checkUndefinedFuncs: Stage = {
  name: 'CheckUndefinedFuncs',
  run(ctx: CompileContext) {
    const builtin = ctx.options.builtin;
    if (!builtin) return;
    const functions = functionArities(ctx.modules);
    // A policy calls the same few functions many times: look each name up once.
    const defined = new Map<string, boolean>();
    const check = (op: Term, loc: Expr['loc']) => {
      const name = callName(op);
      if (name === undefined) return;
      let ok = defined.get(name);
      if (ok === undefined) {
        ok = functions.has(name) || (!name.startsWith('data.') && !!builtin(name));
        defined.set(name, ok);
      }
      if (!ok) ctx.error('rego_type_error', loc, `undefined function ${name}`);
    };
    const inTerm = (t: Term, loc: Expr['loc']): void => {
      if (t.type === 'call') check(t.value[0], loc);
      const children = childTerms(t);
      for (let i = 0; i < children.length; i++) inTerm(children[i], loc);
    };
    const inExpr = (e: Expr): void => {
      const call = Array.isArray(e.terms);
      if (call) check((e.terms as Term[])[0], e.loc);
      const terms = exprTerms(e);
      for (let i = call ? 1 : 0; i < terms.length; i++) inTerm(terms[i], e.loc);
      if (e.with) for (let i = 0; i < e.with.length; i++) inTerm(e.with[i].value, e.loc);
    };
    const inRule = (r: Rule) => {
      for (const t of [r.head.key, r.head.value, ...(r.head.args ?? [])]) if (t) inTerm(t, r.head.loc);
      forEachExprDeep(r.body, inExpr);
    };
    for (const m of ctx.modules) for (const rule of m.rules) for (let r: Rule | undefined = rule; r; r = r.else) inRule(r);
  },
};
