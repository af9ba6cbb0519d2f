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

/** The builtins and features a command compiles against. */
export type CompileCapabilities = Pick<CompileRegoOptions, 'builtins' | 'deprecated' | 'features' | 'futureKeywords'>;

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
    return compileOptionsFor(loadCapabilities(arg));
  } catch (err) {
    if (err instanceof CapabilitiesError) throw new FlagError(`--capabilities ${arg}: ${err.message}`, 1);
    throw err;
  }
}
