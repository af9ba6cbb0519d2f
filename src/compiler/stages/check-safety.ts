// CheckSafetyRuleBodies and CheckSafetyRuleHeads: every variable must be bound ("safe") before it is read, and
// bodies are reordered so that the expression binding a variable comes before those reading it — the order the
// planner evaluates them in (OPA: v1/ast/compile.go reorderBodyForSafety). A variable becomes safe by being a
// function argument, the output of a unification (`x = input.a`, `[a, b] = pair`), an iteration index in a
// ref (`xs[i]`), or the extra output argument of a call (`count(xs, n)`). Closures (comprehensions, `every`,
// `not { }`, and/or operands) produce nothing outside and are checked with what is safe where they stand.
// Runs after RewriteLocalVars, so names are unique and `:=` is already `=`.
import type { Body, Expr, Location, Module, Rule, TemplateString, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { childTerms, exprOperator, forEachRule } from '../walk.js';
import type { CompileContext, Stage } from './context.js';
import { expandBody, unitOutput } from './expr-term-units.js';
import { nameSegment } from '../rego-text.js';

type Vars = Set<string>;
/** A read-only view of the vars bound so far (a Vars, or a Vars plus what an expression binds). */
type Known = { has(v: string): boolean };

function compareLocations(a: Location, b: Location): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.row - b.row || a.col - b.col;
}

/** A var the compiler made up (not a wildcard, `$0`, which is the user's `_`). */
const generated = (v: string) => v.startsWith('__local') || (v.startsWith('$') && !WILDCARD.test(v));
const WILDCARD = /^\$\d+$/;
/** A var as errors name it: a wildcard is `_`. */
const shownName = (v: string) => (WILDCARD.test(v) ? '_' : v);

/** Vars of a term as safety sees them: not inside closures, not the names of called functions. */
export function termVars(t: Term, out: Vars = new Set()): Vars {
  switch (t.type) {
    case 'var': out.add(t.value); break;
    case 'call': for (let i = 1; i < t.value.length; i++) termVars(t.value[i], out); break;
    case 'ref': case 'array': case 'set': for (let i = 0; i < t.value.length; i++) termVars(t.value[i], out); break;
    case 'object':
      for (let i = 0; i < t.value.length; i++) {
        termVars(t.value[i][0], out);
        termVars(t.value[i][1], out);
      }
      break;
    case 'templatestring': for (const v of templateVars(t)) out.add(v); break;
    default: break; // scalars; comprehensions are closures
  }
  return out;
}

/**
 * A template string is a call to internal.template_string (OPA's RewriteTemplateStrings): a part that is a var
 * is read as such, any other part is a comprehension of its values, a closure.
 */
function templateVars(t: TemplateString): string[] {
  return t.value.parts.flatMap((p) => (isTemplateVar(p) ? [((p as Expr).terms as Term & { type: 'var' }).value] : []));
}

function isTemplateVar(p: Term | Expr): boolean {
  return 'terms' in p && !Array.isArray(p.terms) && isTerm(p.terms) && p.terms.type === 'var';
}

function isCall(e: Expr): e is Expr & { terms: Term[] } {
  return Array.isArray(e.terms);
}

/** `with f as count`: a value naming a function (user-defined or builtin) is not a variable. */
type IsFunction = (name: string) => boolean;

function dottedName(t: Term): string {
  if (t.type === 'var') return t.value;
  if (t.type !== 'ref') return '';
  return t.value.map((x, i) => (i === 0 && x.type === 'var' ? x.value : x.type === 'string' ? x.value : '?')).join('.');
}

/** The vars an expression reads or binds at its own level. */
function exprVars(e: Expr, isFunction: IsFunction): Vars {
  const out: Vars = new Set();
  const t = e.terms;
  if (Array.isArray(t)) for (let i = 1; i < t.length; i++) termVars(t[i], out);
  else if (isTerm(t)) termVars(t, out);
  else if (t.type === 'every') termVars(t.domain, out);
  if (e.with) for (let i = 0; i < e.with.length; i++) if (!isFunction(dottedName(e.with[i].value))) termVars(e.with[i].value, out);
  return out;
}

