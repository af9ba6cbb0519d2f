// Terms to operands, and unification. Planning is continuation-passing: a term that iterates (a reference with
// an unbound variable) opens a ScanStmt and plans everything after it inside the loop's block.
import { isTerm, type Expr, type ObjectTerm, type TemplateString, type Term } from '../ast.js';
import type { Operand } from '../../ir/plan.js';
import { planCall, refName } from './calls.js';
import { planExpr } from './body.js';
import { planComprehension } from './comprehensions.js';
import type { Ctx, K } from './context.js';
import { bool, local, PlanError } from './emitter.js';
import { planRef } from './refs.js';

export type KOp = (op: Operand) => void;

export function planTerm(c: Ctx, t: Term, k: KOp): void {
  switch (t.type) {
    case 'null': {
      const l = c.e.local();
      c.e.emit('MakeNullStmt', { target: l });
      return k(local(l));
    }
    case 'boolean': return k(bool(t.value));
    case 'number': {
      const l = c.e.local();
      const index = c.e.statics.string(t.value);
      c.e.emit('MakeNumberRefStmt', { index, Index: index, target: l });
      return k(local(l));
    }
    case 'string': return k(c.e.str(t.value));
    case 'var': {
      const l = c.e.lookup(t.value);
      if (l === undefined) throw new PlanError(t.loc, `var ${t.value} is unbound`);
      return k(local(l));
    }
    case 'ref': return planRef(c, t, k);
    case 'call':
      return planCall(c, t.value, (r) => {
        if (refName(t.value[0]!) !== 'walk') return k(r);
        // walk is a relation (`[path, value] := walk(x)`): each [path, value] pair of its result is a value.
        const key = c.e.local();
        const value = c.e.local();
        const block = c.e.block(() => k(local(value)));
        c.e.emit('ScanStmt', { source: c.e.toLocal(r), key, value, block });
      }, false);
    case 'array':
      return planTerms(c, t.value, (ops) => {
        const a = c.e.local();
        c.e.emit('MakeArrayStmt', { capacity: ops.length, target: a });
        for (const value of ops) c.e.emit('ArrayAppendStmt', { array: a, value });
        k(local(a));
      });
    case 'set':
      return planTerms(c, t.value, (ops) => {
        const s = c.e.local();
        c.e.emit('MakeSetStmt', { target: s });
        for (const value of ops) c.e.emit('SetAddStmt', { value, set: s });
        k(local(s));
      });
    case 'object':
      return planTerms(c, t.value.flat(), (ops) => {
        const o = c.e.local();
        c.e.emit('MakeObjectStmt', { target: o });
        for (let i = 0; i < ops.length; i += 2) c.e.emit('ObjectInsertStmt', { key: ops[i]!, value: ops[i + 1]!, object: o });
        k(local(o));
      });
    case 'arraycomprehension':
    case 'setcomprehension':
    case 'objectcomprehension':
      return planComprehension(c, t, k);
    case 'templatestring':
      return planTemplate(c, t, k);
  }
}

export function planTerms(c: Ctx, ts: Term[], k: (ops: Operand[]) => void, acc: Operand[] = []): void {
  if (acc.length === ts.length) return k(acc);
  planTerm(c, ts[acc.length]!, (op) => planTerms(c, ts, k, [...acc, op]));
}

/** True when unifying `t` with a value would bind variables: an unbound var, or one inside an array/object. */
export function isOutput(c: Ctx, t: Term): boolean {
  switch (t.type) {
    case 'var': return c.e.lookup(t.value) === undefined;
    case 'array': return t.value.some((x) => isOutput(c, x));
    case 'object': return t.value.some(([, v]) => isOutput(c, v));
    default: return false;
  }
}

/** `a = b`: binds whichever side has unbound variables, else compares. */
export function unify(c: Ctx, a: Term, b: Term, k: K): void {
  if (a.type === 'array' && b.type === 'array') {
    if (a.value.length !== b.value.length) return c.e.emit('EqualStmt', { a: bool(true), b: bool(false) });
    const pairs = (i: number): void => (i === a.value.length ? k() : unify(c, a.value[i]!, b.value[i]!, () => pairs(i + 1)));
    return pairs(0);
  }
  if (a.type === 'object' && b.type === 'object' && isOutput(c, a) && isOutput(c, b)) return unifyObjects(c, a, b, k);
  if (isOutput(c, a)) return planTerm(c, b, (op) => unifyOp(c, a, op, k));
  if (isOutput(c, b)) return planTerm(c, a, (op) => unifyOp(c, b, op, k));
  planTerm(c, a, (x) => planTerm(c, b, (y) => {
    c.e.emit('EqualStmt', { a: x, b: y });
    k();
  }));
}

