// CheckUndefinedFuncs: every call names a function defined by the policy or a builtin (OPA: v1/ast/compile.go
// checkUndefinedFuncs). Calls through a ref with variables (`data.x[y](1)`, dynamic dispatch) are left to
// evaluation. Skipped when the compiler was not told which builtins exist. As in OPA, calls of the wrong arity are
// reported here too, before the safety and recursion checks (their messages come from the type checker).
import type { FunctionDecl } from '../../builtins/declarations.js';
import { callName, forEachCallInRule } from '../walk.js';
import { functionArities } from './check-safety.js';
import { fitsArity, reportArityMismatches } from './check-types.js';
import type { CompileContext, Stage } from './context.js';

export const checkUndefinedFuncs: Stage = {
  name: 'CheckUndefinedFuncs',
  run(ctx: CompileContext) {
    const builtin = ctx.options.builtin;
    if (!builtin) return;
    const functions = functionArities(ctx.modules);
    // A policy calls the same few functions many times: look each name up once.
    const defined = new Map<string, boolean>();
    let misfit = false;
    for (const m of ctx.modules) {
      for (const rule of m.rules) {
        forEachCallInRule(rule, (op, loc, operands, nested) => {
          const name = callName(op);
          if (name === undefined) return;
          let ok = defined.get(name);
          if (ok === undefined) {
            ok = functions.has(name) || (!name.startsWith('data.') && !!builtin(name));
            defined.set(name, ok);
          }
          if (!ok) {
            ctx.error('rego_type_error', loc, `undefined function ${name}`);
            return;
          }
          if (misfit) return;
          const params = functions.get(name);
          if (params !== undefined) misfit = !fitsArity(operands, params, true, nested);
          else {
            const decl = builtin(name)?.decl as FunctionDecl | undefined;
            if (decl && !decl.variadic) misfit = !fitsArity(operands, (decl.args ?? []).length, decl.result !== undefined, nested);
          }
        });
      }
    }
    if (misfit) reportArityMismatches(ctx);
  },
};
