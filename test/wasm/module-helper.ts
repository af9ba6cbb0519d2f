// Direct access to a compiled module's ABI exports, without the SDK, for runtime unit tests.
import { compilePlan } from '../../src/wasm/compile.js';
import type { Policy } from '../../src/ir/plan.js';

export interface RawModule {
  exports: Record<string, (...args: number[]) => number>;
  memory: WebAssembly.Memory;
  /** Parses JSON text inside the module; returns the value address or 0. */
  parse(json: string): number;
  dump(addr: number): string;
}

export const EMPTY_PLAN: Policy = { static: { strings: [] }, plans: { plans: [] }, funcs: { funcs: [] } };

export async function instantiate(plan: Policy = EMPTY_PLAN): Promise<RawModule> {
  const memory = new WebAssembly.Memory({ initial: 5 });
  const fail = (addr: number) => {
    throw new Error(`abort: ${readCString(memory, addr)}`);
  };
  const builtin = () => 0;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(compilePlan(plan))), {
    env: { memory, opa_abort: fail, opa_println: () => {}, opa_builtin0: builtin, opa_builtin1: builtin, opa_builtin2: builtin, opa_builtin3: builtin, opa_builtin4: builtin },
  });
  const exports = instance.exports as unknown as RawModule['exports'];
  return {
    exports,
    memory,
    parse(json) {
      const bytes = new TextEncoder().encode(json);
      const at = exports.opa_malloc(bytes.length);
      new Uint8Array(memory.buffer, at, bytes.length).set(bytes);
      return exports.opa_json_parse(at, bytes.length);
    },
    dump(addr) {
      return readCString(memory, exports.opa_json_dump(addr));
    },
  };
}

export function readCString(memory: WebAssembly.Memory, addr: number): string {
  const bytes = new Uint8Array(memory.buffer);
  let end = addr;
  while (bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(addr, end));
}
