// The host's builtin import table: the builtins a Rego wasm module imports from its host because they are not
// answered inside the module, taken from the registry's entries that have a host implementation.
// Values cross the boundary as Rego value text (src/engine/wasm-host.ts): sets arrive as RegoSet arrays,
// non-string object keys as their JSON text.
import { BuiltinError, type HostBuiltin } from './args.js';
import { KEEPS_NUMBER_TEXT } from './rego-value.js';
import { noteBuiltinFailure } from './failures.js';
import { builtinRegistry } from './registry.js';

export type { HostBuiltin } from './args.js';

/**
 * OPA's wasm target is non-strict: a builtin error makes the call undefined instead of failing the
 * evaluation (the SDK would abort the whole evaluation on a throw). The error is noted for strict callers.
 */
function undefinedOnError(name: string, fn: HostBuiltin): HostBuiltin {
  const wrapped = (...args: unknown[]) => {
    try {
      return fn(...args);
    } catch (err) {
      noteBuiltinFailure(name, err);
      return undefined;
    }
  };
  // The host reads this mark off the function it calls.
  return Object.assign(wrapped, { [KEEPS_NUMBER_TEXT]: (fn as { [KEEPS_NUMBER_TEXT]?: boolean })[KEEPS_NUMBER_TEXT] });
}

/**
 * Not wrapped: http.send aborts evaluations on purpose (NeedsResponse, see http-send/session.ts) and answers
 * undefined itself where OPA's call is undefined.
 */
const ABORTS_ON_PURPOSE: ReadonlySet<string> = new Set(['http.send']);

export const hostBuiltins: Record<string, HostBuiltin> = Object.fromEntries(
  builtinRegistry.flatMap(({ name, host }) => (host ? [[name, ABORTS_ON_PURPOSE.has(name) ? host : undefinedOnError(name, host)]] : [])),
);

/**
 * The table under a capabilities document's allow_net (OPA's): net.lookup_ip_addr may resolve only the names
 * listed, as OPA refuses any other with "disallowed host". Without allow_net, every name.
 */
export function hostBuiltinsAllowingNet(allowNet: readonly string[] | undefined): Record<string, HostBuiltin> {
  if (allowNet === undefined) return hostBuiltins;
  const name = 'net.lookup_ip_addr';
  const lookup = builtinRegistry.find((b) => b.name === name)!.host!;
  const gated: HostBuiltin = (host: unknown, ...rest: unknown[]) => {
    if (typeof host === 'string' && !allowNet.includes(host)) throw new BuiltinError(name, `disallowed host: ${host}`);
    return lookup(host, ...rest);
  };
  return { ...hostBuiltins, [name]: undefinedOnError(name, gated) };
}
