// The check of OPA's RewriteTemplateStrings stage (v1/ast/compile.go): a part of a template string that is not a
// plain var (`$"{count(y)}"`, `$"{input.x[k]}"`) becomes a comprehension of its values, whose vars must be bound
// somewhere in the enclosing body (whatever the order) or be arguments of the rule, else each is reported as
// `var y is undeclared`: at the part for a term, and, as OPA does, with no location for a call. A var part is read
// as a var, and left to the safety check (check-safety.ts).
import type { Body, Expr, Location, Rule, TemplateString, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { childTerms, forEachRule } from '../walk.js';
import { arities, outputVars, termVars } from './check-safety.js';
import type { CompileContext, Stage } from './context.js';

type Vars = Set<string>;
/** The vars bound at a place, worked out only once a template string there asks (most rules have none). */
type Scope = () => Vars;

function lazily(f: () => Vars): Scope {
  let vars: Vars | undefined;
  return () => (vars ??= f());
}

/** OPA reports the vars of a call part with no location: the call term it builds has none. */
const NOWHERE: Location = { file: '', row: 0, col: 0, offset: 0, end: 0 };

class TemplateCheck {
  /**
   * Template strings checked without error. OPA rewrites those only, and its walk goes on into a comprehension or
   * `every` once it has checked them with what they bind: a template string with an error there is checked again
   * with what is bound outside, and reported again.
   */
  private readonly done = new Set<Term>();

  constructor(private readonly ctx: CompileContext, private readonly arity: (op: string) => number | undefined) {}

  rule(r: Rule): void {
    const globals = lazily(() => {
      const vars: Vars = new Set(['input', 'data']);
      for (const a of r.head.args ?? []) termVars(a, vars);
      return vars;
    });
    const safe = this.body(r.body, globals);
    for (const t of [...(r.head.args ?? []), ...r.head.ref.slice(1), r.head.key, r.head.value]) if (t) this.term(t, safe);
  }

  /** What a body binds read once in order (OPA's outputVarsForBody), with `globals`. */
  private bound(body: Body, globals: Vars): Vars {
    const safe = new Set(globals);
    for (const e of body) for (const v of outputVars(e, safe, this.arity)) safe.add(v);
    return safe;
  }

  /** Checks the template strings in a body, with what it binds; returns that. */
  private body(body: Body, globals: Scope): Scope {
    const safe = lazily(() => this.bound(body, globals()));
    for (const e of body) this.expr(e, safe);
    return safe;
  }

  private expr(e: Expr, safe: Scope): void {
    for (const w of e.with ?? []) this.term(w.value, safe);
    const t = e.terms;
    if (Array.isArray(t)) for (const x of t) this.term(x, safe);
    else if (isTerm(t)) this.term(t, safe);
    else if (t.type === 'every') {
      if (t.domain.type === 'templatestring') this.template(t.domain, safe);
      const inner = lazily(() => {
        const vars = new Set(safe());
        for (const x of [t.key, t.value]) if (x) termVars(x, vars);
        return vars;
      });
      this.body(t.body, inner);
      this.term(t.domain, safe);
      for (const x of t.body) this.expr(x, safe);
    } else if (t.type === 'not') for (const x of t.body) this.expr(x, safe);
    else if (t.type === 'logicaland' || t.type === 'logicalor') for (const x of [...t.lhs, ...t.rhs]) this.expr(x, safe);
  }

  private term(t: Term, safe: Scope): void {
    switch (t.type) {
      case 'templatestring': this.template(t, safe); return;
      case 'arraycomprehension': case 'setcomprehension': case 'objectcomprehension': {
        const heads = t.type === 'objectcomprehension' ? [t.value.key, t.value.value] : [t.value.term];
        const inner = this.body(t.value.body, safe);
        for (const h of heads) if (h.type === 'templatestring') this.template(h, inner);
        for (const h of heads) this.term(h, safe);
        for (const x of t.value.body) this.expr(x, safe);
        return;
      }
      default: for (const c of childTerms(t)) this.term(c, safe);
    }
  }

  private template(t: TemplateString, safe: Scope): void {
    if (this.done.has(t)) return;
    let failed = false;
    for (const part of t.value.parts) {
      if (!('terms' in part)) continue;
      const terms = part.terms;
      let value: Term;
      let at: Location;
      if (Array.isArray(terms)) {
        value = { type: 'call', value: terms, loc: part.loc };
        at = NOWHERE;
      } else if (isTerm(terms)) {
        if (terms.type === 'var') continue;
        value = terms;
        at = terms.loc;
      } else continue;
      const unsafe = [...termVars(value)].filter((v) => !safe().has(v)).sort();
      for (const v of unsafe) this.ctx.error('rego_compile_error', at, `var ${this.ctx.rewritten.get(v) ?? v} is undeclared`);
      failed ||= unsafe.length > 0;
    }
    if (!failed) this.done.add(t);
  }
}

export const checkTemplateStrings: Stage = {
  name: 'RewriteTemplateStrings',
  run(ctx) {
    const check = new TemplateCheck(ctx, arities(ctx));
    forEachRule(ctx.modules, (r) => check.rule(r));
  },
};
