// Rule bodies and their expressions: unification, calls, negation, `every`, and/or bodies, and `with`.
import { isTerm, type Body, type Every, type Expr, type Term, type With } from '../ast.js';
import type { TreeNode } from './tree.js';
import { planCall, refName } from './calls.js';
import { markCovered } from './coverage.js';
import { hoistDynamics } from './dynamics.js';
import type { Ctx, K } from './context.js';
import { bool, local, PlanError } from './emitter.js';
import { planPrint } from './print.js';
import { isOutput, planTerm, planTerms, unify, unifyOp } from './terms.js';

export function planBody(c: Ctx, body: Body, k: K, i = 0): void {
  if (i === body.length) return k();
  planExpr(c, body[i]!, () => planBody(c, body, k, i + 1));
}

export function planExpr(c: Ctx, e: Expr, k: K): void {
  c.e.loc = e.loc;
  if (!e.generated) markCovered(c, e.loc);
  if (e.with?.length) return planWith(c, e, k);
  if (e.negated) {
    return hoistDynamics(c, e, (inner) => {
      const block = c.e.block(() => planPlain(c, inner, () => {}));
      c.e.emit('NotStmt', { block });
      k();
    });
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
    if (name === 'print' && !c.mocks.replace.has('print')) return planPrint(c, t.slice(1), k);
    if (name === 'equal' && t.length === 3) {
      // `x == xs[x]`: the side that binds x (by iterating) goes first.
      const [l, r] = isOutput(c, t[1]!) ? [t[2]!, t[1]!] : [t[1]!, t[2]!];
      return planTerm(c, l, (a) => planTerm(c, r, (b) => {
        c.e.emit('EqualStmt', { a, b });
        k();
      }));
    }
    return planCall(c, t, (result, out) => {
      if (!out) return truthy(c, k)(result);
      if (name !== 'walk') return unifyOp(c, out, result, k);
      // walk is a relation: its result holds every [path, value] pair, and each one is a solution.
      const key = c.e.local();
      const value = c.e.local();
      const block = c.e.block(() => unifyOp(c, out, local(value), k));
      c.e.emit('ScanStmt', { source: c.e.toLocal(result), key, value, block });
    }, true);
  }
  if (isTerm(t)) return planTerm(c, t, truthy(c, k));
  switch (t.type) {
    case 'some': return k();
    case 'every': return planEvery(c, t, k);
    case 'not': return unless(c, (found) => planBody(c, t.body, found), k);
    // `a and b`, `a or b` succeed once however many solutions the operands have, binding nothing outside.
    // Each operand has its own scope, so `a and b` is: a has a solution, then b has one.
    case 'logicaland': return exists(c, (found) => planBody(c, t.lhs, found), () => exists(c, (found) => planBody(c, t.rhs, found), k));
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

/**
 * What a `with` target replaces: input.a.b → (0, ["a","b"]) and base data → (1, path), both at run time; a
 * function, builtin, rule or document holding rules (by its dotted name) → a mock, at plan time.
 */
function withTarget(c: Ctx, target: Term): { local: number; path: number[] } | { mock: string } {
  const name = refName(target);
  if (name === undefined) throw new PlanError(target.loc, 'with target must be a reference');
  const [root, ...path] = name.split('.');
  if (root === 'input') return { local: 0, path: path.map((s) => c.e.statics.string(s)) };
  if (root !== 'data') return { mock: name };
  let node: TreeNode | undefined = c.tree;
  for (const seg of path) {
    node = node.children.get(seg);
    if (!node) break;
    if (node.set) return { mock: name };
  }
  if (node && node.children.size > 0) return { mock: name };
  return { local: 1, path: path.map((s) => c.e.statics.string(s)) };
}

/**
 * Constants and function references are planned wherever the mocked call is; other values (locals,
 * comprehensions, calls) are computed at the `with` and passed down as captured values.
 */
function portable(c: Ctx, t: Term): boolean {
  switch (t.type) {
    case 'null': case 'boolean': case 'number': case 'string': return true;
    case 'var': return c.e.lookup(t.value) === undefined && c.e.statics.builtin(t.value) !== undefined;
    case 'ref': return refName(t) !== undefined;
    case 'array': case 'set': return t.value.every((x) => portable(c, x));
    case 'object': return t.value.every(([k, v]) => portable(c, k) && portable(c, v));
    default: return false;
  }
}

/**
 * `expr with input.x as v`: the expression runs inside WithStmt blocks; its bindings are copied out so the
 * rest of the body runs with the original input and data.
 */
function planWith(outer: Ctx, e: Expr, k: K): void {
  const ws: With[] = [];
  const targets: Array<{ local: number; path: number[] }> = [];
  const mocks = new Map(outer.mocks.replace);
  const computed: Term[] = [];
  for (const w of e.with!) {
    const t = withTarget(outer, w.target);
    if ('local' in t) {
      ws.push(w);
      targets.push(t);
      continue;
    }
    const slot = portable(outer, w.value) ? undefined : outer.mocks.captured + computed.length;
    if (slot !== undefined) computed.push(w.value);
    mocks.set(t.mock, { value: w.value, scope: outer.mocks, slot });
  }
  planTerms(outer, computed, (ops) => {
    const c: Ctx = ws.length === e.with!.length ? outer : {
      ...outer,
      mocks: { generation: outer.newGeneration(), replace: mocks, captured: outer.mocks.captured + ops.length },
      captured: [...outer.captured, ...ops.map((op) => outer.e.toLocal(op))],
    };
    planWithStmts(outer, c, e, ws, targets, k);
  });
}

/**
 * The input and base-data replacements of `e`, as WithStmt blocks. Solutions are collected inside them as
 * tuples of the variables they bind, then replayed outside, so the rest of the body sees the original input
 * and data.
 */
function planWithStmts(outer: Ctx, c: Ctx, e: Expr, ws: With[], targets: Array<{ local: number; path: number[] }>, k: K): void {
  if (ws.length === 0) return planExpr(c, { ...e, with: undefined }, k);
  planTerms(outer, ws.map((w) => w.value), (values) => {
    const inner: Expr = { ...e, with: undefined };
    const terms = Array.isArray(e.terms) ? e.terms.slice(1) : isTerm(e.terms) ? [e.terms] : [];
    const outs = [...unboundVars(c, terms)];
    const solutions = c.e.local();
    c.e.emit('MakeArrayStmt', { capacity: 0, target: solutions });
    const wrap = (i: number): void => {
      if (i === ws.length) {
        return planExpr(c, inner, () => {
          const tuple = c.e.local();
          c.e.emit('MakeArrayStmt', { capacity: outs.length, target: tuple });
          for (const name of outs) c.e.emit('ArrayAppendStmt', { array: tuple, value: local(c.e.lookup(name)!) });
          c.e.emit('ArrayAppendStmt', { array: solutions, value: local(tuple) });
        });
      }
      const block = c.e.block(() => wrap(i + 1));
      c.e.emit('WithStmt', { local: targets[i]!.local, path: targets[i]!.path, value: values[i]!, block });
    };
    wrap(0);
    const index = outer.e.local();
    const tuple = outer.e.local();
    const replay = outer.e.block(() => {
      const rebind = (i: number): void => {
        if (i === outs.length) return k();
        const at = outer.e.local();
        outer.e.emit('MakeNumberIntStmt', { value: i, target: at });
        const v = outer.e.local();
        outer.e.emit('DotStmt', { source: local(tuple), key: local(at), target: v });
        outer.e.bind(outs[i]!, v, () => rebind(i + 1));
      };
      rebind(0);
    });
    outer.e.emit('ScanStmt', { source: solutions, key: index, value: tuple, block: replay });
  });
}
