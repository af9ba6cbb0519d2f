// A body as OPA's RewriteExprTerms stage (v1/ast/compile.go expandExpr) leaves it for the safety check: every call
// nested in an expression's terms is an expression of its own, `f(args..., out)`, placed before the expression
// and located at the call, and a ref whose subject is a composite or a comprehension (`[x, 3][i]`) reads it
// through an equality `out = [x, 3]` located at the subject, as an `every` reads its domain. Each such
// expression is ordered on its own (what it reads must be bound before it, it binds its output), and an unsafe
// var in it is reported at its location, as OPA reports it. The body handed to later stages keeps its expressions whole: only their order comes from here.
import type { Body, Expr, Location, Term } from '../ast.js';
import { isTerm } from '../ast.js';

export interface ExpandedBody {
  /** The body's expressions, each preceded by those its nested calls and ref subjects became. */
  units: Expr[];
  /** Of each unit that stands for a whole expression of the body, that expression. */
  source: Map<Expr, Expr>;
}

/** The name of the n-th output made up while expanding: generated, so never reported as such. */
export const unitOutput = (n: number): string => `$t${n}`;

function equality(a: Term, b: Term, loc: Location): Term[] {
  return [{ type: 'ref', value: [{ type: 'var', value: 'eq', loc }], loc }, a, b];
}

class Expander {
  private extras: Expr[] = [];

  constructor(private readonly fresh: () => string) {}

  private output(loc: Location): Term {
    return { type: 'var', value: this.fresh(), loc };
  }

  private push(terms: Term[], loc: Location, index: number): void {
    this.extras.push({ index, terms, loc, generated: true });
  }

  /** `t` with its nested calls (and composite ref subjects) replaced by their outputs; the same term if none. */
  term(t: Term, index: number): Term {
    switch (t.type) {
      case 'call': {
        const args = this.terms(t.value, 1, index);
        const out = this.output(t.loc);
        this.push([...args, out], t.loc, index);
        return out;
      }
      case 'ref': {
        const value = this.terms(t.value, 0, index);
        const subject = t.value[0]!;
        if (subject.type === 'array' || subject.type === 'object' || subject.type === 'set' || subject.type === 'arraycomprehension' || subject.type === 'setcomprehension' || subject.type === 'objectcomprehension') {
          const out = this.output(subject.loc);
          this.push(equality(out, value[0]!, subject.loc), subject.loc, index);
          return { ...t, value: [out, ...value.slice(1)] };
        }
        return value === t.value ? t : { ...t, value };
      }
      case 'array': case 'set': {
        const value = this.terms(t.value, 0, index);
        return value === t.value ? t : { ...t, value };
      }
      case 'object': {
        let changed = false;
        const value = t.value.map(([k, v]): [Term, Term] => {
          const k2 = this.term(k, index);
          const v2 = this.term(v, index);
          changed ||= k2 !== k || v2 !== v;
          return [k2, v2];
        });
        return changed ? { ...t, value } : t;
      }
      // A template string is a call of internal.template_string (OPA's RewriteTemplateStrings) of its parts,
      // closures but for the vars.
      case 'templatestring': {
        const out = this.output(t.loc);
        this.push([{ type: 'ref', value: [{ type: 'var', value: 'internal', loc: t.loc }, { type: 'string', value: 'template_string', loc: t.loc }], loc: t.loc }, t, out], t.loc, index);
        return out;
      }
      default: return t; // scalars and vars; comprehensions are closures, expanded when checked
    }
  }

  /** The terms from `from` on expanded, the ones before kept; the same array if nothing changed. */
  private terms(ts: Term[], from: number, index: number): Term[] {
    let out: Term[] | undefined;
    for (let i = from; i < ts.length; i++) {
      const t = this.term(ts[i]!, index);
      if (t !== ts[i]) (out ??= ts.slice())[i] = t;
    }
    return out ?? ts;
  }

  expr(e: Expr, units: Expr[], source: Map<Expr, Expr>): void {
    this.extras = [];
    // `with` values first; the expressions of the terms run under the expression's `with`s.
    const withs = e.with?.map((w) => {
      const value = this.term(w.value, e.index);
      return value === w.value ? w : { ...w, value };
    });
    units.push(...this.extras);
    this.extras = [];
    const t = e.terms;
    let terms = t;
    if (Array.isArray(t)) terms = this.terms(t, 1, e.index);
    else if (isTerm(t)) terms = this.term(t, e.index);
    else if (t.type === 'every') {
      // The domain is bound to a local of its own first, located at the domain.
      const domain = this.term(t.domain, e.index);
      const local = this.output(t.domain.loc);
      this.push(equality(local, domain, t.domain.loc), t.domain.loc, e.index);
      terms = { ...t, domain: local };
    }
    if (withs) for (const x of this.extras) x.with = withs;
    units.push(...this.extras);
    const changed = terms !== t || withs?.some((w, i) => w !== e.with![i]);
    const main = changed ? { ...e, terms, ...(withs ? { with: withs } : {}) } : e;
    units.push(main);
    source.set(main, e);
  }
}

/** Expands `body` (see the top of this file); `fresh` names the outputs. */
export function expandBody(body: Body, fresh: () => string): ExpandedBody {
  const units: Expr[] = [];
  const source = new Map<Expr, Expr>();
  const expander = new Expander(fresh);
  for (const e of body) expander.expr(e, units, source);
  return { units, source };
}
