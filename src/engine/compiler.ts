// The seam between the engine and whatever turns Rego source into a wasm module. Our own compiler
// (src/compiler + src/wasm) implements it once it lands; until then opa-compiler.ts shells out to the
// reference OPA. The engine never knows which one it has.
import type { RegoModule } from '../bundle/bundle.js';

export interface CompiledPolicy {
  /** A wasm module following OPA's ABI, loadable with opa-wasm's loadPolicy. */
  wasm: Uint8Array;
  /** Slash-separated rule paths the module can evaluate, e.g. "gateway/authz/allow". */
  entrypoints: string[];
}

/** A compile failure with OPA-shaped details so the Policy API can report them as OPA does. */
export class RegoCompileError extends Error {
  override name = 'RegoCompileError';
  constructor(
    message: string,
    readonly errors: { code: string; message: string; location?: { file: string; row: number; col: number } }[] = [],
  ) {
    super(message);
  }
}

export interface RegoCompiler {
  /** Compiles every module together, with every rule (not function) as an entrypoint. */
  compile(modules: RegoModule[], options: { regoVersion: 0 | 1 }): Promise<CompiledPolicy>;
}

/** Used when no compiler is available: bundles with only .rego files are refused with a clear error. */
export const noCompiler: RegoCompiler = {
  async compile(modules) {
    throw new RegoCompileError(
      `cannot compile ${modules.length} Rego module(s) (${modules.map((m) => m.path).join(', ')}): this build has no Rego compiler; ` +
        'ship the bundle with a policy.wasm (opa build -t wasm) or install the reference OPA (scripts/install-opa.sh, or set VERDICT_OPA)',
    );
  },
};
