// Simplifies one residual query as OPA's copy propagation leaves it, so that answers read the way OPA's do.
// Every rewrite keeps the conjunction's meaning: a variable is replaced only by a term it is equated with,
// an equation only goes once its variable is gone from the query, and `t = t` only goes when `t` cannot be
// undefined (a reference stays, as a test that it is defined).
import type { Expr, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { exprOperator } from '../walk.js';
import { plugDeep } from './closures.js';
import { hasRefs, isGround, NO_LOC } from './values.js';

/**
 * A query's residual expressions and the bindings of its query variables (the variables the caller sees).
 * A query variable bound to a reference into an unknown stays a variable, as OPA keeps it: the reference is
 * equated with it once and the rest of the query uses the variable. When the query also equates that
 * reference with a known value, the variable takes the value instead. The equation of a variable named in
 * `valueFirst` with a residual value is written value first, as the query equated them. A variable in
 * `boundAt` was bound to its residual value after that many of the saved expressions (by their `index`): its
 * equation goes there, as OPA saves it where the query unified it; the others go last.
 */
export function simplifyQuery(saved: Expr[], bindings: ReadonlyMap<string, Term>, isQueryVar: (name: string) => boolean, valueFirst: ReadonlySet<string> = new Set(), boundAt: ReadonlyMap<string, number> = new Map()): Expr[] {
  let exprs = propagateConstants(saved, isQueryVar);
  const out: Binding[] = [];
  const kept: [string, Term][] = [];
  const renamed = new Map<string, Term>();
  for (const [name, bound] of bindings) {
    const value = bound.type === 'var' ? renamed.get(bound.value) ?? bound : bound;
    if (value.type === 'var' && !isQueryVar(value.value)) {
      // Another variable the query does not name: it takes the query variable's name.
      renamed.set(value.value, v(name));
      exprs = exprs.map((e) => substitute(e, new Map([[value.value, v(name)]])));
      continue;
    }
    kept.push([name, value]);
  }
  const unknownRefs = new Map<string, { name: string; ref: Term }>();
  const values = new Map<string, Term>();
  for (const [name, value] of kept) {
    if (value.type !== 'ref') continue;
    const known = knownValueOf(exprs, value);
    if (known) {
      exprs = exprs.map((e) => (isEquation(e, value, known) || isDefinedness(e) ? e : replaceTerm(e, value, known)));
      values.set(name, known);
    } else if (!unknownRefs.has(termKey(value))) unknownRefs.set(termKey(value), { name, ref: value });
  }
  // Longest references first: `input.x[0]` is replaced by its variable before `input.x` is.
  const byLength = [...unknownRefs.values()].sort((a, b) => refLength(b.ref) - refLength(a.ref));
  const ownBinding = (e: Expr) => byLength.some(({ name, ref }) => isEquation(e, v(name), ref));
  for (const { name, ref } of byLength) {
    exprs = exprs.map((e) => (ownBinding(e) || isDefinedness(e) ? e : replaceTerm(e, ref, v(name))));
  }
  for (const [name, value] of kept) {
    let bound = values.get(name) ?? (value.type === 'ref' ? value : withKnownValues(value, exprs));
    if (!values.has(name)) for (const { name: other, ref } of byLength) if (other !== name) bound = replaceIn(bound, ref, v(other));
    out.push({ e: call('eq', valueFirst.has(name) && !values.has(name) ? [bound, v(name)] : [v(name), bound]), at: values.has(name) ? undefined : boundAt.get(name), name, ground: isGround(bound) });
  }
  return orientEquations(removeTautologies(dropImpliedDefinedness(placeBindings(constantsInClosures(exprs, kept), out))), isQueryVar);
}

/** A query variable's equation with its value, and where it goes among the saved expressions (if anywhere). */
interface Binding {
  e: Expr;
  at?: number;
  name: string;
  ground: boolean;
}

/**
 * The bindings' equations among the query's expressions: each placed one before the first saved at or after its
 * place (or after them all), then the others as OPA adds them: those holding residual terms, then those with
 * known values, each in order of the variables' names.
 */
function placeBindings(exprs: Expr[], bindings: Binding[]): Expr[] {
  const result = [...exprs];
  const placed = new Set<Expr>();
  for (const { e, at } of bindings) {
    if (at === undefined) continue;
    const i = result.findIndex((x) => !placed.has(x) && x.index >= at);
    result.splice(i < 0 ? result.length : i, 0, e);
    placed.add(e);
  }
  const rest = bindings.filter(({ at }) => at === undefined).sort((a, b) => Number(a.ground) - Number(b.ground) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...result, ...rest.map(({ e }) => e)];
}

/**
 * A variable the caller does not see (`isLive` false) equated with a reference or a call is written first
 * (`a = input.y`), as OPA's copy propagation writes the equations it takes out and puts back; the others keep
 * the order the query equated them in.
 */
export function orientEquations(exprs: Expr[], isLive: (name: string) => boolean): Expr[] {
  const hidden = (t: Term | undefined) => t?.type === 'var' && !isLive(t.value);
  return exprs.map((e) => {
    if (e.negated || e.with?.length || exprOperator(e) !== 'eq' || !Array.isArray(e.terms) || e.terms.length !== 3) return e;
    const [op, a, b] = e.terms as [Term, Term, Term];
    const flips = !hidden(a) && hidden(b) && (a.type === 'ref' || a.type === 'call');
    return flips ? { ...e, terms: [op, b, a] } : e;
  });
}

/**
 * The value of a residual call is held in a generated variable (`lower(input.x, __pe1__)`); where the query
 * then only equates that variable with another term (`__pe1__ = "y"`), the term takes its place and the
 * equation goes, as OPA's copy propagation leaves it (`lower(input.x, "y")`). A generated variable used
 * once, as an argument, takes the call itself (`gt(plus(input.x, 1), 1)`). Variables in `named` stay: the
 * query's own variables stand for them (`z = input.x + 1; z > 2` keeps `plus(input.x, 1, z)`).
 */
export function propagateCopies(exprs: readonly Expr[], named: ReadonlySet<string> = new Set()): Expr[] {
  const folded = (t: Term) => isGeneratedVar(t) && !named.has((t as { value: string }).value);
  let out = dropImpliedDefinedness(exprs);
  for (;;) {
    const i = out.findIndex((e) => !e.negated && exprOperator(e) === 'eq' && Array.isArray(e.terms) && e.terms.slice(1).some(folded));
    if (i < 0) break;
    const [, a, b] = out[i]!.terms as Term[];
    const [name, value] = folded(a!) ? [(a as { value: string }).value, b!] : [(b as { value: string }).value, a!];
    out = out.filter((_, j) => j !== i).map((e) => substitute(e, new Map([[name, value]])));
  }
  return circularCallsLast(nestCalls(out, folded));
}

/**
 * A call whose output, after the copies are folded, is also one of its operands (`and(bt1, ut1, bt1)`, from
 * `bt = …; bt & ut == bt`) is written as an equation after the other expressions (`bt1 = and(bt1, ut1)`), as
 * OPA's copy propagation, which cannot substitute a variable into its own value, puts the call back.
 */
function circularCallsLast(exprs: Expr[]): Expr[] {
  const circular = (e: Expr): boolean => {
    if (e.negated || e.with?.length || !Array.isArray(e.terms) || e.terms.length < 3 || exprOperator(e) === 'eq') return false;
    const last = e.terms[e.terms.length - 1]!;
    return last.type === 'var' && e.terms.slice(1, -1).some((t) => t.type === 'var' && t.value === last.value);
  };
  const moved = exprs.filter(circular).map((e) => {
    const terms = e.terms as Term[];
    return { ...e, terms: call('eq', [terms[terms.length - 1]!, { type: 'call', value: terms.slice(0, -1), loc: terms[0]!.loc } as Term]).terms };
  });
  return moved.length === 0 ? exprs : [...exprs.filter((e) => !circular(e)), ...moved];
}

/** Variables of the conditions that keep a reference's definedness (`__def1__ = input.x`). */
export const DEFINED_PREFIX = '__def';

/** A definedness condition goes where another expression, not negated, uses its reference (or one below it). */
function dropImpliedDefinedness(exprs: readonly Expr[]): Expr[] {
  const seen = new Set<string>();
  return exprs.filter((e) => {
    if (!isDefinedness(e)) return true;
    const ref = (e.terms as Term[])[2]!;
    const key = termKey(ref);
    if (seen.has(key)) return false;
    seen.add(key);
    return !exprs.some((other) => other !== e && !other.negated && !isDefinedness(other) && mentions(other, ref));
  });
}

function isDefinedness(e: Expr): boolean {
  return Array.isArray(e.terms) && e.terms[1]?.type === 'var' && e.terms[1].value.startsWith(DEFINED_PREFIX);
}

/** Whether an expression reads `ref`: in its terms or in the values of its `with` modifiers. */
function mentions(e: Expr, ref: Term): boolean {
  const marker: Term = { type: 'var', value: '\u0000', loc: NO_LOC };
  const parts: Expr[] = [{ ...e, with: undefined }, ...(e.with ?? []).map((w) => ({ index: 0, terms: w.value, loc: e.loc }))];
  return parts.some((x) => exprKey(replaceTerm(x, ref, marker)) !== exprKey(x));
}

function nestCalls(exprs: Expr[], folded: (t: Term) => boolean): Expr[] {
  let out = exprs;
  for (;;) {
    const i = out.findIndex((e) => {
      if (e.negated || e.with?.length || !Array.isArray(e.terms) || e.terms.length < 3) return false;
      const last = e.terms[e.terms.length - 1]!;
      return folded(last) && substitutable(out, e, (last as { value: string }).value);
    });
    if (i < 0) return out;
    const terms = out[i]!.terms as Term[];
    const name = (terms[terms.length - 1] as { value: string }).value;
    const nested: Term = { type: 'call', value: terms.slice(0, -1), loc: terms[0]!.loc } as Term;
    out = out.filter((_, j) => j !== i).map((e) => plugDeep(e, new Map([[name, nested]])));
  }
}

/**
 * Whether `name`, the output of the call `def`, is used elsewhere and never as a reference's head: OPA's copy
 * propagation puts the call in each place it is used, negated expressions and closures included
 * (`count(upper(input.x)) > 2; not startswith(upper(input.x), "B")`), and keeps it with its output where the
 * output is indexed (`split(input.x, ":", z); z[0] = "a"`).
 */
function substitutable(exprs: Expr[], def: Expr, name: string): boolean {
  if (occurrences(def, name) !== 1) return false;
  return exprs.some((e) => e !== def && occurrences(e, name) > 0) && !exprs.some((e) => indexes(e, name));
}

/** Occurrences of the variable `name` anywhere in `node`, closures included. */
function occurrences(node: unknown, name: string): number {
  if (node === null || typeof node !== 'object') return 0;
  if (Array.isArray(node)) return node.reduce((n: number, x) => n + occurrences(x, name), 0);
  const t = node as { type?: string; value?: unknown };
  if (t.type === 'var') return t.value === name ? 1 : 0;
  let n = 0;
  for (const [key, child] of Object.entries(node)) if (key !== 'loc') n += occurrences(child, name);
  return n;
}

/** Whether `node` has a reference whose head is the variable `name`, closures included. */
function indexes(node: unknown, name: string): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some((x) => indexes(x, name));
  const t = node as Term;
  if (t.type === 'ref' && t.value[0]?.type === 'var' && t.value[0].value === name) return true;
  return Object.entries(node).some(([key, child]) => key !== 'loc' && indexes(child, name));
}

