// The number builtins: arithmetic, rounding, numbers.range and to_number are answered by the wasm runtime
// (src/wasm/runtime/builtins/arith.ts, collections.ts, strings.ts), in compiled modules and, through
// src/wasm/runtime-calls.ts, in the partial evaluator alike: one exact number model (bigint.ts, bigfloat.ts).
// numbers.range_step and rand.intn are the host's.
import { randomInt } from 'node:crypto';
import { BuiltinError, bigInt, exactInteger, int, str } from './args.js';
import { keepsNumberText } from './rego-value.js';
import { perEvaluation } from './per-evaluation.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

/** Every step-th integer from a towards b, both ends included when reached; descending when a > b. Exact at any size. */
const rangeStep = keepsNumberText((a: unknown, b: unknown, s: unknown): unknown[] => {
  const name = 'numbers.range_step';
  const from = bigInt(name, 1, a);
  const to = bigInt(name, 2, b);
  const step = bigInt(name, 3, s);
  if (step <= 0n) throw new BuiltinError(name, 'step must be a positive integer');
  const out: unknown[] = [];
  if (from <= to) for (let i = from; i <= to; i += step) out.push(exactInteger(i));
  else for (let i = from; i >= to; i -= step) out.push(exactInteger(i));
  return out;
});

/** A random integer in [0, |n|), the same for the same key and n within one evaluation. */
function randIntn(key: unknown, n: unknown): number {
  const name = 'rand.intn';
  const k = str(name, 1, key);
  const bound = Math.abs(int(name, 2, n));
  if (bound === 0) return 0;
  return perEvaluation(name, [k, n], () => randomInt(bound));
}

export const numbersBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'abs',
    decl: fn([arg('x', t.number)], arg('y', t.number)),
    categories: ['numbers'],
    runtime: 'b_abs',
  },
  {
    name: 'ceil',
    decl: fn([arg('x', t.number)], arg('y', t.number)),
    categories: ['numbers'],
    runtime: 'b_ceil',
  },
  {
    name: 'div',
    decl: fn([arg('x', t.number), arg('y', t.number)], arg('z', t.number)),
    infix: '/',
    categories: ['numbers'],
    runtime: 'b_div',
  },
  {
    name: 'floor',
    decl: fn([arg('x', t.number)], arg('y', t.number)),
    categories: ['numbers'],
    runtime: 'b_floor',
  },
  {
    name: 'minus',
    decl: fn([arg('x', t.anyOf(t.number, t.setOf(t.any))), arg('y', t.anyOf(t.number, t.setOf(t.any)))], arg('z', t.anyOf(t.number, t.setOf(t.any)))),
    infix: '-',
    categories: ['sets', 'numbers'],
    runtime: 'b_minus',
  },
  {
    name: 'mul',
    decl: fn([arg('x', t.number), arg('y', t.number)], arg('z', t.number)),
    infix: '*',
    categories: ['numbers'],
    runtime: 'b_mul',
  },
  {
    name: 'numbers.range',
    decl: fn([arg('a', t.number), arg('b', t.number)], arg('range', t.arrayOf(t.number))),
    runtime: 'b_numbers_range',
  },
  {
    name: 'numbers.range_step',
    decl: fn([arg('a', t.number), arg('b', t.number), arg('step', t.number)], arg('range', t.arrayOf(t.number))),
    host: rangeStep,
  },
  {
    name: 'plus',
    decl: fn([arg('x', t.number), arg('y', t.number)], arg('z', t.number)),
    infix: '+',
    categories: ['numbers'],
    runtime: 'b_plus',
  },
  {
    name: 'rand.intn',
    decl: fn([arg('str', t.string), arg('n', t.number)], arg('y', t.number)),
    nondeterministic: true,
    categories: ['numbers'],
    host: randIntn,
  },
  {
    name: 'rem',
    decl: fn([arg('x', t.number), arg('y', t.number)], arg('z', t.number)),
    infix: '%',
    categories: ['numbers'],
    runtime: 'b_rem',
  },
  {
    name: 'round',
    decl: fn([arg('x', t.number)], arg('y', t.number)),
    categories: ['numbers'],
    runtime: 'b_round',
  },
  {
    name: 'to_number',
    decl: fn([arg('value', t.anyOf(t.null, t.boolean, t.number, t.string))], arg('num', t.number)),
    categories: ['conversions'],
    runtime: 'b_to_number',
  },
];
