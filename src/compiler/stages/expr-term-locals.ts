// The local variables OPA's RewriteExprTerms stage (v1/ast/compile.go) would give calls nested in terms. We do not
// rewrite them out, but OPA's type errors print a ref whose array, object or set holds a call with that call's
// local (`{"a": count([])}.a.b` is reported as `{"a": __local1__}.a.b`), so CheckTypes needs its name. OPA numbers
// them on from the locals the earlier stages made, module by module in file order, each rule (and its else
// branches) head first, each expression's `with` values before its terms: a call after its arguments, a ref's
// subject that is a composite or a comprehension (`[1][i]`) after the ref's terms, an object's entries in key order
// and a set's elements in order, an `every` domain after a local for it. Where that order is not
// known here (print calls, template strings, `or`), no name is given from there on, and the errors that would
// need one are left unreported.
import type { Body, Expr, Module, Rule, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { compareTerms } from '../partial/ast-json.js';
import { callName, forEachCallInRule } from '../walk.js';
import type { CompileContext } from './context.js';

/** Where the order of OPA's rewriting is not known: numbering stops. */
class Unknown extends Error {}

/** Each call term nested in another term (not one an expression makes on its own), with its OPA local name. */
export function exprTermLocals(ctx: CompileContext): Map<Term, string> {
  const names = new Map<Term, string>();
  const modules = ctx.policyModules;
  const inFileOrder = modules.every((m, i) => i === 0 || modules[i - 1]!.file < m.file);
  if (!inFileOrder || modules.some(hasPrintCall)) return names;
  const term = (t: Term): void => {
    switch (t.type) {
      case 'call':
        t.value.slice(1).forEach(term);
        names.set(t, (ctx.local(t.loc) as Term & { type: 'var' }).value);
        return;
      case 'ref': {
        t.value.forEach(term);
        const subject = t.value[0]!.type;
        if (subject !== 'var' && subject !== 'call' && subject !== 'ref') ctx.local(t.loc);
        return;
      }
      case 'array':
        t.value.forEach(term);
        return;
      case 'set':
        [...t.value].sort(compareTerms).forEach(term);
        return;
      case 'object':
        for (const [k, v] of [...t.value].sort(([a], [b]) => compareTerms(a, b))) {
          term(k);
          term(v);
        }
        return;
      case 'arraycomprehension': case 'setcomprehension':
        term(t.value.term);
        body(t.value.body);
        return;
      case 'objectcomprehension':
        term(t.value.key);
        term(t.value.value);
        body(t.value.body);
        return;
      case 'templatestring':
        throw new Unknown();
      default:
    }
  };
  const expr = (e: Expr): void => {
    for (const w of e.with ?? []) term(w.value);
    const terms = e.terms;
    if (Array.isArray(terms)) terms.slice(1).forEach(term);
    else if (isTerm(terms)) term(terms);
    else if (terms.type === 'not') body(terms.body);
    else if (terms.type === 'every') {
      // The domain is assigned to a local of its own, named first.
      ctx.local(terms.domain.loc);
      term(terms.domain);
      body(terms.body);
    } else throw new Unknown();
  };
  const body = (b: Body): void => b.forEach(expr);
  const rule = (r: Rule): void => {
    for (const t of [...(r.head.args ?? []), r.head.key, r.head.value]) if (t) term(t);
    body(r.body);
  };
  try {
    for (const m of modules) {
      for (const r of m.rules) for (let branch: Rule | undefined = r; branch; branch = branch.else) rule(branch);
    }
  } catch (e) {
    if (!(e instanceof Unknown)) throw e;
  }
  return names;
}

/** Whether a module calls print, which OPA's RewritePrintCalls rewrites with locals of its own. */
function hasPrintCall(m: Module): boolean {
  let found = false;
  for (const r of m.rules) forEachCallInRule(r, (op) => (found ||= callName(op) === 'print'));
  return found;
}
