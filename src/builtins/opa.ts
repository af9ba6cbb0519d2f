// opa.runtime: OPA answers {} when it runs without runtime information (no config, env or version
// document), which is Verdict's situation until the server wires its runtime document in.
import type { HostBuiltinTable } from './args.js';

export const opaBuiltins: HostBuiltinTable = {
  'opa.runtime': () => ({}),
};
