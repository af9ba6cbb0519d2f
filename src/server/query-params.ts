// Data and Query API parameters Verdict does not honour are refused by name rather than accepted and
// dropped: the policy runs as compiled wasm, which has none of the evaluator operations and compile stages
// OPA's instrumentation times (instrument). The interpreter that explains evaluations (explain.ts) follows the
// evaluation but is not the one that answers, so its timings would not be the decision's.
import { invalidParameter } from './errors.js';
import { boolParam } from './respond.js';

const reasons: Record<string, string> = {
  instrument: "OPA's instrumentation times its evaluator's operations (plug, resolve, rule index, builtin calls) and compile stages, which a compiled policy does not go through; ?metrics gives the timers Verdict has",
};

/** Throws a 400 naming the first parameter asked for that Verdict cannot honour. */
export function refuseUnsupportedParams(query: URLSearchParams): void {
  if (boolParam(query, 'instrument')) throw unsupported('instrument');
}

function unsupported(name: string) {
  return invalidParameter(`parameter "${name}" is not supported: ${reasons[name]}`);
}