/** Vars of the closures inside a term (closureVars for one term). */
function termClosureVars(t: Term, isFunction: IsFunction, out: Vars): void {
  switch (t.type) {
    case 'var': case 'string': case 'number': case 'boolean': case 'null': return;
    case 'arraycomprehension': case 'setcomprehension': varsOfClosure([t.value.term], t.value.body, isFunction, out); return;
    case 'objectcomprehension': varsOfClosure([t.value.key, t.value.value], t.value.body, isFunction, out); return;
    case 'templatestring':
      for (const p of t.value.parts) {
        if (isTemplateVar(p)) continue;
        if ('terms' in p) allVars([p], isFunction, out);
        else termClosureVars(p, isFunction, out);
      }
      return;
    default: {
      const children = childTerms(t);
      for (let i = 0; i < children.length; i++) termClosureVars(children[i], isFunction, out);
    }
  }
}

/** Vars of the closures of an expression (their bodies, heads and domains): those the enclosing body has too are its vars. */
function closureVars(e: Expr, isFunction: IsFunction, out: Vars = new Set()): Vars {
  const inTerm = (t: Term): void => termClosureVars(t, isFunction, out);
  const t = e.terms;
  if (Array.isArray(t)) for (let i = 1; i < t.length; i++) inTerm(t[i]);
  else if (isTerm(t)) inTerm(t);
  else if (t.type === 'every') {
    inTerm(t.domain);
    varsOfClosure([], t.body, isFunction, out);
  } else if (t.type === 'not') {
    // A negated body binds nothing outside, and a var it shares with the enclosing body is that body's var
    // (`not a = f(1); a = f(2)` runs the negation after a is bound), so every var in it counts as read from
    // outside; the caller keeps those the enclosing body binds.
    allVars(t.body, isFunction, out);
  }
  else if (t.type === 'logicaland' || t.type === 'logicalor') {
    varsOfClosure([], t.lhs, isFunction, out);
    varsOfClosure([], t.rhs, isFunction, out);
  }
  if (e.with) for (let i = 0; i < e.with.length; i++) inTerm(e.with[i].value);
  return out;
}

/** All vars in a body and its closures. */
function allVars(b: Body, isFunction: IsFunction, out: Vars): void {
  for (const e of b) {
    for (const v of exprVars(e, isFunction)) out.add(v);
    closureVars(e, isFunction, out);
  }
}

/**
 * The vars of a closure. A var a closure shares with its enclosing body is that body's var (`y := 1; [y | y = 1]`
 * filters on the outer y), so even those the closure binds itself must be bound before it, as OPA requires.
 */
function varsOfClosure(terms: Term[], body: Body, isFunction: IsFunction, out: Vars): void {
  allVars(body, isFunction, out);
  for (const t of terms) termVars(t, out);
}

/** Vars a unification pattern binds: vars, and the elements of arrays and object values. */
function patternVars(t: Term, out: Vars): void {
  if (t.type === 'var') out.add(t.value);
  else if (t.type === 'array') t.value.forEach((x) => patternVars(x, out));
  else if (t.type === 'object') t.value.forEach(([, v]) => patternVars(v, out));
}

function allSafe(t: Term, safe: Known): boolean {
  for (const v of termVars(t)) if (!safe.has(v)) return false;
  return true;
}

/** Whether every var of `t` is in `a` or `b`. */
function allIn(t: Term, a: Known, b: Vars): boolean {
  for (const v of termVars(t)) if (!a.has(v) && !b.has(v)) return false;
  return true;
}

