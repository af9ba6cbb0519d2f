// How many arguments of its own a plan function takes, past input and data. OPA's IR does not say: a rule
// planned under a `with` that replaces a function by a computed value (`f with count as v`, v a local) takes
// the captured values as further parameters, so a rule can have as many parameters as a function. Our
// planner notes each function's own count here, beside the plan (which stays OPA's JSON); for a plan from
// elsewhere it is inferred from the plan.
import type { Func, Policy } from './plan.js';

const noted = new WeakMap<Func, number>();

/** Records that `f` (a function of our planner's plan) takes `args` arguments of its own. */
export function noteArgs(f: Func, args: number): Func {
  noted.set(f, args);
  return f;
}

/**
 * Each function's own argument count, by name. Without a note, a generation's captured values are counted from
 * a function planned both in it and without mocks (generation 0, which captures nothing); failing that, every
 * parameter past input and data is taken for an argument.
 */
export function funcArgs(plan: Policy): Map<string, number> {
  const funcs = plan.funcs?.funcs ?? [];
  const generation = (f: Func) => /^g(\d+)\./.exec(f.name)?.[1];
  const unprefixed = (f: Func) => f.name.replace(/^g\d+\./, '');
  const base = new Map(funcs.filter((f) => generation(f) === '0').map((f) => [unprefixed(f), f.params.length]));
  const captured = new Map<string, number>([['0', 0]]);
  for (const f of funcs) {
    const g = generation(f);
    const params = base.get(unprefixed(f));
    if (g !== undefined && !captured.has(g) && params !== undefined) captured.set(g, f.params.length - params);
  }
  return new Map(funcs.map((f) => {
    const known = noted.get(f);
    const g = generation(f);
    return [f.name, known ?? f.params.length - 2 - (g === undefined ? 0 : captured.get(g) ?? 0)];
  }));
}