/** Unifies a term (maybe a pattern with unbound variables) with a value already in an operand. */
export function unifyOp(c: Ctx, pattern: Term, op: Operand, k: K): void {
  if (pattern.type === 'var' && c.e.lookup(pattern.value) === undefined) return c.e.bind(pattern.value, c.e.toLocal(op), k);
  if (pattern.type === 'array' && isOutput(c, pattern)) {
    c.e.emit('IsArrayStmt', { source: op });
    sameLength(c, op, pattern.value.length);
    const elements = (i: number): void => {
      if (i === pattern.value.length) return k();
      const idx = c.e.local();
      c.e.emit('MakeNumberIntStmt', { value: i, target: idx });
      const el = c.e.local();
      c.e.emit('DotStmt', { source: op, key: local(idx), target: el });
      unifyOp(c, pattern.value[i]!, local(el), () => elements(i + 1));
    };
    return elements(0);
  }
  if (pattern.type === 'object' && isOutput(c, pattern)) {
    c.e.emit('IsObjectStmt', { source: op });
    sameLength(c, op, pattern.value.length);
    const entries = (i: number): void => {
      if (i === pattern.value.length) return k();
      const [key, value] = pattern.value[i]!;
      planTerm(c, key, (kop) => {
        const el = c.e.local();
        c.e.emit('DotStmt', { source: op, key: kop, target: el });
        unifyOp(c, value, local(el), () => entries(i + 1));
      });
    };
    return entries(0);
  }
  planTerm(c, pattern, (p) => {
    c.e.emit('EqualStmt', { a: p, b: op });
    k();
  });
}

function sameLength(c: Ctx, op: Operand, n: number): void {
  const len = c.e.local();
  c.e.emit('LenStmt', { source: op, target: len });
  const want = c.e.local();
  c.e.emit('MakeNumberIntStmt', { value: n, target: want });
  c.e.emit('EqualStmt', { a: local(len), b: local(want) });
}

/**
 * `$"a{x}b"` → internal.template_string(["a", {x | ...}, "b"]): each expression part becomes the set of its
 * values (empty when undefined), literal chunks stay strings. A part with `with` (`{a with input as v}`) is
 * planned as the expression `value = a with input as v`.
 */
function planTemplate(c: Ctx, t: TemplateString, k: KOp): void {
  const parts: Operand[] = t.value.parts.map((part) => {
    if (!('terms' in part) && part.type === 'string') return c.e.str(part.value);
    const term = partTerm(part);
    const s = c.e.local();
    c.e.emit('MakeSetStmt', { target: s });
    const add: KOp = (value) => c.e.emit('SetAddStmt', { value, set: s });
    const block = c.e.block(() => {
      if (!('terms' in part) || !part.with?.length) return planTerm(c, term, add);
      const value: Term = { type: 'var', value: `__template${templateParts++}__`, loc: part.loc };
      const eq: Term = { type: 'ref', value: [{ type: 'var', value: 'eq', loc: part.loc }], loc: part.loc };
      planExpr(c, { ...part, terms: [eq, value, term] }, () => add(local(c.e.lookup(value.value)!)));
    });
    c.e.emit('BlockStmt', { blocks: [block] });
    return local(s);
  });
  const a = c.e.local();
  c.e.emit('MakeArrayStmt', { capacity: parts.length, target: a });
  for (const value of parts) c.e.emit('ArrayAppendStmt', { array: a, value });
  c.e.statics.useBuiltin('internal.template_string');
  const result = c.e.local();
  c.e.emit('CallStmt', { func: 'internal.template_string', args: [local(a)], result });
  k(local(result));
}

let templateParts = 0;

function partTerm(part: Term | Expr): Term {
  if (!('terms' in part)) return part;
  if (Array.isArray(part.terms)) return { type: 'call', value: part.terms, loc: part.loc };
  if (isTerm(part.terms)) return part.terms;
  throw new PlanError(part.loc, 'unsupported expression in a template string');
}

/** Two object patterns with the same constant keys unify value by value; other key sets never unify. */
function unifyObjects(c: Ctx, a: ObjectTerm, b: ObjectTerm, k: K): void {
  const keyOf = (t: Term) => (t.type === 'string' || t.type === 'number' || t.type === 'boolean' ? `${t.type}:${String(t.value)}` : undefined);
  const bv = new Map(b.value.map(([key, v]) => [keyOf(key), v]));
  const pairs: Array<[Term, Term]> = [];
  for (const [key, v] of a.value) {
    const other = keyOf(key) === undefined ? undefined : bv.get(keyOf(key));
    if (!other) throw new PlanError(a.loc, 'unification of objects with variable or different keys is not supported by the planner yet');
    pairs.push([v, other]);
  }
  if (pairs.length !== b.value.length) return c.e.emit('EqualStmt', { a: bool(true), b: bool(false) });
  const next = (i: number): void => (i === pairs.length ? k() : unify(c, pairs[i]![0], pairs[i]![1], () => next(i + 1)));
  next(0);
}
