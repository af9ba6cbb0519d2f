// Builtins on known arguments, for the partial evaluator: every builtin runs from the builtin registry's host
// implementation (the one modules call through the host import). A builtin without one is refused by name when
// its arguments are known (its call is kept residual when they are not).
import { builtinRegistry } from '../../builtins/registry.js';

type Impl = (...args: unknown[]) => unknown;

const registered = new Map(builtinRegistry.map((b) => [b.name, b]));

export type BuiltinOutcome = { defined: true; value: unknown } | { defined: false } | { unsupported: true };

/** Runs builtin `name` on known arguments; an error (a wrong operand type, say) makes the call undefined. */
export function callBuiltin(name: string, args: unknown[]): BuiltinOutcome {
  const impl = registered.get(name)?.host as Impl | undefined;
  if (!impl) return { unsupported: true };
  try {
    const value = impl(...args);
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
