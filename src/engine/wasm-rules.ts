// Rules shipped only inside a bundle's policy.wasm (`opa build -t wasm` strips the entrypoint rules from the
// Rego it ships) made visible to a Query API query, as OPA's wasm resolvers make them: each such entrypoint is
// evaluated with the query's input and given to the query's compile as a constant rule at its path. A rule
// that is undefined for that input is left out, so the query sees it undefined.
import type { RegoModule } from '../bundle/bundle.js';
import { writeJson } from '../json/writer.js';
import { isIdentifier } from '../compiler/rego-text.js';
import type { WasmProgram } from './program.js';


/**
 * One module per entrypoint (`x/allow` → `package x` with `allow := <value>`). Entrypoints whose path is not
 * made of Rego identifiers, or that sit at the root, cannot be written as a rule and are not given.
 */
export function wasmRuleModules(rules: { name: string; program: WasmProgram }[], input: Uint8Array | undefined): RegoModule[] {
  const modules: RegoModule[] = [];
  for (const { name, program } of rules) {
    const segments = name.split('/').filter((s) => s !== '');
    if (segments.length < 2 || !segments.every((s) => isIdentifier(s))) continue;
    const rs = program.evaluate(name, input);
    if (rs.length === 0) continue;
    const packagePath = segments.slice(0, -1);
    modules.push({
      path: `wasm-entrypoint/${name}.rego`,
      source: `package ${packagePath.join('.')}\n\n${segments[segments.length - 1]} := ${writeJson(rs[0].result)}\n`,
      packagePath,
    });
  }
  return modules;
}
