// The `capabilities` `verdict inspect` reports: the builtins a bundle's policies call and the features they need,
// as `opa inspect` derives them from OPA's compiled modules. Calls are read from the modules as parsed, with the
// rewrites OPA's compiler makes that change the list: `:=` in a body is also a unification (`eq`), and is an
// `assign` only outside comprehensions; `some x in xs` is a unification over xs, not a call of
// internal.member_2; a call with an operand referring to input or data unifies it first (`eq`); the body of
// `every` is left out, as OPA leaves it; a rule head's `:=` is no call.
import type { Body, Module, Rule, Term } from '../compiler/ast.js';
import { isTerm } from '../compiler/ast.js';
import { callName } from '../compiler/walk.js';
import { verdictCapabilities } from '../builtins/capabilities.js';

export function requiredCapabilities(modules: Module[], regoVersion: 'v0' | 'v1') {
  const used = new Set<string>();
  const term = (t: Term): void => {
    switch (t.type) {
      case 'call': {
        call(t.value);
        return;
      }
      case 'ref': case 'array': case 'set': t.value.forEach(term); return;
      case 'object': t.value.flat().forEach(term); return;
      case 'arraycomprehension': case 'setcomprehension': term(t.value.term); body(t.value.body, false); return;
      case 'objectcomprehension': term(t.value.key); term(t.value.value); body(t.value.body, false); return;
      default:
    }
  };
  const call = (terms: Term[]): void => {
    const name = callName(terms[0]!);
    if (name) used.add(name);
    const args = terms.slice(1);
    if (args.some((a) => a.type === 'ref' && a.value[0]!.type === 'var' && (a.value[0]!.value === 'input' || a.value[0]!.value === 'data'))) used.add('eq');
    args.forEach(term);
  };
  const body = (b: Body, top: boolean): void => {
    for (const e of b) {
      const x = e.terms;
      if (Array.isArray(x)) {
        if (callName(x[0]!) === 'assign') {
          used.add('eq');
          if (top) used.add('assign');
          x.slice(1).forEach(term);
        } else call(x);
      } else if (isTerm(x)) term(x);
      else if (x.type === 'some') {
        for (const s of x.symbols) {
          if (s.type !== 'call') continue;
          used.add('eq');
          s.value.slice(1).forEach(term);
        }
      } else if (x.type === 'every') term(x.domain); else if (x.type === 'not') body(x.body, top);
      else {
        body(x.lhs, top);
        body(x.rhs, top);
      }
      for (const w of e.with ?? []) term(w.value);
    }
  };
  for (const m of modules) {
    for (const first of m.rules) {
      for (let r: Rule | undefined = first; r; r = r.else) {
        [r.head.key, r.head.value, ...(r.head.args ?? [])].forEach((t) => t && term(t));
        body(r.body, true);
      }
    }
  }
  const builtins = verdictCapabilities()
    .builtins.filter((b) => used.has(b.name))
    .map(({ categories: _categories, name, decl, ...flags }) => ({ name, decl: withoutNames(decl), ...flags }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return { ...(builtins.length > 0 ? { builtins } : {}), ...(regoVersion === 'v1' && modules.length > 0 ? { features: ['rego_v1'] } : {}) };
}

/** A declaration as `opa inspect` lists it: the types without argument and result names and descriptions. */
function withoutNames(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNames);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'name' && k !== 'description').map(([k, x]) => [k, withoutNames(x)]));
}
