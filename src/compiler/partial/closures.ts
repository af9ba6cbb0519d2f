// Closures kept residual whole, as OPA keeps them: a comprehension whose body depends on unknowns, and an
// `every` over an unknown collection. Their bodies are not evaluated; the variables bound outside are filled
// in (or, for a comprehension, their known bindings appended to its body), and the closure's own variables are
// named after the rule body they are in, as the same rule may be inlined more than once into one query.
import type { Body, Expr, Term } from '../ast.js';
import { exprOperator } from '../walk.js';

type Env = ReadonlyMap<string, Term>;

/**
 * `node` (a term, an expression, a body) with bound variables filled in everywhere, nested bodies included.
 * A reference whose head variable is bound to a reference continues it (`x.a` with x = input.y is input.y.a).
 */
export function plugDeep<T>(node: T, env: Env): T {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((x: unknown) => plugDeep(x, env)) as T;
  const n = node as unknown as Term;
  if (n.type === 'var') {
    const bound = env.get(n.value);
    return (bound && !(bound.type === 'var' && bound.value === n.value) ? plugDeep(bound, env) : n) as T;
  }
  if (n.type === 'ref') {
    const [head, ...rest] = n.value.map((x) => plugDeep(x, env));
    return { ...n, value: head!.type === 'ref' ? [...head!.value, ...rest] : [head!, ...rest] } as T;
  }
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node as object)) out[key] = key === 'loc' ? child : plugDeep(child, env);
  return out as T;
}

/**
 * The variables a closure uses, in order of appearance: everything but the operators of calls and the roots
 * `input` and `data`. Which of them are the closure's own is up to the caller (those not bound outside).
 */
export function closureVars(node: unknown): string[] {
  const seen = new Set<string>();
  const visit = (x: unknown, operator: boolean): void => {
    if (x === null || typeof x !== 'object') return;
    if (Array.isArray(x)) return x.forEach((y, i) => visit(y, operator && i === 0));
    const n = x as Term & { terms?: unknown };
    if (n.type === 'var') {
      if (!operator && n.value !== 'input' && n.value !== 'data') seen.add(n.value);
      return;
    }
    if (n.type === 'call') return n.value.forEach((y, i) => visit(y, i === 0));
    if (n.type === 'ref') {
      if (operator) return;
      return n.value.forEach((y) => visit(y, false));
    }
    for (const [key, child] of Object.entries(x)) {
      // An expression's operator comes first in its list of terms.
      if (key !== 'loc') visit(child, key === 'terms' && Array.isArray(child));
    }
  };
  visit(node, false);
  return [...seen];
}

/**
 * A body as OPA's compiler leaves it for a kept `every`: an equation with a call (`y = concat(",", [x])`)
 * becomes the call with an output variable and the equation with that variable
 * (`concat(",", [x], t); y = t`). `fresh` names the variable.
 */
export function callOutputsApart(body: Body, fresh: () => string): Body {
  return body.flatMap((e): Expr[] => {
    const name = exprOperator(e);
    if (e.negated || e.with?.length || !Array.isArray(e.terms) || (name !== 'eq' && name !== 'assign')) return [e];
    const [eq, a, b] = e.terms as Term[];
    const at = [a!, b!].findIndex((t) => t.type === 'call');
    if (at < 0 || (a!.type === 'call' && b!.type === 'call')) return [e];
    const call = [a!, b!][at] as Extract<Term, { type: 'call' }>;
    const out: Term = { type: 'var', value: fresh(), loc: call.loc };
    return [{ ...e, terms: [...call.value, out] }, { ...e, terms: [eq!, [a!, b!][1 - at]!, out] }];
  });
}
