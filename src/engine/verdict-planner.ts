// RegoPlanner on our own compiler (src/compiler): parse, compile stages and planner in-process, no OPA needed.
// Every rule (not function) under the modules' packages is an entrypoint, as with the OPA planner, and so is
// every path above them (packages and their parents: one evaluation answers /v1/data/<package>); compile
// errors come back as the engine's RegoCompileError with OPA's codes and locations in the modules' own names.
import type { RegoModule } from '../bundle/bundle.js';
import { verdictBuiltins, verdictDeprecated } from '../compiler/builtins.js';
import { RegoCompileError as CompilerError, checkRego } from '../compiler/compile-rego.js';
import { PlanError, planModules } from '../compiler/planner/index.js';
import type { Module, Term } from '../compiler/ast.js';
import { isLocated } from '../compiler/errors.js';
import { NoRulesError, RegoCompileError, packagesAbove, type PlannedPolicy, type RegoPlanner } from './compiler.js';

export class VerdictPlanner implements RegoPlanner {
  async plan(modules: RegoModule[], options: { regoVersion: 0 | 1 }): Promise<PlannedPolicy> {
    const files = modules.map((m) => ({ path: m.path, source: m.source, ...(m.query ? { query: m.query } : {}) }));
    let checked: Module[];
    try {
      checked = checkRego(files, { builtins: verdictBuiltins, deprecated: verdictDeprecated, regoVersion: options.regoVersion === 0 ? 'v0' : 'v1' });
    } catch (err) {
      if (!(err instanceof CompilerError)) throw err;
      throw new RegoCompileError(
        'error(s) occurred while compiling module(s)',
        err.errors.map((e) => ({ code: e.code, message: e.message, ...(isLocated(e.location) ? { location: { ...e.location } } : {}), ...(e.details ? { details: { ...e.details } } : {}) })),
      );
    }
    const entrypoints = [...new Set(checked.flatMap(entrypointsOf))].sort();
    if (entrypoints.length === 0) throw new NoRulesError();
    const packages = packagesAbove(entrypoints);
    try {
      return { plan: planModules(checked, [...entrypoints, ...packages], verdictBuiltins), entrypoints, packages };
    } catch (err) {
      if (err instanceof PlanError) throw new RegoCompileError(`planning failed: ${err.message}`);
      throw err;
    }
  }
}

/** Every rule of a module (not functions), as its package plus the static prefix of its head reference. */
function entrypointsOf(module: Module): string[] {
  const pkg = module.package.path.slice(1).map(name);
  const paths: string[] = [];
  for (const rule of module.rules) {
    if ((rule.head.args?.length ?? 0) > 0 || rule.head.ref.length === 0) continue;
    const [first, ...rest] = rule.head.ref;
    const segments = [name(first!)];
    for (const term of rest) {
      if (term.type !== 'string') break;
      segments.push(term.value);
    }
    paths.push([...pkg, ...segments].join('/'));
  }
  return paths;
}

function name(t: Term): string {
  return t.type === 'var' || t.type === 'string' ? t.value : '';
}
