// ResolveRefs: names that refer to rules of the module's package or to imports become full refs
// (`allow` → `data.pkg.allow`, `import data.roles` + `roles[x]` → `data.roles[x]`). Function arguments and
// variables declared in a body (`:=`, `some`) shadow them. OPA: v1/ast/compile.go resolveAllRefs.
import type { Body, Expr, Import, Module, Rule, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { exprOperator, forEachExprDeep, forEachVar } from '../walk.js';
import type { CompileContext, Stage } from './context.js';

type Globals = Map<string, Term[]>;

/** Variables that must not be resolved in the current scope. */
class Ignore {
  private scopes: Set<string>[] = [];
  push(vars: Set<string>): void { this.scopes.push(vars); }
  pop(): void { this.scopes.pop(); }
  has(v: string): boolean { return this.scopes.some((s) => s.has(v)); }
}

export function packageKey(m: Module): string {
  return m.package.path.slice(1).map((t) => (t.type === 'string' ? t.value : '?')).join('.');
}

function importName(imp: Import): string {
  if (imp.alias) return imp.alias;
  const last = imp.path.value[imp.path.value.length - 1];
  return last.type === 'var' || last.type === 'string' ? last.value : '';
}

function globalsOf(m: Module, ruleNames: Set<string>): Globals {
  const globals: Globals = new Map();
  for (const name of ruleNames) globals.set(name, [...m.package.path, { type: 'string', value: name, loc: m.package.loc }]);
  for (const imp of m.imports) {
    const root = imp.path.value[0];
    if (root.type === 'var' && (root.value === 'future' || root.value === 'rego')) continue;
    globals.set(importName(imp), imp.path.value);
  }
  return globals;
}

/** Variables declared anywhere in a body with `:=` or `some` (they shadow globals throughout it). */
function declaredVars(body: Body): Set<string> {
  const vars = new Set<string>();
  forEachExprDeep(body, (e) => {
    if (exprOperator(e) === 'assign' && Array.isArray(e.terms) && e.terms.length === 3) {
      forEachVar(e.terms[1], (v) => vars.add(v.value));
    } else if (!Array.isArray(e.terms) && !isTerm(e.terms) && e.terms.type === 'some') {
      for (const s of e.terms.symbols) {
        if (s.type === 'var') vars.add(s.value);
        else if (s.type === 'call') {
          const args = s.value.slice(1);
          forEachVar(args[0], (v) => vars.add(v.value));
          if (args.length === 3) forEachVar(args[1], (v) => vars.add(v.value));
        }
      }
    }
  });
  return vars;
}

/**
 * xs mapped by f, or xs itself when f returned every element unchanged: most terms hold no name to resolve,
 * and not copying them saves the allocation and the garbage collection of a second tree.
 */
function mapShared<T>(xs: T[], f: (x: T) => T): T[] {
  let out: T[] | undefined;
  for (let i = 0; i < xs.length; i++) {
    const y = f(xs[i]);
    if (out) out.push(y);
    else if (y !== xs[i]) {
      out = xs.slice(0, i);
      out.push(y);
    }
  }
  return out ?? xs;
}

class Resolver {
  constructor(private readonly globals: Globals, private readonly ignore: Ignore) {}

  private copyPath(path: Term[], at: Term): Term[] {
    return path.map((p) => ({ ...p, loc: at.loc }));
  }

  term(t: Term): Term {
    switch (t.type) {
      case 'var': {
        const g = this.globals.get(t.value);
        return g && !this.ignore.has(t.value) ? { type: 'ref', value: this.copyPath(g, t), loc: t.loc } : t;
      }
      case 'ref': {
        const segs = t.value;
        let out: Term[] | undefined;
        for (let i = 0; i < segs.length; i++) {
          const x = segs[i];
          const g = x.type === 'var' ? this.globals.get(x.value) : undefined;
          if (x.type === 'var' && g && !this.ignore.has(x.value)) {
            out ??= segs.slice(0, i);
            if (i === 0) out.push(...this.copyPath(g, x));
            else out.push({ type: 'ref', value: this.copyPath(g, x), loc: x.loc });
          } else {
            const y = this.term(x);
            if (out) out.push(y);
            else if (y !== x) {
              out = segs.slice(0, i);
              out.push(y);
            }
          }
        }
        return out ? { ...t, value: out } : t;
      }
      case 'array': case 'set': case 'call': {
        const value = mapShared(t.value, (x) => this.term(x));
        return value === t.value ? t : { ...t, value } as Term;
      }
      case 'object': {
        const value = mapShared(t.value, (kv) => {
          const k = this.term(kv[0]);
          const v = this.term(kv[1]);
          return k === kv[0] && v === kv[1] ? kv : [k, v] as [Term, Term];
        });
        return value === t.value ? t : { ...t, value };
      }
      case 'arraycomprehension': case 'setcomprehension': {
        this.ignore.push(declaredVars(t.value.body));
        const value = { term: this.term(t.value.term), body: this.body(t.value.body) };
        this.ignore.pop();
        return { ...t, value } as Term;
      }
      case 'objectcomprehension': {
        this.ignore.push(declaredVars(t.value.body));
        const value = { key: this.term(t.value.key), value: this.term(t.value.value), body: this.body(t.value.body) };
        this.ignore.pop();
        return { ...t, value };
      }
      case 'templatestring':
        return { ...t, value: { ...t.value, parts: t.value.parts.map((p) => ('terms' in p ? this.expr(p) : this.term(p))) } };
      default: return t;
    }
  }

  body(b: Body): Body {
    return b.map((e) => this.expr(e));
  }

  /** The expression with names resolved; `e` itself when it has none to resolve. */
  expr(e: Expr): Expr {
    const t = e.terms;
    let terms: Expr['terms'] = t;
    if (Array.isArray(t)) terms = mapShared(t, (x) => this.term(x));
    else if (isTerm(t)) terms = this.term(t);
    else if (t.type === 'some') {
      if (t.symbols[0]?.type === 'call') terms = { ...t, symbols: [this.term(t.symbols[0])] };
    } else if (t.type === 'every') {
      const bound = new Set<string>();
      if (t.key) forEachVar(t.key, (v) => bound.add(v.value));
      forEachVar(t.value, (v) => bound.add(v.value));
      this.ignore.push(bound);
      terms = { ...t, domain: this.term(t.domain), body: this.body(t.body) };
      this.ignore.pop();
    } else if (t.type === 'not') terms = { ...t, body: this.body(t.body) };
    else terms = { ...t, lhs: this.body(t.lhs), rhs: this.body(t.rhs) };
    const withs = e.with && mapShared(e.with, (w) => {
      const target = this.term(w.target);
      const value = this.term(w.value);
      return target === w.target && value === w.value ? w : { ...w, target, value };
    });
    if (terms === t && withs === e.with) return e;
    const out: Expr = { ...e, terms };
    if (withs) out.with = withs;
    return out;
  }
}

function resolveRule(ctx: CompileContext, globals: Globals, rule: Rule): void {
  const args = new Set<string>();
  for (const arg of rule.head.args ?? []) {
    if (arg.type === 'ref' && arg.value.length === 1 && arg.value[0].type === 'var') {
      ctx.error('rego_compile_error', rule.loc, `args must not shadow ${arg.value[0].value} (use a different variable name)`);
      return;
    }
    forEachVar(arg, (v) => args.add(v.value));
  }
  const ignore = new Ignore();
  ignore.push(args);
  ignore.push(declaredVars(rule.body));
  const r = new Resolver(globals, ignore);
  // Head terms stay distinct objects, as they were when every term was copied: RewriteRuleHeadRefs tells the
  // key from the last ref segment by identity.
  const head = (t: Term): Term => {
    const u = r.term(t);
    const shared = u === t && (t.type === 'ref' || t.type === 'array' || t.type === 'set' || t.type === 'call' || t.type === 'object');
    return shared ? { ...t } : u;
  };
  rule.head.ref = rule.head.ref.map((t, i) => (i === 0 ? t : head(t)));
  if (rule.head.key) rule.head.key = head(rule.head.key);
  if (rule.head.value) rule.head.value = head(rule.head.value);
  rule.body = r.body(rule.body);
}

export const resolveRefs: Stage = {
  name: 'ResolveRefs',
  run(ctx) {
    // A package's rule names are shared by all its modules.
    const names = new Map<string, Set<string>>();
    for (const m of ctx.modules) {
      const set = names.get(packageKey(m)) ?? new Set<string>();
      for (const rule of m.rules) if (rule.head.ref[0].type === 'var') set.add(rule.head.ref[0].value);
      names.set(packageKey(m), set);
    }
    for (const m of ctx.modules) {
      const globals = globalsOf(m, names.get(packageKey(m))!);
      for (const rule of m.rules) for (let r: Rule | undefined = rule; r; r = r.else) resolveRule(ctx, globals, r);
    }
  },
};
