// Strict mode's checks on the module as written (OPA reports them from ResolveRefs and RewriteLocalVars when
// strict): an import no rule reads, "import data.foo unused" at the import, and a function argument no branch of
// the function reads, "unused argument a. (hint: use _ (wildcard variable) instead)" at the rule. Unused `:=`
// variables are found while locals are rewritten (rewrite-local-vars.ts). The findings do not end the run.
import type { Rule, Term } from '../ast.js';
import { forEachVar, forEachVarInBody } from '../walk.js';
import { importName, importText } from './check-v1-rules.js';
import type { Stage } from './context.js';

/** Every var a rule chain reads: its bodies, its head's value, key and arguments, and its ref after the name. */
function varsRead(rule: Rule, f: (name: string) => void): void {
  for (let r: Rule | undefined = rule; r; r = r.else) {
    const visit = (t: Term) => forEachVar(t, (v) => f(v.value));
    r.head.ref.slice(1).forEach(visit);
    r.head.args?.forEach(visit);
    if (r.head.key) visit(r.head.key);
    if (r.head.value) visit(r.head.value);
    forEachVarInBody(r.body, (v) => f(v.value));
  }
}

export const checkUnusedImports: Stage = {
  name: 'CheckUnusedImports',
  run(ctx) {
    if (!ctx.options.strict) return;
    // Not an ad-hoc query's imports (--import): OPA's query compiler does not check them in strict mode.
    for (const m of ctx.policyModules) {
      const read = new Set<string>();
      for (const rule of m.rules) varsRead(rule, (name) => read.add(name));
      for (const imp of m.imports) {
        const root = imp.path.value[0];
        if (root.type === 'var' && (root.value === 'future' || root.value === 'rego')) continue;
        if (!read.has(importName(imp))) ctx.errorContinuing(imp.loc, `${importText(imp)} unused`);
      }
    }
  },
};

export const checkUnusedArgs: Stage = {
  name: 'CheckUnusedArgs',
  run(ctx) {
    if (!ctx.options.strict) return;
    for (const m of ctx.modules) {
      for (const rule of m.rules) {
        if (!rule.head.args) continue;
        const read = new Map<string, number>();
        varsRead(rule, (name) => read.set(name, (read.get(name) ?? 0) + 1));
        const args: string[] = [];
        for (const a of rule.head.args) forEachVar(a, (v) => { if (!v.value.startsWith('$')) args.push(v.value); });
        // Each branch's arguments count once as written; a use is any further occurrence.
        const branches = countBranches(rule);
        for (const name of args) {
          if ((read.get(name) ?? 0) <= branches) ctx.errorContinuing(rule.loc, `unused argument ${name}. (hint: use _ (wildcard variable) instead)`);
        }
      }
    }
  },
};

function countBranches(rule: Rule): number {
  let n = 0;
  for (let r: Rule | undefined = rule; r; r = r.else) n++;
  return n;
}