/** Iteration outputs of the refs in a term: an unbound var used as an index once the ref's head is bound. */
function refOutputs(t: Term, safe: Known, out: Vars): void {
  const bound = (x: Term) => allIn(x, safe, out);
  switch (t.type) {
    case 'ref': {
      const [head, ...rest] = t.value;
      refOutputs(head, safe, out);
      if (head.type !== 'var' ? !bound(head) : !(safe.has(head.value) || out.has(head.value))) return;
      for (const seg of rest) {
        refOutputs(seg, safe, out);
        if (seg.type === 'var' && !safe.has(seg.value)) out.add(seg.value);
        // A composite key is matched against the keys present, so its vars are bound by the lookup too.
        else if (seg.type === 'array' || seg.type === 'object' || seg.type === 'set') termVars(seg, out);
        else if (!bound(seg)) return;
      }
      return;
    }
    case 'call': case 'array': case 'set': case 'object':
      for (const c of childTerms(t).slice(t.type === 'call' ? 1 : 0)) refOutputs(c, safe, out);
      return;
    default:
  }
}

/**
 * Vars a match against a bound value binds: every var of the pattern but the heads of its refs, its object keys
 * and what closures hold (`[a, xs[i]] = pair` binds a and i, not xs).
 */
function matchedVars(t: Term, out: Vars): void {
  switch (t.type) {
    case 'var': out.add(t.value); return;
    case 'ref': case 'call': for (let i = 1; i < t.value.length; i++) matchedVars(t.value[i], out); return;
    case 'array': case 'set': for (let i = 0; i < t.value.length; i++) matchedVars(t.value[i], out); return;
    case 'object': for (let i = 0; i < t.value.length; i++) matchedVars(t.value[i][1], out); return;
    default: // scalars; comprehensions and template strings are closures
  }
}

/**
 * Whether a head term is evaluated in the body (OPA's requiresEval): it holds a ref, a call (a template string is
 * one) or a comprehension, closures included.
 */
function requiresEval(t: Term): boolean {
  switch (t.type) {
    case 'ref': case 'call': case 'arraycomprehension': case 'setcomprehension': case 'objectcomprehension': case 'templatestring': return true;
    default: return childTerms(t).some(requiresEval);
  }
}

const isComprehension = (t: Term): boolean =>
  t.type === 'arraycomprehension' || t.type === 'setcomprehension' || t.type === 'objectcomprehension';

/**
 * What `a = b` binds, given the vars bound before it: a side that can be evaluated binds the other side's pattern,
 * two unbound vars bind each other once either is bound elsewhere, and arrays (objects) of one length (key set)
 * unify element by element. A ref can be evaluated once its head is bound (its keys iterate), a call once all its
 * arguments are. Comprehensions and scalars are always values.
 */
class Unification {
  readonly bound: Vars = new Set();
  /** For a var not bound yet, the vars that bind it once they are all bound. */
  private readonly waiting = new Map<string, Vars>();

  constructor(private readonly safe: Known) {}

  private has(v: string): boolean {
    return this.safe.has(v) || this.bound.has(v);
  }

  private refReady(t: Term): boolean {
    if (t.type !== 'ref') return false;
    const head = t.value[0];
    return head.type === 'var' ? this.safe.has(head.value) : allSafe(head, this.safe);
  }

  /** A side that evaluates to a value once what is bound before the expression is. */
  private evaluable(t: Term): boolean {
    return t.type === 'ref' ? this.refReady(t) : t.type === 'call' && allSafe(t, this.safe);
  }

  private bind(v: string): void {
    this.bound.add(v);
    const deps = this.waiting.get(v);
    this.waiting.delete(v);
    if (deps) for (const d of deps) this.bind(d);
    for (const [w, on] of this.waiting) {
      if (on.delete(v) && on.size === 0) this.bind(w);
    }
  }

  private bindAll(t: Term): void {
    const vars: Vars = new Set();
    matchedVars(t, vars);
    for (const v of vars) this.bind(v);
  }

  private wait(v: string, on: string): void {
    const deps = this.waiting.get(v);
    if (deps) deps.add(on);
    else this.waiting.set(v, new Set([on]));
  }

  /** A var against an array or object: binding either side binds the other. */
  private varAgainstComposite(v: string, t: Term): void {
    if (this.has(v)) {
      this.bindAll(t);
      return;
    }
    const vars: Vars = new Set();
    matchedVars(t, vars);
    const missing = [...vars].filter((x) => !this.has(x));
    if (missing.length === 0) this.bind(v);
    else for (const x of missing) this.wait(v, x);
  }

