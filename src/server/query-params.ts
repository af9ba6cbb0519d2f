// Data and Query API parameters Verdict does not honour are refused by name rather than accepted and
// dropped: the policy runs as compiled wasm, which keeps no evaluation trace (explain) and no per-operation
// profile (instrument).
import { invalidParameter } from './errors.js';
import { boolParam } from './respond.js';

const reasons: Record<string, string> = {
  explain: 'Verdict evaluates compiled policies and keeps no evaluation trace',
  instrument: 'Verdict evaluates compiled policies and keeps no per-operation profile',
};

/** Throws a 400 naming the first parameter asked for that Verdict cannot honour. */
export function refuseUnsupportedParams(query: URLSearchParams): void {
  const explain = query.get('explain');
  if (explain !== null && explain !== 'off') throw unsupported('explain');
  if (boolParam(query, 'instrument')) throw unsupported('instrument');
}

function unsupported(name: string) {
  return invalidParameter(`parameter "${name}" is not supported: ${reasons[name]}`);
}
