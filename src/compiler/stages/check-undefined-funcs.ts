// CheckUndefinedFuncs: every call names a function defined by the policy or a builtin (OPA: v1/ast/compile.go
// checkUndefinedFuncs). Calls through a ref with variables (`data.x[y](1)`, dynamic dispatch) are left to
// evaluation. Skipped when the compiler was not told which builtins exist.
import { callName, forEachCallInRule } from '../walk.js';
import { functionArities } from './check-safety.js';
import type { CompileContext, Stage } from './context.js';

export const checkUndefinedFuncs: Stage = {
  name: 'CheckUndefinedFuncs',
  run(ctx: CompileContext) {
    const builtin = ctx.options.builtin;
    if (!builtin) return;
    const functions = functionArities(ctx.modules);
    // A policy calls the same few functions many times: look each name up once.
    const defined = new Map<string, boolean>();
    for (const m of ctx.modules) {
      for (const rule of m.rules) {
        forEachCallInRule(rule, (op, loc) => {
          const name = callName(op);
          if (name === undefined) return;
          let ok = defined.get(name);
          if (ok === undefined) {
            ok = functions.has(name) || (!name.startsWith('data.') && !!builtin(name));
            defined.set(name, ok);
          }
          if (!ok) ctx.error('rego_type_error', loc, `undefined function ${name}`);
        });
      }
    }
  },
};