  unify(a: Term, b: Term): void {
    switch (a.type) {
      case 'var':
        if (b.type === 'var') {
          if (this.has(b.value)) this.bind(a.value);
          else if (this.has(a.value)) this.bind(b.value);
          else {
            this.wait(a.value, b.value);
            this.wait(b.value, a.value);
          }
        } else if (b.type === 'array' || b.type === 'object') this.varAgainstComposite(a.value, b);
        else if (b.type === 'ref' || b.type === 'call') {
          if (this.evaluable(b)) this.bind(a.value);
        } else this.bind(a.value);
        return;
      case 'ref': case 'call':
        if (!this.evaluable(a)) return;
        if (b.type === 'var') this.bind(b.value);
        else if (b.type === 'array' || b.type === 'object') this.bindAll(b);
        return;
      case 'arraycomprehension': case 'objectcomprehension': case 'setcomprehension':
        if (b.type === 'var') this.bind(b.value);
        else if ((a.type === 'arraycomprehension' && b.type === 'array') || (a.type === 'objectcomprehension' && b.type === 'object')) this.bindAll(b);
        return;
      case 'array': case 'object':
        if (b.type === 'var') this.varAgainstComposite(b.value, a);
        else if ((a.type === 'array' && isComprehension(b)) || this.evaluable(b)) this.bindAll(a);
        else if (a.type === 'array' && b.type === 'array') {
          if (a.value.length === b.value.length) a.value.forEach((x, i) => this.unify(x, b.value[i]));
        } else if (a.type === 'object' && b.type === 'object' && a.value.length === b.value.length) {
          for (const [k, v] of a.value) {
            const other = b.value.find(([k2]) => JSON.stringify(strip(k2)) === JSON.stringify(strip(k)));
            if (other) this.unify(v, other[1]);
          }
        }
        return;
      default:
        if (b.type === 'var') this.bind(b.value);
    }
  }
}

function strip(t: Term): unknown {
  return JSON.parse(JSON.stringify(t, (k, v) => (k === 'loc' ? undefined : v)));
}

/** The vars expression `e` binds when `safe` vars are already bound. */
export function outputVars(e: Expr, safe: Known, arity: (op: string) => number | undefined): Vars {
  const out: Vars = new Set();
  if (e.negated || (!isCall(e) && !isTerm(e.terms))) return out;
  // An expression whose `with` values cannot be evaluated yet binds nothing (OPA: outputVarsForExpr).
  if (e.with?.some((w) => arity(dottedName(w.value)) === undefined && !allSafe(w.value, safe))) return out;
  const terms = isCall(e) ? e.terms.slice(1) : [e.terms as Term];
  // Iterate: outputs of one ref can bind the head of another in the same expression.
  for (let size = -1; size !== out.size;) {
    size = out.size;
    // What is bound at the start of this round: safe plus a snapshot of the outputs so far.
    const bound = out.size === 0 ? undefined : new Set(out);
    const now: Known = bound ? { has: (v) => safe.has(v) || bound.has(v) } : safe;
    for (const t of terms) refOutputs(t, now, out);
    if (isCall(e)) {
      const op = exprOperator(e);
      if (op === 'eq' && terms.length === 2) {
        // What the refs bind is bound before the sides are matched.
        const before = new Set(out);
        const u = new Unification({ has: (v) => now.has(v) || before.has(v) });
        u.unify(terms[0], terms[1]);
        for (const v of u.bound) out.add(v);
      }
      else {
        // A nested call's expression passes its result out through its last term whatever the function's
        // arity: a call with too many operands, or to an unknown function, is reported by another stage.
        const n = e.generated ? terms.length - 1 : arity(op);
        if (n !== undefined && terms.length === n + 1 && terms.every((t, i) => i >= n || allSafe(t, now))) patternVars(terms[n], out);
      }
    }
  }
  return out;
}

/** Future keywords: an expression reading a var named like one (`contains.x`) most likely misses an import. */
const FUTURE_KEYWORDS = new Set(['and', 'contains', 'every', 'if', 'in', 'not', 'or']);

