// OPA's ?instrument for Verdict. The compiled policy has none of the evaluator operations OPA times, so the
// request is evaluated a second time by the interpreter that explains evaluations (../partial/), which times
// its own operations: plug (filling bound variables into a rule's value), resolve (reading input or base data into the
// evaluation), rule_index (selecting the rules a reference enters) and builtin_call (a builtin's own work),
// and counts its caches of rule values and of base data read.
// The figures describe that evaluation; the caller checks it reached the compiled policy's answer before
// reporting them (instrumentedAgrees). Histograms have OPA's fields, computed from every sample.
import type { Body, Term } from '../ast.js';
import type { CompileRegoOptions, RegoFile } from '../compile-rego.js';
import { compileQuery } from '../partial/index.js';
import { PartialEvalError, PartialEvaluator, plug, type EvalInstrument } from '../partial/evaluator.js';
import { isGround, toValue, valuesEqual } from '../partial/values.js';
import { ExplainUnsupported, capturedQuery, dataQuery, type ExplainRequest } from './index.js';
import { histogramSummary } from '../../histogram-summary.js';

export type EvalOp = 'plug' | 'resolve' | 'rule_index' | 'builtin_call';

export interface Instrumented {
  /** OPA's names: counter_eval_op_{virtual,base}_cache_{hit,miss}, histogram_eval_op_<op>, timer_eval_op_<op>_ns. */
  metrics: Record<string, unknown>;
  /** What the interpreter answered: the document at the path, or each solution's bindings of the query's variables. */
  solutions: Array<Map<string, unknown>>;
}

/** Evaluates the request with the interpreter, timing its operations. Throws ExplainUnsupported. */
export function instrumentEvaluation(files: RegoFile[], request: ExplainRequest, options: CompileRegoOptions): Instrumented {
  const compiled = compileQuery(files, request.query ?? 'true', options);
  const body: Body = request.path ? [dataQuery(request.path)] : capturedQuery(compiled.body);
  const samples = new Map<EvalOp, number[]>();
  const counters = new Map<string, number>();
  const instrument: EvalInstrument = {
    time(op, run) {
      const started = process.hrtime.bigint();
      try {
        return run();
      } finally {
        const ns = Number(process.hrtime.bigint() - started);
        const list = samples.get(op);
        if (list) list.push(ns);
        else samples.set(op, [ns]);
      }
    },
    count(counter) {
      counters.set(counter, (counters.get(counter) ?? 0) + 1);
    },
  };
  const evaluator = new PartialEvaluator(compiled.modules, { unknowns: [], disableInlining: [], input: request.input, data: request.data, tracer: () => undefined, instrument });
  let envs: ReturnType<PartialEvaluator['explain']>;
  try {
    envs = evaluator.explain(body);
  } catch (err) {
    if (err instanceof PartialEvalError && err.code === 'partial_eval_unsupported') throw new ExplainUnsupported(err.message.replace(/partial evaluation|explain/g, 'the evaluator that instruments'));
    if (err instanceof PartialEvalError) throw new ExplainUnsupported(`the evaluator that instruments stopped at an evaluation error: ${err.message}`);
    throw err;
  }
  const solutions = envs.map((env) => bindings(env, compiled.localNames, instrument));
  const metrics: Record<string, unknown> = {};
  for (const [name, n] of counters) metrics[`counter_eval_op_${name}`] = n;
  for (const [op, list] of samples) {
    metrics[`histogram_eval_op_${op}`] = histogramSummary(list);
    metrics[`timer_eval_op_${op}_ns`] = list.reduce((a, b) => a + b, 0);
  }
  return { metrics, solutions };
}

/** A solution's bound variables by the names the query gave them (generated names mapped back); plugging them is timed. */
function bindings(env: ReadonlyMap<string, Term>, localNames: ReadonlyMap<string, string>, instrument: EvalInstrument): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [name, term] of env) {
    const value = instrument.time('plug', () => plug(term, env as Map<string, Term>));
    if (!isGround(value)) continue;
    out.set(localNames.get(name) ?? name, toValue(value));
  }
  return out;
}

/**
 * True when the interpreter reached the compiled policy's answer: for a data path, `$term1` of its solution is
 * the result (undefined for no solution); for a query, every row is one solution's bindings, as many as there are.
 */
export function instrumentedAgrees(instrumented: Instrumented, answer: { path: true; defined: boolean; result?: unknown } | { path: false; rows: Record<string, unknown>[] }): boolean {
  const { solutions } = instrumented;
  if (answer.path) {
    if (!answer.defined) return solutions.length === 0;
    return solutions.length === 1 && solutions[0]!.has('$term1') && valuesEqual(solutions[0]!.get('$term1'), answer.result);
  }
  if (solutions.length !== answer.rows.length) return false;
  const unmatched = [...solutions];
  return answer.rows.every((row) => {
    const i = unmatched.findIndex((s) => Object.entries(row).every(([name, value]) => s.has(name) && valuesEqual(s.get(name), value)));
    return i >= 0 && unmatched.splice(i, 1).length === 1;
  });
}

