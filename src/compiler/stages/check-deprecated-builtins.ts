// CheckDeprecatedBuiltins: a Rego v1 module may not call a builtin OPA marks deprecated (`any`, `cast_array`,
// `re_match`, ...); v0 modules still may (except in strict mode), and so may queries. OPA reports each call as a rego_type_error
// "deprecated built-in function calls in expression: NAME" at the call.
import { callName, forEachCallInRule } from '../walk.js';
import type { CompileContext, Stage } from './context.js';

export const checkDeprecatedBuiltins: Stage = {
  name: 'CheckDeprecatedBuiltins',
  run(ctx: CompileContext) {
    const builtin = ctx.options.builtin;
    if (!builtin) return;
    for (const m of ctx.policyModules) {
      if (m.regoVersion !== 'v1' && !ctx.options.strict) continue;
      for (const rule of m.rules) {
        forEachCallInRule(rule, (op, loc) => {
          const name = callName(op);
          if (name !== undefined && builtin(name)?.deprecated) {
            ctx.error('rego_type_error', loc, `deprecated built-in function calls in expression: ${name}`);
          }
        });
      }
    }
  },
};