function unsafeVarMessage(name: string, scope: string): string {
  return FUTURE_KEYWORDS.has(name)
    ? `var ${name} is unsafe${scope} (hint: \`import future.keywords.${name}\` to import a future keyword)`
    : `var ${name} is unsafe${scope}`;
}

/** The name of a rule: its head ref up to the first segment that is not a scalar (`p.q` of `p.q[x]`). */
function ruleName(rule: Rule): string {
  let text = '';
  for (const [i, t] of rule.head.ref.entries()) {
    if (i === 0) text = t.type === 'var' ? t.value : '';
    else if (t.type === 'string') text += nameSegment(t.value);
    else if (t.type === 'number' || t.type === 'boolean') text += `[${String(t.value)}]`;
    else if (t.type === 'null') text += '[null]';
    else break;
  }
  return text;
}

/**
 * Labels the safety errors of a module's rules with the rule they are in, where the location alone is ambiguous:
 * only a rule on a line that also holds a rule of another name (else branches included) gets ` in rule p`.
 */
function ruleScopes(module: Module): (rule: Rule) => string {
  const first = new Map<number, string>();
  const shared = new Set<number>();
  for (const rule of module.rules) {
    for (let r: Rule | undefined = rule; r; r = r.else) {
      const name = ruleName(r);
      const seen = first.get(r.loc.row);
      if (seen === undefined) first.set(r.loc.row, name);
      else if (seen !== name) shared.add(r.loc.row);
    }
  }
  return (rule) => (shared.has(rule.loc.row) ? ` in rule ${ruleName(rule)}` : '');
}

class SafetyChecker {
  private readonly isFunction: IsFunction;

  constructor(private readonly ctx: CompileContext, private readonly arity: (op: string) => number | undefined) {
    this.isFunction = (name) => name !== '' && arity(name) !== undefined;
  }

  private name(v: string): string {
    return this.ctx.rewritten.get(v) ?? v;
  }

  /** Names the outputs of the expressions nested calls become (expandBody), apart within a rule. */
  private outputs = 0;

  /**
   * Reorders a body so bindings come first; reports what can never be bound. Returns the new order. The body is
   * checked as OPA's RewriteExprTerms leaves it (expandBody): a nested call is ordered, and reported, on its own.
   */
  body(original: Body, globals: Vars): { body: Body; safe: Vars; safeBody: boolean } {
    const { units: body, source } = expandBody(original, () => unitOutput(this.outputs++));
    // An expression's own vars and its closures' vars do not depend on the order: computed once each.
    const reads = body.map((e) => exprVars(e, this.isFunction));
    const inClosures = body.map((e) => closureVars(e, this.isFunction));
    const bodyVars: Vars = new Set();
    for (const vars of reads) for (const v of vars) bodyVars.add(v);
    const safe = new Set(globals);
    const placed: Expr[] = [];
    /** The outputs of each placed expression, given what was bound before it. */
    const placedOuts: Vars[] = [];
    const pending = new Set(body.keys());
    // What keeps each expression from running: at first the vars it reads, less the globals; pruned, pass by
    // pass, of what is bound before it and what it binds itself (`xs[i]`'s i).
    const unsafe = reads.map((r) => new Set([...r].filter((v) => !globals.has(v))));
    // The vars of its closures the body has too: those must be bound before it, not by it. When they are just
    // what it binds (`z == [[x | x > 1], xs[x]]`) it cannot run, and its own vars are reported; when it binds
    // more (`xs[x] + count([1 | x > 1])`, where the call's result is an output too) it runs, as in OPA, and its
    // closures, checked with what is bound before it, report theirs.
    const closed = inClosures.map((c) => [...c].filter((v) => bodyVars.has(v) && !globals.has(v)));
    for (let progress = true; progress;) {
      progress = false;
      for (let i = 0; i < body.length; i++) {
        if (!pending.has(i)) continue;
        const outs = outputVars(body[i], safe, this.arity);
        const cv = closed[i];
        if (cv.length > 0) {
          if (cv.length === outs.size && cv.every((v) => outs.has(v))) continue;
          for (const v of cv) unsafe[i].add(v);
        }
        for (const v of unsafe[i]) if (safe.has(v) || outs.has(v)) unsafe[i].delete(v);
        if (unsafe[i].size === 0) {
          pending.delete(i);
          placed.push(body[i]);
          placedOuts.push(outs);
          for (const v of outs) safe.add(v);
          progress = true;
        }
      }
    }
    for (const i of pending) this.report(body[i], unsafe[i]);
    // Closures are checked with what is bound at their place in the new order (the outputs found while
    // placing: reordering a closure's own body does not change what its expression binds). Those of the
    // expressions that could be placed are checked even when others could not, as OPA does: their unsafe vars
    // are reported as well.
    const before = new Set(globals);
    placed.forEach((e, k) => {
      this.closures(e, before);
      for (const v of placedOuts[k]) before.add(v);
    });
    // An `every` checked with its domain read through a local is a copy: its reordered body goes back.
    for (const [u, e] of source) {
      if (u.terms !== e.terms && !Array.isArray(u.terms) && !isTerm(u.terms) && u.terms.type === 'every') (e.terms as typeof u.terms).body = u.terms.body;
    }
    if (pending.size > 0) return { body: original, safe, safeBody: false };
    const order = placed.flatMap((e) => source.get(e) ?? []);
    return { body: order.map((e, index) => (e.index === index ? e : { ...e, index })), safe, safeBody: true };
  }

