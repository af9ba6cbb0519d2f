// numbers.range_step and rand.intn.
import { randomInt } from 'node:crypto';
import { BuiltinError, int, str, type HostBuiltinTable } from './args.js';
import { perEvaluation } from './per-evaluation.js';

/** Every step-th integer from a towards b, both ends included when reached; descending when a > b. */
function rangeStep(a: unknown, b: unknown, s: unknown): number[] {
  const name = 'numbers.range_step';
  const from = int(name, 1, a);
  const to = int(name, 2, b);
  const step = int(name, 3, s);
  if (step <= 0) throw new BuiltinError(name, 'step must be a positive integer');
  const out: number[] = [];
  if (from <= to) for (let i = from; i <= to; i += step) out.push(i);
  else for (let i = from; i >= to; i -= step) out.push(i);
  return out;
}

/** A random integer in [0, |n|), the same for the same key and n within one evaluation. */
function randIntn(key: unknown, n: unknown): number {
  const name = 'rand.intn';
  const k = str(name, 1, key);
  const bound = Math.abs(int(name, 2, n));
  if (bound === 0) return 0;
  return perEvaluation(name, [k, n], () => randomInt(bound));
}

export const numbersBuiltins: HostBuiltinTable = {
  'numbers.range_step': rangeStep,
  'rand.intn': randIntn,
};
