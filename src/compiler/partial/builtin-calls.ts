// Builtins on known arguments, for the partial evaluator, answered by the code that answers them in compiled
// modules: a builtin the wasm runtime implements runs in the runtime itself (src/wasm/runtime-calls.ts), so
// numbers are exact there as in a decision; any other runs from the registry's host implementation, given its
// operands as the host boundary of a module gives them. A builtin with neither is refused by name when its
// arguments are known (its call is kept residual when they are not).
import { builtinRegistry } from '../../builtins/registry.js';
import { KEEPS_NUMBER_TEXT, parseRegoValue, regoValueText } from '../../builtins/rego-value.js';
import { callRuntimeBuiltin, runtimePredicate } from '../../wasm/runtime-calls.js';

type Impl = ((...args: unknown[]) => unknown) & { [KEEPS_NUMBER_TEXT]?: boolean };

const registered = new Map(builtinRegistry.map((b) => [b.name, b]));

export type BuiltinOutcome = { defined: true; value: unknown } | { defined: false } | { unsupported: true };

function run(name: string, args: unknown[]): unknown {
  const spec = registered.get(name);
  const host = spec?.host as Impl | undefined;
  if (spec?.runtime && !(host && spec.runtimeDefers && runtimePredicate(spec.runtimeDefers, args))) return callRuntimeBuiltin(spec.runtime, args);
  if (!host) return UNSUPPORTED;
  const keepsText = host[KEEPS_NUMBER_TEXT] === true;
  return host(...args.map((a) => parseRegoValue(regoValueText(a), keepsText)));
}

const UNSUPPORTED = Symbol('unsupported');

/** Runs builtin `name` on known arguments; an error (a wrong operand type, say) makes the call undefined. */
export function callBuiltin(name: string, args: unknown[]): BuiltinOutcome {
  try {
    const value = run(name, args);
    if (value === UNSUPPORTED) return { unsupported: true };
    return value === undefined ? { defined: false } : { defined: true, value };
  } catch {
    return { defined: false };
  }
}

/** Declared argument count of a builtin, or undefined for a name that is not one. */
export function builtinArity(name: string): { arity: number; variadic: boolean } | undefined {
  const spec = registered.get(name);
  return spec && { arity: spec.decl.args?.length ?? 0, variadic: spec.decl.variadic !== undefined };
}
