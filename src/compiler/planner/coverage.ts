// Coverage instrumentation. A plan made with cover points calls the host builtin COVER_BUILTIN with the id of a
// source span whenever evaluation reaches a body expression, and with the head's span when a rule's body has
// succeeded: the same two moments at which OPA's coverage tracer records a line (an expression's Eval event,
// a rule's Exit event). The builtin declares no result, so the call never fails the body it sits in.
import type { Location, Rule } from '../ast.js';
import type { BuiltinDecl } from './statics.js';
import type { Ctx } from './context.js';
import { local } from './emitter.js';

export const COVER_BUILTIN = 'internal.verdict_cover';

const coverDecl: BuiltinDecl = { type: 'function', args: [{ type: 'number' }] };

/** The spans a plan reports, numbered in the order the planner meets them. */
export class CoverPoints {
  readonly spans: Location[] = [];
  private readonly ids = new Map<string, number>();

  id(loc: Location): number {
    const key = `${loc.file}\0${loc.offset}\0${loc.end}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.spans.length;
      this.spans.push(loc);
      this.ids.set(key, id);
    }
    return id;
  }
}

/** The builtin table with the cover builtin added (it is never visible to policies: the checker does not know it). */
export function withCoverBuiltin(builtins: ReadonlyMap<string, BuiltinDecl>): ReadonlyMap<string, BuiltinDecl> {
  return new Map([...builtins, [COVER_BUILTIN, coverDecl]]);
}

/** Emits the call that records `loc` as evaluated, when the plan is instrumented. */
export function markCovered(c: Ctx, loc: Location): void {
  if (!c.cover || !loc.file) return;
  const id = c.e.local();
  c.e.emit('MakeNumberIntStmt', { value: c.cover.id(loc), target: id });
  c.e.statics.useBuiltin(COVER_BUILTIN);
  c.e.emit('CallStmt', { func: COVER_BUILTIN, args: [local(id)], result: c.e.local() });
}

/**
 * The span OPA reports for a rule's head: the head as written, an `else` with its value (`else := 0`), and for
 * a default rule also the `default` keyword (the span of its implied body).
 */
export function headSpans(rule: Rule, isElse: boolean): Location[] {
  const head = isElse && rule.head.value ? { ...rule.head.loc, end: rule.head.value.loc.end } : rule.head.loc;
  return rule.default ? [{ ...rule.loc, end: rule.loc.offset + 'default'.length }, head] : [head];
}
