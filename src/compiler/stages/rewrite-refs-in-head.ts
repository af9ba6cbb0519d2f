// RewriteRefsInHead: a rule's value or key that looks something up by a variable (`q := input.a[y]`,
// `q := [{"a": 1}[x]]`, `s contains xs[i]`, `else := m[k]`) is evaluated in the body, `__localN__ = term`, and the
// head holds the local. The lookup's variables are then outputs of a body expression, bound by iterating like any
// `xs[i]` in a body, instead of head variables the body never binds. A function argument holding a ref
// (`f(input.a[y])`) is likewise matched in the body, with `__localN__` as the argument. OPA moves every head term
// holding a ref or a comprehension; moving only those whose refs have variable keys (and arguments holding refs)
// gives the same documents and keeps other heads (most rules) as written for the planner.
import type { Term } from '../ast.js';
import { childTerms, forEachRule } from '../walk.js';
import type { Stage } from './context.js';
import { bindInBody } from './rewrite-rule-head-refs.js';

/** Whether a ref in `t` (outside closures, which bind their own vars) has a key holding a variable. */
export function looksUpByVar(t: Term): boolean {
  switch (t.type) {
    case 'ref':
      if (t.value.slice(1).some((seg) => hasVar(seg))) return true;
      return t.value.some(looksUpByVar);
    default:
      return childTerms(t).some(looksUpByVar);
  }
}

/** Whether `t` holds a ref outside closures. */
function holdsRef(t: Term): boolean {
  return t.type === 'ref' || childTerms(t).some(holdsRef);
}

/** Whether `t` holds a variable outside closures (childTerms does not enter them). */
function hasVar(t: Term): boolean {
  return t.type === 'var' || childTerms(t).some(hasVar);
}

export const rewriteRefsInHead: Stage = {
  name: 'RewriteRefsInHead',
  run(ctx) {
    forEachRule(ctx.modules, (r) => {
      const head = r.head;
      const keyIsRefSegment = head.key !== undefined && head.ref[head.ref.length - 1] === head.key;
      if (head.key && !keyIsRefSegment && looksUpByVar(head.key)) head.key = bindInBody(ctx, r, head.key);
      if (head.value && looksUpByVar(head.value)) head.value = bindInBody(ctx, r, head.value);
      if (head.args) head.args = head.args.map((a) => (holdsRef(a) ? bindInBody(ctx, r, a) : a));
    });
  },
};
