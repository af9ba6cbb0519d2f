// Query explanations (OPA's `explain`): the query is evaluated a second time, by the interpreter in
// ../partial/ with a tracer and no unknowns, and the events it reports are filtered as OPA filters them
// (notes: trace() notes and where they were emitted; fails: failed expressions and where they failed; full and
// debug: every event). The answer itself always comes from the compiled policy; the explanation only
// describes the evaluation. A construct the interpreter does not follow is refused (ExplainUnsupported) rather
// than explained wrongly.
import type { Body, Location, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { exprOperator } from '../walk.js';
import { builtinArity } from '../partial/builtin-calls.js';
import type { CompileRegoOptions, RegoFile } from '../compile-rego.js';
import { compileQuery, queryLocation } from '../partial/index.js';
import { PartialEvalError, PartialEvaluator, type TraceEvent } from '../partial/evaluator.js';
import { ExplainUnsupported, type ExplainMode } from './modes.js';

export interface ExplainRequest {
  /** A query's text (Query API, verdict eval) … */
  query?: string;
  /** … or the data path the Data API asks for (`data.<path> = _`). */
  path?: string[];
  input: unknown;
  data: unknown;
}

/** One event of an explanation, with what its printed forms need. */
export interface ExplainEvent extends TraceEvent {
  /** Nesting depth of the event in the text form. */
  depth: number;
  localNames: ReadonlyMap<string, string>;
}

const DATA_QUERY_LOC: Location = { file: '', row: 1, col: 1, offset: 0, end: 0 };

/** Evaluates the request with a tracer and returns the events `mode` keeps. Throws ExplainUnsupported. */
export function explain(files: RegoFile[], request: ExplainRequest, mode: ExplainMode, options: CompileRegoOptions): ExplainEvent[] {
  const compiled = compileQuery(files, request.query ?? 'true', options);
  const body: Body = request.path ? [dataQuery(request.path)] : capturedQuery(compiled.body);
  const events: TraceEvent[] = [];
  const evaluator = new PartialEvaluator(compiled.modules, { unknowns: [], disableInlining: [], input: request.input, data: request.data, tracer: (e) => events.push({ ...e, location: queryLocation(e.location) }) });
  try {
    evaluator.explain(body);
  } catch (err) {
    if (err instanceof PartialEvalError && err.code === 'partial_eval_unsupported') {
      throw new ExplainUnsupported(err.message.replace(/partial evaluation/g, 'explain'), err.location && queryLocation(err.location));
    }
    if (err instanceof PartialEvalError) throw new ExplainUnsupported(`explain stopped at an evaluation error: ${err.message}`, err.location && queryLocation(err.location));
    throw err;
  }
  const depths = new Map<number, number>([[0, 0]]);
  const out = events.map((e): ExplainEvent => {
    if (!depths.has(e.query)) depths.set(e.query, (depths.get(e.parent) ?? 0) + 1);
    const depth = depths.get(e.query)! + (e.node?.kind === 'expr' || e.op === 'note' || e.op === 'index' || e.op === 'exit' ? 1 : 0);
    return { ...e, depth, localNames: compiled.localNames };
  });
  switch (mode) {
    case 'notes': return lineage(out, (e) => e.op === 'note');
    case 'fails': return lineage(out, (e) => e.op === 'fail');
    // Unify events are debug's alone, as in OPA.
    case 'full': return out.filter((e) => e.op !== 'unify');
    case 'debug': return out;
  }
}

/** `data.<path> = $term1`, the query OPA's Data API evaluates. */
export function dataQuery(path: string[]): Body[number] {
  const loc = DATA_QUERY_LOC;
  const ref: Term = { type: 'ref', value: [{ type: 'var', value: 'data', loc }, ...path.map((s): Term => ({ type: 'string', value: s, loc }))], loc };
  return { index: 0, terms: [{ type: 'ref', value: [{ type: 'var', value: 'eq', loc }], loc }, ref, { type: 'var', value: '$term1', loc }], loc };
}

/**
 * The query as OPA evaluates it to report each expression's value: a lone term `t` becomes `t = $termN`, a
 * builtin test `f(a, b)` becomes `f(a, b, $termN); $termN`. Unifications stay as they are.
 */
export function capturedQuery(body: Body): Body {
  const out: Body = [];
  let n = 0;
  const capture = (loc: Location): Term => ({ type: 'var', value: `$term${++n}`, loc });
  for (const e of body) {
    const op = (loc: Location, name: string): Term => ({ type: 'ref', value: [{ type: 'var', value: name, loc }], loc });
    if (e.negated || (e.with && e.with.length > 0)) out.push(e);
    else if (isTerm(e.terms) && e.terms.type !== 'call') out.push({ ...e, terms: [op(e.loc, 'eq'), e.terms, capture(e.loc)] });
    else if (Array.isArray(e.terms) && !['eq', 'assign'].includes(exprOperator(e)) && builtinArity(exprOperator(e))?.arity === e.terms.length - 1) {
      const v = capture(e.loc);
      out.push({ ...e, terms: [...e.terms, v] }, { index: 0, terms: v, loc: e.loc });
    } else out.push(e);
  }
  return out.map((e, index) => ({ ...e, index }));
}

/**
 * The events `keep` selects, each preceded by its context: for every query from the root down to the event's
 * own, the latest Enter or Redo of that query's body (once each), as OPA's notes and fails filters give them.
 */
function lineage(events: ExplainEvent[], keep: (e: ExplainEvent) => boolean): ExplainEvent[] {
  const latest = new Map<number, ExplainEvent>();
  const shown = new Set<ExplainEvent>();
  const out: ExplainEvent[] = [];
  for (const e of events) {
    if ((e.op === 'enter' || e.op === 'redo') && e.node?.kind !== 'expr') latest.set(e.query, e);
    if (!keep(e)) continue;
    const path: ExplainEvent[] = [e];
    for (let q = e.query; ; ) {
      const anchor = latest.get(q);
      if (anchor) path.push(anchor);
      const parent = e.query === q ? e.parent : anchor?.parent ?? 0;
      if (q === 0 || parent === q) break;
      q = parent;
    }
    for (const p of path.reverse()) {
      if (shown.has(p)) continue;
      shown.add(p);
      out.push(p);
    }
  }
  return out;
}

export { EXPLAIN_MODES, ExplainUnsupported, isExplainMode, type ExplainMode } from './modes.js';
export { explanationJson, explanationText, evalExplanationJson } from './format.js';
