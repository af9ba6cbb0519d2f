// Rego v1's compile-time checks (OPA: checkDuplicateImports and checkRootDocumentOverrides in v1/ast/rego_v1.go):
// no two imports with the same name, and no rule, argument or `:=` variable named `input` or `data`.
// They apply to v1 modules, to v0 modules that `import rego.v1`, and in strict mode to all. As in OPA, a duplicate
// import does not stop the later stages.
import type { Import, Module, Rule } from '../ast.js';
import { exprOperator, forEachExprDeep, forEachRule } from '../walk.js';
import type { CompileContext, Stage } from './context.js';

const RESERVED = new Set(['input', 'data']);

export function isRegoV1Module(m: Module): boolean {
  return m.regoVersion === 'v1' || m.imports.some((i) => {
    const [root, v] = i.path.value;
    return root.type === 'var' && root.value === 'rego' && v?.type === 'string' && (v.value === 'v1' || v.value === 'v2');
  });
}

export function importText(imp: Import): string {
  const path = imp.path.value.map((t, i) => (i === 0 && t.type === 'var' ? t.value : t.type === 'string' ? `.${t.value}` : '[...]')).join('');
  return imp.alias ? `import ${path} as ${imp.alias}` : `import ${path}`;
}

export function importName(imp: Import): string {
  const last = imp.path.value[imp.path.value.length - 1];
  return imp.alias ?? (last.type === 'var' || last.type === 'string' ? last.value : '');
}

export const checkDuplicateImports: Stage = {
  name: 'CheckDuplicateImports',
  run(ctx) {
    // Not an ad-hoc query's imports (--import): OPA's query compiler has no such check.
    for (const m of ctx.policyModules.filter((mod) => ctx.options.strict || isRegoV1Module(mod))) {
      const seen = new Map<string, Import>();
      for (const imp of m.imports) {
        const first = seen.get(importName(imp));
        if (first) ctx.errorContinuing(imp.loc, `import must not shadow ${importText(first)}`);
        else seen.set(importName(imp), imp);
      }
    }
  },
};

function checkRule(ctx: CompileContext, rule: Rule): void {
  const head = rule.head.ref[0];
  if (head.type === 'var' && RESERVED.has(head.value)) {
    ctx.error('rego_compile_error', rule.loc, `rules must not shadow ${head.value} (use a different rule name)`);
  }
  for (const arg of rule.head.args ?? []) {
    if (arg.type === 'ref' && arg.value.length === 1 && arg.value[0].type === 'var' && RESERVED.has(arg.value[0].value)) {
      ctx.error('rego_compile_error', arg.loc, `args must not shadow ${arg.value[0].value} (use a different variable name)`);
    }
  }
  forEachExprDeep(rule.body, (e) => {
    if (exprOperator(e) !== 'assign' || !Array.isArray(e.terms)) return;
    const lhs = e.terms[1];
    if (lhs?.type === 'ref' && lhs.value.length === 1 && lhs.value[0].type === 'var' && RESERVED.has(lhs.value[0].value)) {
      ctx.error('rego_compile_error', e.loc, `variables must not shadow ${lhs.value[0].value} (use a different variable name)`);
    }
  });
}

export const checkKeywordOverrides: Stage = {
  name: 'CheckKeywordOverrides',
  run(ctx) {
    forEachRule(ctx.modules.filter((mod) => ctx.options.strict || isRegoV1Module(mod)), (r) => checkRule(ctx, r));
  },
};
