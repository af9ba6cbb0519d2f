// The seams between the engine and whatever turns Rego source into a wasm module. A RegoCompiler is
// planning (Rego → OPA IR plan, a RegoPlanner) followed by our back end (plan → wasm, src/wasm). Our own
// planner (src/compiler, verdict-planner.ts) is the default; opa-compiler.ts can plan with the reference OPA
// (`opa build -t plan`) instead. Swapping planners changes nothing else: the engine never knows which it has.
import type { RegoModule } from '../bundle/bundle.js';
import type { Policy } from '../ir/plan.js';
import { PlanError, compilePlan } from '../wasm/compile.js';
import { RegoCompileError } from './compile-error.js';

export interface CompiledPolicy {
  /** A wasm module following OPA's ABI, loadable with opa-wasm's loadPolicy. */
  wasm: Uint8Array;
  /** Slash-separated rule paths the module can evaluate, e.g. "gateway/authz/allow". */
  entrypoints: string[];
  /**
   * Paths above the rules (packages and their parents, e.g. "gateway/authz", "gateway") the module also
   * evaluates as entrypoints, each building the whole document there (rules and base data) in one evaluation.
   */
  packages: string[];
}

export { RegoCompileError, type CompileErrorDetail } from './compile-error.js';

export interface RegoCompiler {
  /** Compiles every module together, with every rule (not function) as an entrypoint. */
  compile(modules: RegoModule[], options: { regoVersion: 0 | 1 }): Promise<CompiledPolicy>;
}

/** Turns Rego modules into one OPA IR plan with every rule (not function) as an entrypoint. */
export interface RegoPlanner {
  plan(modules: RegoModule[], options: { regoVersion: 0 | 1 }): Promise<PlannedPolicy>;
}

export interface PlannedPolicy {
  /** The JSON of `opa build -t plan`. */
  plan: Policy;
  /** Slash-separated rule paths planned as entrypoints. */
  entrypoints: string[];
  /** Paths above the rules planned as entrypoints too (see CompiledPolicy.packages). */
  packages: string[];
}

/** The paths strictly above the rule paths (all their proper prefixes, the root excluded) that are not rules themselves. */
export function packagesAbove(entrypoints: string[]): string[] {
  const rules = new Set(entrypoints);
  const packages = new Set<string>();
  for (const name of entrypoints) {
    const segments = name.split('/');
    for (let n = 1; n < segments.length; n++) {
      const prefix = segments.slice(0, n).join('/');
      if (!rules.has(prefix)) packages.add(prefix);
    }
  }
  return [...packages].sort();
}

/** Plans with the given planner and compiles the plan with our wasm back end (src/wasm). */
export class PlanningCompiler implements RegoCompiler {
  constructor(readonly planner: RegoPlanner) {}

  async compile(modules: RegoModule[], options: { regoVersion: 0 | 1 }): Promise<CompiledPolicy> {
    const { plan, entrypoints, packages } = await this.planner.plan(modules, options);
    try {
      return { wasm: compilePlan(plan), entrypoints, packages };
    } catch (err) {
      if (err instanceof PlanError) throw new RegoCompileError(`wasm code generation failed: ${err.message}`);
      throw err;
    }
  }
}

/** The modules compile but define no rules (only functions, or nothing): there is no module to build. */
export class NoRulesError extends RegoCompileError {
  constructor() {
    super('no rules to compile: the modules define only functions or nothing at all');
  }
}

/** This build has no Rego compiler (noCompiler). */
export class NoCompilerError extends RegoCompileError {}

/** Used when no compiler is available: bundles with only .rego files are refused with a clear error. */
export const noCompiler: RegoCompiler = {
  async compile(modules) {
    throw new NoCompilerError(
      `cannot compile ${modules.length} Rego module(s) (${modules.map((m) => m.path).join(', ')}): this build has no Rego compiler; ` +
        'ship the bundle with a policy.wasm (opa build -t wasm) or install the reference OPA (scripts/install-opa.sh, or set VERDICT_OPA)',
    );
  },
};
