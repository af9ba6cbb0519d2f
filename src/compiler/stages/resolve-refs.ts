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
        const out: Term[] = [];
        t.value.forEach((x, i) => {
          const g = x.type === 'var' ? this.globals.get(x.value) : undefined;
          if (x.type === 'var' && g && !this.ignore.has(x.value)) {
            if (i === 0) out.push(...this.copyPath(g, x));
            else out.push({ type: 'ref', value: this.copyPath(g, x), loc: x.loc });
          } else out.push(this.term(x));
        });
        return { ...t, value: out };
      }
      case 'array': case 'set': case 'call': return { ...t, value: t.value.map((x) => this.term(x)) } as Term;
      case 'object': return { ...t, value: t.value.map(([k, v]) => [this.term(k), this.term(v)] as [Term, Term]) };
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

  expr(e: Expr): Expr {
    const out: Expr = { ...e };
    const t = e.terms;
    if (Array.isArray(t)) out.terms = t.map((x) => this.term(x));
    else if (isTerm(t)) out.terms = this.term(t);
    else if (t.type === 'some') {
      if (t.symbols[0]?.type === 'call') out.terms = { ...t, symbols: [this.term(t.symbols[0])] };
    } else if (t.type === 'every') {
      const bound = new Set<string>();
      if (t.key) forEachVar(t.key, (v) => bound.add(v.value));
      forEachVar(t.value, (v) => bound.add(v.value));
      this.ignore.push(bound);
      out.terms = { ...t, domain: this.term(t.domain), body: this.body(t.body) };
      this.ignore.pop();
    } else if (t.type === 'not') out.terms = { ...t, body: this.body(t.body) };
    else out.terms = { ...t, lhs: this.body(t.lhs), rhs: this.body(t.rhs) };
    if (e.with) out.with = e.with.map((w) => ({ ...w, target: this.term(w.target), value: this.term(w.value) }));
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
  rule.head.ref = rule.head.ref.map((t, i) => (i === 0 ? t : r.term(t)));
  if (rule.head.key) rule.head.key = r.term(rule.head.key);
  if (rule.head.value) rule.head.value = r.term(rule.head.value);
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
