// `--capabilities FILE|VERSION`, which `verdict check`, `eval`, `build` and `test` take as their OPA counterparts
// do: the policies are compiled against the builtins and language features of a capabilities document (as
// `opa capabilities` prints it) instead of Verdict's own.
import { CapabilitiesError, compileOptionsFor, loadCapabilities } from '../builtins/capabilities.js';
import { verdictBuiltins, verdictDeprecated } from '../compiler/builtins.js';
import type { CompileRegoOptions } from '../compiler/compile-rego.js';
import { FlagError, type FlagSpec, type FlagValues } from './flags.js';

export const capabilitiesFlag = {
  capabilities: {
    type: 'string',
    value: 'FILE',
    help: 'compile against the builtins and features of a capabilities file (as opa capabilities prints it) instead of Verdict\'s',
  },
} satisfies Record<string, FlagSpec>;

/** The builtins and features a command compiles against, and the hosts its evaluations may reach. */
export type CompileCapabilities = Pick<CompileRegoOptions, 'builtins' | 'deprecated' | 'features' | 'futureKeywords'> & {
  /** allow_net: the hosts http.send and net.lookup_ip_addr may reach; undefined: any. */
  allowNet?: readonly string[];
};

/** Verdict's own: every builtin it runs, every feature its parser reads. */
export const verdictCompileCapabilities: CompileCapabilities = { builtins: verdictBuiltins, deprecated: verdictDeprecated };

/**
 * The capabilities the --capabilities flag names, else Verdict's. A file that cannot be read or is not a
 * capabilities document is a FlagError with exit code 1, as OPA rejects the flag's value.
 */
export function capabilitiesOption(values: { capabilities?: FlagValues[string] }): CompileCapabilities {
  const arg = values.capabilities as string | undefined;
  if (arg === undefined) return verdictCompileCapabilities;
  try {
    const capabilities = loadCapabilities(arg);
    const allowNet = capabilities.allow_net ?? undefined;
    // OPA compares a request's host name with each entry as text; Verdict's host matching reads `*.` as a
    // wildcard and `:port` as a port, so entries with either would not mean what they mean to OPA.
    const odd = allowNet?.find((host) => /[*:/\[\]]/.test(host) || host === '');
    if (odd !== undefined) throw new CapabilitiesError(`allow_net entry "${odd}": Verdict matches host names and IPv4 addresses only`);
    return { ...compileOptionsFor(capabilities), ...(allowNet ? { allowNet } : {}) };
  } catch (err) {
    if (err instanceof CapabilitiesError) throw new FlagError(`--capabilities ${arg}: ${err.message}`, 1);
    throw err;
  }
}