/**
 * Drops `t = t`; a reference equated with itself stays as a test that it is defined. Repeated expressions stay,
 * as OPA keeps them.
 */
function removeTautologies(exprs: Expr[]): Expr[] {
  const out: Expr[] = [];
  for (const e of exprs) {
    let next: Expr | undefined = e;
    if (!e.negated && !e.with?.length && exprOperator(e) === 'eq' && Array.isArray(e.terms)) {
      const [, a, b] = e.terms as Term[];
      if (termKey(a!) === termKey(b!)) next = hasRefs(a!) ? { ...e, terms: a! } : undefined;
    }
    if (next) out.push(next);
  }
  return out;
}

/**
 * A variable the query does not name, equated with a known value (`x5 = 1`), takes the value everywhere and
 * the equation goes (`data.partial.q[1]`), as OPA's copy propagation leaves it; not where a reference starts
 * with it, nor when the query equates it with two values (it then stays, and the query never holds).
 */
function propagateConstants(exprs: Expr[], isQueryVar: (name: string) => boolean): Expr[] {
  const constants = new Map<string, Term>();
  const conflicting = new Set<string>();
  for (const e of exprs) {
    if (e.negated || e.with?.length || exprOperator(e) !== 'eq' || !Array.isArray(e.terms)) continue;
    const [, a, b] = e.terms as Term[];
    for (const [x, c] of [[a!, b!], [b!, a!]]) {
      if (x.type !== 'var' || isQueryVar(x.value) || !isGround(c)) continue;
      const seen = constants.get(x.value);
      if (seen && termKey(seen) !== termKey(c)) conflicting.add(x.value);
      constants.set(x.value, c);
    }
  }
  const heads = refHeads(exprs);
  for (const name of [...constants.keys()]) if (conflicting.has(name) || heads.has(name)) constants.delete(name);
  if (constants.size === 0) return exprs;
  const isBinding = (e: Expr): boolean => {
    if (e.negated || e.with?.length || exprOperator(e) !== 'eq' || !Array.isArray(e.terms)) return false;
    const [, a, b] = e.terms as Term[];
    return (a!.type === 'var' && constants.has(a!.value) && isGround(b!)) || (b!.type === 'var' && constants.has(b!.value) && isGround(a!));
  };
  return exprs.filter((e) => !isBinding(e)).map((e) => plugDeep(e, constants));
}

