// CheckWithTargets: what a `with` may replace (OPA: v1/ast/compile.go rewriteWithModifiers). The target is input
// or data below it, or names a function or builtin; a target below a rule (`with data.p.a.b as 1` where
// data.p.a is a rule) would replace part of a virtual document, which OPA refuses.
import type { Module, Rule, Term } from '../ast.js';
import { ruleDataPath } from '../rule-data-path.js';
import { forEachExprDeep, forEachRule } from '../walk.js';
import type { CompileContext, Stage } from './context.js';

/** The dotted path of a reference of a var and constant strings (`data.a.b`), else undefined. */
function dotted(t: Term): string[] | undefined {
  if (t.type === 'var') return [t.value];
  if (t.type !== 'ref' || t.value[0].type !== 'var') return undefined;
  const parts = [t.value[0].value];
  for (const seg of t.value.slice(1)) {
    if (seg.type !== 'string') return undefined;
    parts.push(seg.value);
  }
  return parts;
}

/** Where rules live under data, as dotted paths from `data`. */
function rulePaths(modules: Module[]): Set<string> {
  const paths = new Set<string>();
  for (const m of modules) {
    for (const rule of m.rules) {
      const path = ruleDataPath(m, rule);
      if (path) paths.add(['data', ...path].join('.'));
    }
  }
  return paths;
}

export const checkWithTargets: Stage = {
  name: 'CheckWithTargets',
  run(ctx: CompileContext) {
    // Built on the first `with data...`: most policies have none.
    let rules: Set<string> | undefined;
    const builtin = ctx.options.builtin;
    const inRule = (r: Rule) => forEachExprDeep(r.body, (e) => {
      if (!e.with) return;
      for (const w of e.with) {
        const path = dotted(w.target);
        const root = path?.[0];
        if (root === 'input') continue;
        if (root === 'data') {
          rules ??= rulePaths(ctx.modules);
          for (let n = 2; n < path!.length; n++) {
            if (!rules.has(path!.slice(0, n).join('.'))) continue;
            ctx.error('rego_compile_error', w.target.loc, 'with keyword cannot partially replace virtual document(s)');
            break;
          }
          continue;
        }
        if (!builtin || (path && builtin(path.join('.')))) continue;
        ctx.error('rego_type_error', w.target.loc, 'with keyword target must reference existing input, data, or a function');
      }
    });
    forEachRule(ctx.modules, inRule);
  },
};