  /**
   * The unsafe vars of the rule being checked, with the expression (its location) that cannot bind them and, for
   * the equality a `:=` became, the vars it declares: every body and closure of the rule adds to the same list,
   * reported at once as OPA does (flushUnsafe).
   */
  private unsafe: { loc: Location; vars: Vars; declares?: Term }[] = [];

  private report(e: { loc: Location; assignment?: true; terms?: Expr['terms'] }, unsafe: Vars): void {
    if (unsafe.size === 0) return;
    const declares = e.assignment && Array.isArray(e.terms) && e.terms.length === 3 ? e.terms[1] : undefined;
    this.unsafe.push({ loc: e.loc, vars: unsafe, declares });
  }

  /** The name an unsafe var is reported by, or undefined for a var the compiler made up. */
  private shown(v: string): string | undefined {
    const name = this.name(v);
    return generated(name) ? undefined : shownName(name);
  }

  /**
   * Reports the unsafe vars collected for one rule: each named var once, at the first expression (by location)
   * that cannot bind it, in the order of those locations; when none is named, each expression that adds an unsafe
   * var of the compiler's own is unsafe as a whole. A var declared by a `:=` that is itself unsafe is left out when
   * another var is reported: `x := y` reports y, not x, and `y := [y | x > 0]` reports x, not the head's y, which
   * the error in the body explains (`y := [y | true]` reports y).
   */
  private flushUnsafe(scope: string): void {
    const pairs = this.unsafe;
    this.unsafe = [];
    const declared: Vars = new Set();
    for (const { declares } of pairs) {
      if (!declares) continue;
      for (const v of termVars(declares)) {
        declared.add(v);
        declared.add(this.name(v));
      }
    }
    const first = new Map<string, { name: string; loc: Location }>();
    for (const { loc, vars } of pairs) {
      for (const v of vars) {
        const name = this.shown(v);
        if (name === undefined) continue;
        const seen = first.get(v);
        if (!seen || compareLocations(loc, seen.loc) < 0) first.set(v, { name, loc });
      }
    }
    const isDeclared = (v: string, name: string): boolean => declared.has(v) || declared.has(name);
    const others = [...first].some(([v, { name }]) => !isDeclared(v, name));
    if (others) for (const [v, { name }] of first) if (isDeclared(v, name)) first.delete(v);
    if (first.size > 0) {
      const found = [...first.values()];
      found.sort((a, b) => compareLocations(a.loc, b.loc) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const { name, loc } of found) this.ctx.error('rego_unsafe_var_error', loc, unsafeVarMessage(name, scope));
      return;
    }
    const seen: Vars = new Set();
    for (const { loc, vars } of [...pairs].sort((a, b) => compareLocations(a.loc, b.loc))) {
      const before = seen.size;
      for (const v of vars) seen.add(v);
      if (seen.size > before) this.ctx.error('rego_unsafe_var_error', loc, `expression is unsafe${scope}`);
    }
  }

