// RewriteLocalVars: every variable a rule declares — function arguments, `x := ...`, `some x`, `some x in xs`,
// the key and value of `every` — gets a compiler-unique name (`__local3__`), and `:=` becomes `=` (unification),
// so later stages and the planner need no scoping rules. `some x in xs` is desugared here into
// `x = xs[__localN__]` (`some k, v in xs` into `v = xs[k]`); plain `some x` declarations disappear.
// Comprehensions, `every`, `not { }` and and/or operands open a nested scope, so they may shadow outer names.
// Errors follow OPA (v1/ast/compile.go rewriteLocalVars): "var x assigned above", "var x referenced above",
// "var x declared above", "arg x redeclared", "declared var x unused", "cannot assign to ...",
// "cannot assign vars inside negated expression", "called function f shadowed".
import type { Body, Expr, Location, RefTerm, Rule, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { exprOperator, forEachRule, forEachVar, forEachVarInBody, forEachVarOutsideClosures } from '../walk.js';
import type { CompileContext, Stage } from './context.js';

type Occurrence = 'seen' | 'assigned' | 'declared' | 'arg';

interface Scope {
  names: Map<string, { gen: string; occ: Occurrence; loc: Location }>;
}

class Rewriter {
  private scopes: Scope[] = [];
  failed = false;

  constructor(private readonly ctx: CompileContext) {}

  push(): void {
    this.scopes.push({ names: new Map() });
  }
  pop(): Scope {
    return this.scopes.pop()!;
  }
  private get current(): Scope {
    return this.scopes[this.scopes.length - 1];
  }

  private error(loc: Location, message: string): void {
    this.failed = true;
    this.ctx.error('rego_compile_error', loc, message);
  }

  /** The generated name of a declared variable, searching outwards. */
  private declared(name: string): string | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const entry = this.scopes[i].names.get(name);
      if (entry) return entry.occ === 'seen' ? undefined : entry.gen;
    }
    return undefined;
  }

  /**
   * Declares `v` in the current scope with a fresh name, or reports why it cannot be: at `errorAt`, the `some`
   * expression for `some x` (where OPA reports it), else the variable.
   */
  declare(v: Term & { type: 'var' }, occ: Exclude<Occurrence, 'seen'>, at: Location = v.loc, errorAt: Location = v.loc): Term {
    const prior = this.current.names.get(v.value);
    if (prior) {
      const why = { seen: 'referenced above', assigned: 'assigned above', declared: 'declared above', arg: 'redeclared' }[prior.occ];
      this.error(errorAt, prior.occ === 'arg' ? `arg ${v.value} ${why}` : `var ${v.value} ${why}`);
      return v;
    }
    const gen = this.ctx.local(v.loc, v.value);
    this.current.names.set(v.value, { gen: (gen as { value: string }).value, occ, loc: at });
    return gen;
  }

  // ---- terms ----
  term(t: Term): Term {
    switch (t.type) {
      case 'var': {
        const gen = this.declared(t.value);
        if (gen) return { ...t, value: gen };
        if (!this.current.names.has(t.value)) this.current.names.set(t.value, { gen: t.value, occ: 'seen', loc: t.loc });
        return t;
      }
      case 'ref': {
        const head = t.value[0];
        if (t.value.length === 1 && head.type === 'var' && (head.value === 'input' || head.value === 'data')) {
          const gen = this.declared(head.value);
          return gen ? { type: 'var', value: gen, loc: t.loc } : t;
        }
        return { ...t, value: t.value.map((x) => this.term(x)) };
      }
      case 'call': {
        const op = t.value[0];
        if (op.type === 'ref') {
          forEachVar(op, (v) => {
            if (this.declared(v.value)) this.error(t.loc, `called function ${refText(op)} shadowed`);
          });
        }
        return { ...t, value: [op, ...t.value.slice(1).map((x) => this.term(x))] };
      }
      case 'array': case 'set': return { ...t, value: t.value.map((x) => this.term(x)) } as Term;
      case 'object': return { ...t, value: t.value.map(([k, v]) => [this.term(k), this.term(v)] as [Term, Term]) };
      case 'arraycomprehension': case 'setcomprehension': {
        this.push();
        const body = this.body(t.value.body);
        const term = this.term(t.value.term);
        this.popChecked([term], body, t.value.body);
        return { ...t, value: { term, body } } as Term;
      }
      case 'objectcomprehension': {
        this.push();
        const body = this.body(t.value.body);
        const value = { key: this.term(t.value.key), value: this.term(t.value.value), body };
        this.popChecked([value.key, value.value], body, t.value.body);
        return { ...t, value };
      }
      case 'templatestring':
        return { ...t, value: { ...t.value, parts: t.value.parts.map((p) => ('terms' in p ? this.plainExpr(p) : this.term(p))) } };
      default: return t;
    }
  }

  // ---- expressions ----
  /** Rewrites a body in the current scope (popChecked then checks what it declares). */
  body(b: Body): Body {
    const out: Expr[] = [];
    for (const e of b) {
      const r = this.expr(e);
      if (r === e) out.push({ ...r, index: out.length });
      else if (r) {
        // A rewritten expression is already a fresh copy: renumber it in place.
        r.index = out.length;
        out.push(r);
      }
    }
    if (out.length === 0) out.push({ index: 0, terms: { type: 'boolean', value: true, loc: b[0]?.loc ?? dummyLoc }, loc: b[0]?.loc ?? dummyLoc });
    return out;
  }

  /**
   * Closes the scope of `body` (rewritten from `original`) and checks what it binds, as OPA does, unless an error
   * was found in the rule body so far (nested bodies included): in strict mode, its `:=` variables that nothing
   * reads (their one occurrence is the assignment) in the body and the terms it yields; then, if that found
   * none, its `some` declarations never used.
   */
  private popChecked(yields: Term[], body: Body, original: Body, declaredAt?: Location): void {
    const scope = this.pop();
    if (this.failed) return;
    if (this.ctx.options.strict) this.checkUnusedAssigned(scope, yields, body);
    if (!this.failed) this.checkUnusedDeclared(scope, original, body, declaredAt);
  }

  /** Not in an ad-hoc query: OPA's strict mode reports unused assignments in policy modules only. */
  private checkUnusedAssigned(scope: Scope, yields: Term[], body: Body): void {
    const assigned = [...scope.names].filter(([name, entry]) => entry.occ === 'assigned' && !name.startsWith('$') && !this.ctx.inQuery(entry.loc));
    if (assigned.length === 0) return;
    const uses = new Map<string, number>();
    const count = (v: { value: string }) => uses.set(v.value, (uses.get(v.value) ?? 0) + 1);
    forEachVarInBody(body, count);
    for (const t of yields) forEachVar(t, count);
    for (const [name, entry] of assigned) {
      if ((uses.get(entry.gen) ?? 0) > 1) continue;
      this.failed = true;
      this.ctx.errorContinuing(entry.loc, `assigned var ${name} unused`);
    }
  }

  /** `declaredAt`: where a variable declared other than by `some` is reported (else where it is written). */
  private checkUnusedDeclared(scope: Scope, original: Body, rewritten: Body, declaredAt?: Location): void {
    let declared = false;
    for (const entry of scope.names.values()) declared ||= entry.occ === 'declared';
    if (!declared) return; // nothing to look for: skip the walk over the body
    const used = new Set<string>();
    forEachVarInBody(rewritten, (v) => used.add(v.value));
    for (const [name, entry] of scope.names) {
      if (entry.occ !== 'declared' || used.has(entry.gen)) continue;
      const at = original.find((e) => !isTerm(e.terms) && !Array.isArray(e.terms) && e.terms.type === 'some'
        && e.terms.symbols.some((s) => s.type === 'var' && s.value === name));
      // OPA goes on to the later stages after this one (their errors are reported beside it).
      this.failed = true;
      this.ctx.errorContinuing(at?.loc ?? declaredAt ?? entry.loc, `declared var ${name} unused`);
    }
  }

  private expr(e: Expr): Expr | null {
    const t = e.terms;
    if (exprOperator(e) === 'assign' && Array.isArray(t) && t.length === 3) return this.assignment(e, t);
    if (!Array.isArray(t) && !isTerm(t)) {
      switch (t.type) {
        case 'some': return this.some(e, t.symbols);
        case 'every': {
          const domain = this.term(t.domain);
          this.push();
          const key = t.key && t.key.type === 'var' && !t.key.value.startsWith('$') ? this.declare(t.key, 'declared') : t.key ?? this.ctx.local(t.loc);
          const value = t.value.type === 'var' && !t.value.value.startsWith('$') ? this.declare(t.value, 'declared') : t.value;
          const body = this.body(t.body);
          // OPA reports an unused key or value at the body, where its rewriting declares them.
          this.popChecked([], body, t.body, t.body[0]?.loc);
          return this.withs(e, { ...e, terms: { ...t, key, value, domain, body } });
        }
        case 'not': {
          this.push();
          const body = this.body(t.body);
          this.popChecked([], body, t.body);
          return this.withs(e, { ...e, terms: { ...t, body } });
        }
        default: {
          this.push();
          const lhs = this.body(t.lhs);
          this.popChecked([], lhs, t.lhs);
          this.push();
          const rhs = this.body(t.rhs);
          this.popChecked([], rhs, t.rhs);
          return this.withs(e, { ...e, terms: { ...t, lhs, rhs } });
        }
      }
    }
    return this.plainExpr(e);
  }

  private plainExpr(e: Expr): Expr {
    const t = e.terms;
    const out: Expr = { ...e, terms: Array.isArray(t) ? [t[0], ...t.slice(1).map((x) => this.term(x))] : this.term(t as Term) };
    if (Array.isArray(t) && t[0].type === 'ref') (out.terms as Term[])[0] = this.term(t[0]);
    return this.withs(e, out);
  }

  private withs(e: Expr, out: Expr): Expr {
    if (e.with) out.with = e.with.map((w) => ({ ...w, value: this.term(w.value) }));
    return out;
  }

  private assignment(e: Expr, t: Term[]): Expr {
    if (e.negated) {
      this.error(e.loc, 'cannot assign vars inside negated expression');
      return e;
    }
    const rhs = this.term(t[2]);
    const withs = e.with?.map((w) => ({ ...w, value: this.term(w.value) }));
    const lhs = this.assignTarget(t[1]);
    const eq: RefTerm = { type: 'ref', value: [{ type: 'var', value: 'eq', loc: t[0].loc }], loc: t[0].loc };
    const out: Expr = { ...e, terms: [eq, lhs, rhs], assignment: true };
    if (withs) out.with = withs;
    return out;
  }

  /** Declares the variables of an assignment's target; each is located at the whole target, as OPA reports them. */
  private assignTarget(t: Term, at: Location = t.loc): Term {
    switch (t.type) {
      case 'var': return this.declare(t, 'assigned', at);
      case 'array': return { ...t, value: t.value.map((x) => this.assignTarget(x, at)) };
      case 'object': return { ...t, value: t.value.map(([k, v]) => [k, this.assignTarget(v, at)] as [Term, Term]) };
      case 'ref':
        if (t.value.length === 1 && t.value[0].type === 'var' && (t.value[0].value === 'input' || t.value[0].value === 'data')) {
          return this.declare(t.value[0], 'assigned', at);
        }
        break;
    }
    this.error(t.loc, `cannot assign to ${t.type}`);
    return t;
  }

  /** `some x, y` declares; `some x in xs` / `some k, v in xs` declares and becomes `x = xs[k]`. */
  private some(e: Expr, symbols: Term[]): Expr | null {
    const first = symbols[0];
    if (first?.type !== 'call') {
      for (const s of symbols) if (s.type === 'var') this.declare(s, 'declared', s.loc, e.loc);
      return null;
    }
    const args = first.value.slice(1);
    const [key, value, container] = args.length === 3 ? args : [null, args[0], args[1]];
    const bound = new Set<string>();
    for (const pattern of [key, value]) if (pattern) forEachVar(pattern, (v) => { if (!v.value.startsWith('$')) bound.add(v.value); });
    const inDomain = new Set<string>();
    // A closure in the domain has vars of its own: one named like a bound var is reported unsafe, not here.
    forEachVarOutsideClosures(container, (v) => inDomain.add(v.value));
    for (const v of [...bound].sort()) {
      if (inDomain.has(v)) {
        this.error(e.loc, `var ${v} assigned before`);
        return null;
      }
    }
    // As OPA does: the key of `some x in xs` is generated first, then every variable the declaration binds
    // (that key and wildcards included) is declared in the order of the names, so the locals are numbered as
    // OPA numbers them (residual queries name them).
    const keyTerm = key ?? this.ctx.local(e.loc);
    const patternVars = new Map<string, Term & { type: 'var' }>();
    const collect = (p: Term): void => {
      if (p.type === 'var') patternVars.set(p.value, p);
      else if (p.type === 'array') p.value.forEach(collect);
      else if (p.type === 'object') p.value.forEach(([, v]) => collect(v));
    };
    collect(keyTerm);
    collect(value);
    for (const name of [...patternVars.keys()].sort()) this.declare(patternVars.get(name)!, 'declared', patternVars.get(name)!.loc, e.loc);
    // The domain is rewritten after the declaration, as OPA does: a closure in it reads the declared vars.
    const dom = this.term(container);
    const k = this.term(keyTerm);
    const v = this.term(value);
    const element: Term = dom.type === 'ref' ? { ...dom, value: [...dom.value, k] } : { type: 'ref', value: [dom, k], loc: dom.loc };
    const eq: RefTerm = { type: 'ref', value: [{ type: 'var', value: 'eq', loc: e.loc }], loc: e.loc };
    return this.withs(e, { ...e, terms: [eq, v, element] });
  }

  // ---- rules ----
  rule(rule: Rule): void {
    this.push();
    if (rule.head.args) {
      const declareArg = (a: Term): Term => {
        switch (a.type) {
          // A wildcard argument gets a local of its own too, numbered in turn, as OPA's compiler numbers it.
          case 'var': return this.declare(a, 'arg');
          case 'array': return { ...a, value: a.value.map(declareArg) };
          case 'set': return { ...a, value: a.value.map((x) => (x.type === 'call' ? x : declareArg(x))) };
          case 'object': return { ...a, value: a.value.map(([k, v]) => [k, declareArg(v)] as [Term, Term]) };
          // An argument is a pattern matched against a value: a call in it (in a ref too) is refused, as in OPA.
          case 'call':
            this.error(a.loc, CALL_IN_ARGS);
            return a;
          case 'ref': {
            const calls: Term[] = [];
            callsInPattern(a, calls);
            for (const c of calls) this.error(c.loc, CALL_IN_ARGS);
            if (calls.length > 0) return a;
            // Every var of an argument is the function's own, a ref's head (`input`) included: RewriteRefsInHead
            // then evaluates the ref in the body, where a head no argument binds is unsafe.
            forEachVar(a, (v) => {
              if (!v.value.startsWith('$') && !this.current.names.has(v.value)) this.declare(v, 'arg');
            });
            return this.term(a);
          }
          default: return a;
        }
      };
      rule.head.args = rule.head.args.map(declareArg);
    }
    const original = rule.body;
    rule.body = this.body(rule.body);
    // The head's terms (their comprehensions) are checked apart from the body: an error in one does not keep
    // OPA from checking the other.
    const bodyFailed = this.failed;
    this.failed = false;
    // Template strings among the arguments read variables the body binds (`f($"{x}") := 1 if x := "a"`).
    const templates = (a: Term): Term => {
      switch (a.type) {
        case 'templatestring': return this.term(a);
        case 'array': case 'set': return { ...a, value: a.value.map(templates) } as Term;
        case 'object': return { ...a, value: a.value.map(([k, v]) => [k, templates(v)] as [Term, Term]) };
        default: return a;
      }
    };
    if (rule.head.args) rule.head.args = rule.head.args.map(templates);
    rule.head.ref = rule.head.ref.map((t, i) => (i === 0 ? t : this.term(t)));
    if (rule.head.key) rule.head.key = this.term(rule.head.key);
    if (rule.head.value) rule.head.value = this.term(rule.head.value);
    const head = [...rule.head.ref.slice(1), ...(rule.head.args ?? []), ...(rule.head.key ? [rule.head.key] : []), ...(rule.head.value ? [rule.head.value] : [])];
    const headFailed = this.failed;
    this.failed = bodyFailed;
    this.popChecked(head, rule.body, original);
    this.failed ||= headFailed;
  }
}

const dummyLoc: Location = { file: '', row: 0, col: 0, offset: 0, end: 0 };

function refText(t: Term): string {
  if (t.type !== 'ref') return t.type;
  return t.value.map((x, i) => (i === 0 && x.type === 'var' ? x.value : x.type === 'string' ? `.${x.value}` : '[...]')).join('');
}

export const rewriteLocalVars: Stage = {
  name: 'RewriteLocalVars',
  run(ctx) {
    forEachRule(ctx.modules, (r) => new Rewriter(ctx).rule(r));
  },
};

const CALL_IN_ARGS = 'rule arguments cannot contain calls';

/** The calls in an argument's pattern, where OPA looks for them: in refs, arrays and object values, not sets. */
function callsInPattern(t: Term, out: Term[]): void {
  switch (t.type) {
    case 'call': out.push(t); return;
    case 'ref': case 'array': for (const x of t.value) callsInPattern(x, out); return;
    case 'object': for (const [, v] of t.value) callsInPattern(v, out); return;
    default:
  }
}
