// Rule bodies and their expressions: unification, calls, negation, `every`, and/or bodies, and `with`.
import { isTerm, type Body, type Every, type Expr, type Term } from '../ast.js';
import { planCall, refName } from './calls.js';
import type { Ctx, K } from './context.js';
import { bool, local, PlanError } from './emitter.js';
import { isOutput, planTerm, planTerms, unify, unifyOp } from './terms.js';

export function planBody(c: Ctx, body: Body, k: K, i = 0): void {
  if (i === body.length) return k();
  planExpr(c, body[i]!, () => planBody(c, body, k, i + 1));
}

function planExpr(c: Ctx, e: Expr, k: K): void {
  c.e.loc = e.loc;
  if (e.with?.length) return planWith(c, e, k);
  if (e.negated) {
    const block = c.e.block(() => planPlain(c, e, () => {}));
    c.e.emit('NotStmt', { block });
    return k();
  }
  planPlain(c, e, k);
}

function truthy(c: Ctx, k: K) {
  return (op: Parameters<typeof unifyOp>[2]) => {
    c.e.emit('NotEqualStmt', { a: op, b: bool(false) });
    k();
  };
}

function planPlain(c: Ctx, e: Expr, k: K): void {
  const t = e.terms;
  if (Array.isArray(t)) {
    const name = refName(t[0]!);
    if (name === 'eq' && t.length === 3) return unify(c, t[1]!, t[2]!, k);
    if (name === 'equal' && t.length === 3) {
      // `x == xs[x]`: the side that binds x (by iterating) goes first.
      const [l, r] = isOutput(c, t[1]!) ? [t[2]!, t[1]!] : [t[1]!, t[2]!];
      return planTerm(c, l, (a) => planTerm(c, r, (b) => {
        c.e.emit('EqualStmt', { a, b });
        k();
      }));
    }
    return planCall(c, t, (result, out) => (out ? unifyOp(c, out, result, k) : truthy(c, k)(result)), true);
  }
  if (isTerm(t)) return planTerm(c, t, truthy(c, k));
  switch (t.type) {
    case 'some': return k();
    case 'every': return planEvery(c, t, k);
    case 'not': return unless(c, (found) => planBody(c, t.body, found), k);
    // `a and b`, `a or b` succeed once however many solutions the operands have, binding nothing outside.
    case 'logicaland': return exists(c, (found) => planBody(c, t.lhs, () => planBody(c, t.rhs, found)), k);
    case 'logicalor':
      return exists(c, (found) => {
        const blocks = [t.lhs, t.rhs].map((side) => c.e.block(() => planBody(c, side, found)));
        c.e.emit('BlockStmt', { blocks });
      }, k);
  }
}

/** Continues with `k` only when `search` finds no solution (it calls its argument once per solution). */
function unless(c: Ctx, search: (found: K) => void, k: K): void {
  c.e.emit('IsUndefinedStmt', { source: searchFlag(c, search) });
  k();
}

/** Continues with `k` once when `search` finds at least one solution. */
function exists(c: Ctx, search: (found: K) => void, k: K): void {
  c.e.emit('IsDefinedStmt', { source: searchFlag(c, search) });
  k();
}

/** A local that is defined after `search` when it found a solution. */
function searchFlag(c: Ctx, search: (found: K) => void): number {
  const flag = c.e.local();
  c.e.emit('ResetLocalStmt', { target: flag });
  const block = c.e.block(() => search(() => c.e.emit('AssignVarStmt', { source: bool(true), target: flag })));
  c.e.emit('BlockStmt', { blocks: [block] });
  return flag;
}

/** `every k, v in xs { body }`: no element of xs for which the body has no solution. */
function planEvery(c: Ctx, t: Every, k: K): void {
  planTerm(c, t.domain, (dom) => {
    const source = c.e.toLocal(dom);
    // Only collections can be iterated: `every` over a number, string, boolean or null is false.
    exists(c, (found) => {
      const blocks = (['IsArrayStmt', 'IsObjectStmt', 'IsSetStmt'] as const).map((type) => c.e.block(() => {
        c.e.emit(type, { source: local(source) });
        found();
      }));
      c.e.emit('BlockStmt', { blocks });
    }, () => unless(c, (found) => {
      const key = c.e.local();
      const value = c.e.local();
      const block = c.e.block(() => {
        const bindKey = (next: K) => (t.key ? unifyOp(c, t.key, local(key), next) : next());
        bindKey(() => unifyOp(c, t.value, local(value), () => unless(c, (ok) => planBody(c, t.body, ok), found)));
      });
      c.e.emit('ScanStmt', { source, key, value, block });
    }, k));
  });
}

/** The variables an expression would bind: those not bound yet, outside comprehensions. */
function unboundVars(c: Ctx, terms: Term[], out = new Set<string>()): Set<string> {
  for (const t of terms) {
    switch (t.type) {
      case 'var': if (c.e.lookup(t.value) === undefined) out.add(t.value); break;
      // The head of a reference or call names a document or function, not a variable to bind.
      case 'ref': case 'call': unboundVars(c, t.value[0]!.type === 'var' ? t.value.slice(1) : t.value, out); break;
      case 'array': case 'set': unboundVars(c, t.value, out); break;
      case 'object': unboundVars(c, t.value.flat(), out); break;
      default: break;
    }
  }
  return out;
}

/** The local and path a `with` target replaces: input.a.b → (0, ["a","b"]), data.x → (1, ["x"]). */
function withTarget(c: Ctx, target: Term): { local: number; path: number[] } {
  const root = target.type === 'ref' ? target.value[0] : undefined;
  const segs = target.type === 'ref' ? target.value.slice(1) : [];
  if (root?.type === 'var' && (root.value === 'input' || root.value === 'data') && segs.every((s) => s.type === 'string')) {
    return { local: root.value === 'input' ? 0 : 1, path: segs.map((s) => c.e.statics.string((s as { value: string }).value)) };
  }
  throw new PlanError(target.loc, 'with on functions and builtins is not supported by the planner yet');
}

/**
 * `expr with input.x as v`: the expression runs inside WithStmt blocks; its bindings are copied out so the
 * rest of the body runs with the original input and data.
 */
function planWith(c: Ctx, e: Expr, k: K): void {
  const ws = e.with!;
  const targets = ws.map((w) => withTarget(c, w.target));
  planTerms(c, ws.map((w) => w.value), (values) => {
    const inner: Expr = { ...e, with: undefined };
    const terms = Array.isArray(e.terms) ? e.terms.slice(1) : isTerm(e.terms) ? [e.terms] : [];
    const outs = [...unboundVars(c, terms)].map((name) => ({ name, local: c.e.local() }));
    const flag = c.e.local();
    c.e.emit('ResetLocalStmt', { target: flag });
    for (const o of outs) c.e.emit('ResetLocalStmt', { target: o.local });
    const wrap = (i: number): void => {
      if (i === ws.length) {
        return planExpr(c, inner, () => {
          for (const o of outs) c.e.emit('AssignVarStmt', { source: local(c.e.lookup(o.name)!), target: o.local });
          c.e.emit('AssignVarStmt', { source: bool(true), target: flag });
        });
      }
      const block = c.e.block(() => wrap(i + 1));
      c.e.emit('WithStmt', { local: targets[i]!.local, path: targets[i]!.path, value: values[i]!, block });
    };
    wrap(0);
    c.e.emit('IsDefinedStmt', { source: flag });
    const rebind = (i: number): void => (i === outs.length ? k() : c.e.bind(outs[i]!.name, outs[i]!.local, () => rebind(i + 1)));
    rebind(0);
  });
}