/** Variables some reference starts with, anywhere in `node` (closures included). */
function refHeads(node: unknown): Set<string> {
  const heads = new Set<string>();
  const visit = (x: unknown): void => {
    if (x === null || typeof x !== 'object') return;
    if (Array.isArray(x)) return x.forEach(visit);
    const t = x as Term;
    if (t.type === 'ref' && t.value[0]?.type === 'var') heads.add(t.value[0].value);
    for (const [key, child] of Object.entries(x)) if (key !== 'loc') visit(child);
  };
  visit(node);
  return heads;
}

/**
 * A comprehension kept whole names the query variables it uses (`[x | x = input.foo[i]; i = 1]`); those bound
 * to known values take them there, as OPA's copy propagation leaves it (`[x | x = input.foo[1]; 1 = 1]`),
 * except a variable some reference starts with (`x[0]` stays, as `[0][0]` is no reference).
 */
function constantsInClosures(exprs: Expr[], bindings: [string, Term][]): Expr[] {
  const heads = refHeads(exprs);
  const constants = new Map(bindings.filter(([name, value]) => isGround(value) && !heads.has(name)));
  return constants.size === 0 ? exprs : exprs.map((e) => plugDeep(e, constants));
}

/**
 * `t` (a query variable's value) with each reference inside it that the query equates with a known value
 * replaced by that value: `x = {"foo": input.x}` beside `input.x = 1` is `x = {"foo": 1}`, as OPA writes it.
 */
