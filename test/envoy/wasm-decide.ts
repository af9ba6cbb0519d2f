// A real Decide for tests: the policy is compiled by Verdict's own compiler (Rego → plan → wasm) and evaluated
// in our wasm host with the host builtins, the path every Verdict decision takes.
import { hostBuiltins } from '../../src/builtins/index.js';
import { verdictBuiltins, verdictDeprecated } from '../../src/compiler/builtins.js';
import { compileRego } from '../../src/compiler/compile-rego.js';
import type { Decide } from '../../src/engine/engine.js';
import { loadPolicy } from '../../src/engine/wasm-host.js';

export async function wasmDecide(rego: string, entrypoints: string[]): Promise<Decide> {
  const wasm = compileRego([{ path: 'policy.rego', source: rego }], entrypoints, { builtins: verdictBuiltins, deprecated: verdictDeprecated });
  const policy = await loadPolicy(wasm, hostBuiltins);
  policy.setData({});
  return async (path, input) => {
    const results = policy.evaluate(input, path) as { result: unknown }[];
    return results.length === 0 ? {} : { result: results[0].result };
  };
}
