// --planner verdict: a case's modules plus the runner's query module, through our parser, compile stages and
// planner, with the builtin declarations of the same capabilities file the OPA builds use.
import { readFileSync } from 'node:fs';
import { BINDINGS_ENTRYPOINT, queryModule, type BuildSettings } from './build.js';
import type { ConformanceCase } from './cases.js';
import type { PlanCase } from './run-case.js';
import type { RegoFile } from '../../src/compiler/compile-rego.js';

export async function ourPlanner(settings: BuildSettings): Promise<PlanCase> {
  const { builtinTable, deprecatedBuiltins, planRego, RegoCompileError } = await import('../../src/compiler/compile-rego.js');
  const capabilities = JSON.parse(readFileSync(settings.capabilities, 'utf8'));
  const builtins = builtinTable(capabilities);
  const deprecated = deprecatedBuiltins(capabilities);
  return (c: ConformanceCase) => {
    const files: RegoFile[] = (c.modules ?? []).map((source, i) => ({ path: `module-${i}.rego`, source }));
    files.push({ path: 'query.rego', source: queryModule(c), query: true });
    try {
      return { plan: planRego(files, [BINDINGS_ENTRYPOINT], { builtins, deprecated, regoVersion: settings.suite }) };
    } catch (e) {
      if (e instanceof RegoCompileError) return { errors: e.errors };
      throw e;
    }
  };
}