function withKnownValues(t: Term, exprs: Expr[]): Term {
  switch (t.type) {
    case 'ref': return knownValueOf(exprs, t) ?? t;
    case 'array': case 'set': return { ...t, value: t.value.map((x) => withKnownValues(x, exprs)) };
    case 'object': return { ...t, value: t.value.map(([a, b]): [Term, Term] => [withKnownValues(a, exprs), withKnownValues(b, exprs)]) };
    default: return t;
  }
}

/** A ground term the query equates `ref` with (`input.x = "foo"`), if there is one. */
function knownValueOf(exprs: Expr[], ref: Term): Term | undefined {
  for (const e of exprs) {
    if (e.negated || e.with?.length || exprOperator(e) !== 'eq' || !Array.isArray(e.terms)) continue;
    const [, a, b] = e.terms as Term[];
    if (termKey(a!) === termKey(ref) && isGround(b!)) return b;
    if (termKey(b!) === termKey(ref) && isGround(a!)) return a;
  }
  return undefined;
}

function isEquation(e: Expr, x: Term, y: Term): boolean {
  if (e.negated || exprOperator(e) !== 'eq' || !Array.isArray(e.terms)) return false;
  const [, a, b] = e.terms as Term[];
  const [ka, kb, kx, ky] = [a!, b!, x, y].map(termKey);
  return (ka === kx && kb === ky) || (ka === ky && kb === kx);
}