  private closures(e: Expr, safe: Vars): void {
    const inTerm = (t: Term): void => {
      switch (t.type) {
        case 'arraycomprehension': case 'setcomprehension': {
          const r = this.withHeads(t.value.body, [t.value.term], safe);
          t.value.body = r.body;
          this.head(r.kept, this.headSafe(r), e);
          return;
        }
        case 'objectcomprehension': {
          const r = this.withHeads(t.value.body, [t.value.key, t.value.value], safe);
          t.value.body = r.body;
          this.head(r.kept, this.headSafe(r), e);
          return;
        }
        case 'templatestring': return;
        default: for (const c of childTerms(t)) inTerm(c);
      }
    };
    const t = e.terms;
    if (Array.isArray(t)) t.slice(1).forEach(inTerm);
    else if (isTerm(t)) inTerm(t);
    else if (t.type === 'every') {
      const bound = new Set(safe);
      for (const x of [t.key, t.value]) if (x?.type === 'var') bound.add(x.value);
      t.body = this.body(t.body, bound).body;
    } else if (t.type === 'not') t.body = this.body(t.body, safe).body;
    else if (t.type === 'logicaland' || t.type === 'logicalor') {
      t.lhs = this.body(t.lhs, safe).body;
      t.rhs = this.body(t.rhs, safe).body;
    }
  }

  /**
   * A body checked as OPA checks it once its rule's or comprehension's head terms that need evaluating (a ref, a
   * call or a comprehension in them) are moved to its end (OPA's RewriteExprTerms, RewriteComprehensionTerms and
   * RewriteRefsInHead): each becomes `$head = term`, located at the term, so a var unsafe in it is reported there
   * (a head comes before its body) and a closure in it runs after what the body binds. The returned body leaves
   * those out; `kept` are the head terms not moved, whose vars the body must bind.
   */
  private withHeads(body: Body, heads: Term[], globals: Vars): { body: Body; safe: Vars; safeBody: boolean; kept: Term[] } {
    const moved = new Set<Expr>();
    const kept: Term[] = [];
    for (const t of heads) {
      if (!requiresEval(t)) {
        kept.push(t);
        continue;
      }
      const eq: Term = { type: 'ref', value: [{ type: 'var', value: 'eq', loc: t.loc }], loc: t.loc };
      const local: Term = { type: 'var', value: unitOutput(this.outputs++), loc: t.loc };
      moved.add({ index: body.length + moved.size, terms: [eq, local, t], loc: t.loc, generated: true });
    }
    if (moved.size === 0) return { ...this.body(body, globals), kept };
    const checked = this.body([...body, ...moved], globals);
    const rest = checked.safeBody ? checked.body.filter((e) => !moved.has(e)).map((e, index) => (e.index === index ? e : { ...e, index })) : body;
    return { ...checked, body: rest, kept };
  }

  /**
   * What a comprehension's head may read: what its body binds; of an unsafe body, whatever it mentions too, as
   * a var the body reads but cannot bind is reported there, not again for the head.
   */
  private headSafe(r: { body: Body; safe: Vars; safeBody: boolean }): Vars {
    if (r.safeBody) return r.safe;
    const mentioned = new Set(r.safe);
    allVars(r.body, this.isFunction, mentioned);
    return mentioned;
  }

  /** Vars in these terms must be bound by the body that produced `safe`. */
  head(terms: Term[], safe: Vars, at: { loc: Expr['loc'] }): void {
    const unsafe: Vars = new Set();
    for (const t of terms) for (const v of termVars(t)) if (!safe.has(v)) unsafe.add(v);
    this.report(at, unsafe);
  }

