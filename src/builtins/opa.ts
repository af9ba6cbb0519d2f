// opa.runtime and trace. OPA answers opa.runtime with {} when it runs without runtime information (no
// config, env or version document), which is Verdict's situation until the server wires its runtime
// document in. trace adds a note to a query explanation, which wasm evaluation does not produce; it is
// always true.
import { str, type HostBuiltinTable } from './args.js';

export const opaBuiltins: HostBuiltinTable = {
  'opa.runtime': () => ({}),
  trace: (note: unknown) => {
    str('trace', 1, note);
    return true;
  },
};
