// Builtins on known arguments, for the partial evaluator: a builtin with a host implementation runs it, given its
// operands as the host boundary of a compiled module gives them; a builtin the wasm runtime implements runs in the
// runtime itself (src/wasm/runtime-calls.ts) when it has no host implementation or when an operand holds a number
// a double cannot hold (1e400 > 1e399), so arithmetic, rounding, aggregates and comparisons are exact here as in a
// decision. A builtin with neither is refused by name when its arguments are known (its call is kept residual when
// they are not).
import { builtinRegistry } from '../../builtins/registry.js';
import { KEEPS_NUMBER_TEXT, parseRegoValue, regoValueText } from '../../builtins/rego-value.js';
import { callRuntimeBuiltin } from '../../wasm/runtime-calls.js';
import { someNumberText } from '../../json/kinds.js';

type Impl = ((...args: unknown[]) => unknown) & { [KEEPS_NUMBER_TEXT]?: boolean };

const registered = new Map(builtinRegistry.map((b) => [b.name, b]));

export type BuiltinOutcome = { defined: true; value: unknown } | { defined: false } | { unsupported: true };

function run(name: string, args: unknown[]): unknown {
  const spec = registered.get(name);
  const host = spec?.host as Impl | undefined;
  // Scanning the operands costs what converting their terms to values (toValue) already did.
  const exact = args.some((a) => someNumberText(a, () => true));
  if (host && !(exact && spec?.runtime)) {
    // Unless it asks for number text, a host implementation gets doubles, as from a module.
    if (!exact || host[KEEPS_NUMBER_TEXT] === true) return host(...args);
    return host(...args.map((a) => parseRegoValue(regoValueText(a))));
  }
  return spec?.runtime ? callRuntimeBuiltin(spec.runtime, args) : UNSUPPORTED;
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