  rule(rule: Rule, scope: string): void {
    const globals: Vars = new Set(['input', 'data']);
    for (const a of rule.head.args ?? []) termVars(a, globals);
    const head = rule.head;
    const headTerms = [head.key, head.value, ...(head.args ?? [])].filter((t): t is Term => !!t && t !== head.ref[head.ref.length - 1]);
    rule.body = this.withHeads(rule.body, headTerms, globals).body;
    this.flushUnsafe(scope);
  }

  /** Head vars must occur in the body or the arguments (OPA checks this before body safety). */
  ruleHead(rule: Rule, scope: string): void {
    const headTerms = [rule.head.key, rule.head.value, ...rule.head.ref.slice(1)].filter((t): t is Term => !!t);
    // The head's vars, each with its first occurrence; a ground head (most rules) needs no look at the body.
    const headVars = new Map<string, Term>();
    const collect = (t: Term): void => {
      if (t.type === 'var') {
        if (!headVars.has(t.value)) headVars.set(t.value, t);
      } else if (t.type === 'call') t.value.slice(1).forEach(collect);
      else childTerms(t).forEach(collect);
    };
    headTerms.forEach(collect);
    if (headVars.size === 0) return;
    const known: Vars = new Set(['input', 'data']);
    for (const a of rule.head.args ?? []) termVars(a, known);
    // Vars the body mentions outside comprehensions and `every` (their own scopes); a negated body's count.
    for (const e of rule.body) {
      for (const v of exprVars(e, this.isFunction)) known.add(v);
      const t = e.terms;
      if (!Array.isArray(t) && !isTerm(t) && t.type !== 'every') closureVars(e, this.isFunction, known);
    }
    const unsafe = new Map([...headVars].filter(([v]) => !known.has(v)));
    for (const [v, term] of [...unsafe].sort(([a], [b]) => (this.name(a) < this.name(b) ? -1 : 1))) {
      const name = this.name(v);
      if (!generated(name)) this.ctx.error('rego_unsafe_var_error', term.loc, `var ${shownName(name)} is unsafe${scope}`);
    }
  }
}

export function functionArities(modules: Module[]): Map<string, number> {
  const arities = new Map<string, number>();
  for (const m of modules) {
    for (const rule of m.rules) {
      if (!rule.head.args) continue;
      const path = [...m.package.path.slice(1), ...rule.head.ref].map((t) => (t.type === 'var' || t.type === 'string' ? t.value : '?'));
      arities.set(['data', ...path].join('.'), rule.head.args.length);
    }
  }
  return arities;
}

/** The arity of a called function (user-defined or builtin), undefined for a variadic or unknown one. */
export function arities(ctx: CompileContext): (op: string) => number | undefined {
  const functions = functionArities(ctx.modules);
  // Asked for every call expression (and `with` value), about the same few names: answered once per name.
  const known = new Map<string, number | undefined>();
  return (op) => {
    if (known.has(op)) return known.get(op);
    const fn = functions.get(op);
    const b = fn === undefined ? ctx.options.builtin?.(op) : undefined;
    const arity = fn ?? (b && !b.variadic ? b.args : undefined);
    known.set(op, arity);
    return arity;
  };
}

function checker(ctx: CompileContext): SafetyChecker {
  return new SafetyChecker(ctx, arities(ctx));
}

/** Each rule with the label its safety errors carry (ruleScopes). */
function forEachScopedRule(modules: readonly Module[], f: (r: Rule, scope: string) => void): void {
  for (const m of modules) {
    const scope = ruleScopes(m);
    forEachRule([m], (r) => f(r, scope(r)));
  }
}

export const checkSafetyRuleHeads: Stage = {
  name: 'CheckSafetyRuleHeads',
  run(ctx) {
    const c = checker(ctx);
    forEachScopedRule(ctx.modules, (r, scope) => c.ruleHead(r, scope));
  },
};

export const checkSafetyRuleBodies: Stage = {
  name: 'CheckSafetyRuleBodies',
  run(ctx) {
    const c = checker(ctx);
    forEachScopedRule(ctx.modules, (r, scope) => c.rule(r, scope));
  },
};
