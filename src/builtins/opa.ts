// opa.runtime and trace. OPA answers opa.runtime with {} when it runs without runtime information (no
// config, env or version document), which is Verdict's situation until the server wires its runtime
// document in. trace adds a note to a query explanation, which wasm evaluation does not produce; it is
// always true.
import { str } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

export const opaBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'opa.runtime',
    decl: fn([], arg('output', t.objectOf(t.string, t.any))),
    nondeterministic: true,
    host: () => ({}),
  },
  {
    name: 'trace',
    decl: fn([arg('note', t.string)], arg('result', t.boolean)),
    categories: ['tracing'],
    host: (note: unknown) => {
      str('trace', 1, note);
      return true;
    },
  },
];