function replaceTerm(e: Expr, from: Term, to: Term): Expr {
  if (e.with?.length) return e;
  if (Array.isArray(e.terms)) return { ...e, terms: e.terms.map((t, i) => (i === 0 ? t : replaceIn(t, from, to))) };
  if (isTerm(e.terms)) return { ...e, terms: replaceIn(e.terms, from, to) };
  return e;
}

/** `t` with `from` replaced by `to`, also where `from` is the prefix of a longer reference. */
function replaceIn(t: Term, from: Term, to: Term): Term {
  if (termKey(t) === termKey(from)) return to;
  if (t.type === 'ref' && from.type === 'ref' && t.value.length > from.value.length && termKey({ ...t, value: t.value.slice(0, from.value.length) }) === termKey(from)) {
    const rest = t.value.slice(from.value.length).map((x) => replaceIn(x, from, to));
    if (to.type === 'var') return { ...t, value: [to, ...rest] };
    if (to.type === 'ref') return { ...t, value: [...to.value, ...rest] };
    return t;
  }
  switch (t.type) {
    case 'ref': return { ...t, value: t.value.map((x, i) => (i === 0 ? x : replaceIn(x, from, to))) };
    case 'array': case 'set': case 'call': return { ...t, value: t.value.map((x) => replaceIn(x, from, to)) } as Term;
    case 'object': return { ...t, value: t.value.map(([a, b]): [Term, Term] => [replaceIn(a, from, to), replaceIn(b, from, to)]) };
    default: return t;
  }
}

function substitute(e: Expr, env: ReadonlyMap<string, Term>): Expr {
  const plug = (t: Term): Term => {
    switch (t.type) {
      case 'var': return env.get(t.value) ?? t;
      case 'ref': case 'array': case 'set': case 'call': return { ...t, value: t.value.map(plug) } as Term;
      case 'object': return { ...t, value: t.value.map(([a, b]): [Term, Term] => [plug(a), plug(b)]) };
      default: return t;
    }
  };
  if (Array.isArray(e.terms)) return { ...e, terms: e.terms.map((t, i) => (i === 0 ? t : plug(t))) };
  if (isTerm(e.terms)) return { ...e, terms: plug(e.terms) };
  return e;
}

function refLength(t: Term): number {
  return t.type === 'ref' ? t.value.length : 0;
}

export function termKey(t: Term): string {
  return JSON.stringify(t, (k, value: unknown) => (k === 'loc' ? undefined : value));
}

export function exprKey(e: Expr): string {
  return JSON.stringify({ n: e.negated ?? false, t: e.terms, w: e.with }, (k, value: unknown) => (k === 'loc' ? undefined : value));
}

function isGeneratedVar(t: Term): boolean {
  return t.type === 'var' && t.value.startsWith('__pe');
}

function v(name: string): Term {
  return { type: 'var', value: name, loc: NO_LOC };
}

function call(name: string, args: Term[]): Expr {
  return { index: 0, terms: [{ type: 'ref', value: [v(name)], loc: NO_LOC } as Term, ...args], loc: NO_LOC };
}
