// Calls of builtins and of user functions. A call written as a statement with one argument more than the
// function declares (`count(xs, n)`) passes its result out through that last argument.
import type { Term } from '../ast.js';
import type { Operand } from '../../ir/plan.js';
import { NO_MOCKS, type Ctx, type Mock, type Mocks } from './context.js';
import { bool, local, PlanError } from './emitter.js';
import { callRuleSet, planMockValue } from './refs.js';
import { valueTerm } from './metadata.js';
import { planTerm, planTerms } from './terms.js';
import { findNode, type RuleSet } from './tree.js';

/** The dotted name of an operator reference: `count`, `array.concat`, `data.pkg.f`. */
export function refName(t: Term): string | undefined {
  if (t.type === 'var') return t.value;
  if (t.type !== 'ref') return undefined;
  let name = '';
  for (let i = 0; i < t.value.length; i++) {
    const seg = t.value[i];
    if (i === 0 && seg.type === 'var') name = seg.value;
    else if (i > 0 && seg.type === 'string') name += `.${seg.value}`;
    else return undefined;
  }
  return name;
}

type Target = { user: RuleSet; arity: number; mocks?: Mocks } | { builtin: string; arity: number } | { constant: Mock; arity: number };

function target(c: Ctx, op: Term): Target {
  const name = refName(op);
  if (name === undefined) throw new PlanError(op.loc, 'call of a computed function');
  const original = resolve(c, name, op);
  const mock = c.mocks.replace.get(name);
  if (!mock) return original;
  const replacement = refName(mock.value);
  // `with f as g` calls g instead; `with f as 1` makes every call of f return 1.
  const isFunction = replacement !== undefined
    && (replacement.startsWith('data.') ? findNode(c.tree, replacement.split('.').slice(1))?.set?.kind === 'function' : c.e.statics.builtin(replacement) !== undefined);
  if (isFunction) {
    const t = resolve(c, replacement!, mock.value);
    if ('user' in t && t.arity === original.arity) return { ...t, mocks: withoutFunctionMocks(c, mock.scope) };
    if ('builtin' in t && t.arity === original.arity) return t;
  }
  return { constant: mock, arity: original.arity };
}

/** Per set of mocks, the same without its function and builtin replacements (one generation each). */
const plainScopes = new WeakMap<Mocks, Mocks>();

/** A replacement function runs under the mocks of its `with`, but never calls another replacement (as in OPA). */
function withoutFunctionMocks(c: Ctx, scope: Mocks): Mocks {
  const known = plainScopes.get(scope);
  if (known) return known;
  const replace = new Map([...scope.replace].filter(([name]) => !isFunctionName(c, name)));
  const plain = replace.size === scope.replace.size ? scope
    : replace.size === 0 && scope.captured === 0 ? NO_MOCKS
    : { generation: c.newGeneration(), replace, captured: scope.captured };
  plainScopes.set(scope, plain);
  return plain;
}

/** A builtin's name, or the data path of a user function (rules are mocked as documents). */
function isFunctionName(c: Ctx, name: string): boolean {
  if (!name.startsWith('data.')) return true;
  return findNode(c.tree, name.split('.').slice(1))?.set?.kind === 'function';
}

function resolve(c: Ctx, name: string, op: Term): Target {
  if (name.startsWith('data.')) {
    const set = findNode(c.tree, name.split('.').slice(1))?.set;
    if (!set || set.kind !== 'function') throw new PlanError(op.loc, `undefined function ${name}`);
    return { user: set, arity: set.arity };
  }
  const decl = c.e.statics.builtin(name);
  if (!decl) throw new PlanError(op.loc, `undefined function ${name}`);
  return { builtin: name, arity: decl.args?.length ?? 0 };
}

/**
 * Plans `terms` = [operator, ...args]; `k` gets the result and, for a statement call with an output argument,
 * the term the result must unify with.
 */
export function planCall(c: Ctx, terms: Term[], k: (result: Operand, out?: Term) => void, statement: boolean): void {
  const t = target(c, terms[0]!);
  let args = terms.slice(1);
  let out: Term | undefined;
  if (statement && args.length === t.arity + 1) {
    out = args[args.length - 1];
    args = args.slice(0, -1);
  }
  if ('builtin' in t && t.builtin.startsWith('rego.metadata.') && args.length === 0) {
    const value = c.within && c.metadata.call(t.builtin, c.within.rule, c.within.set.path);
    // A query has no active rule: OPA leaves the call undefined there.
    if (value === undefined) return c.e.emit('EqualStmt', { a: bool(true), b: bool(false) });
    return planTerm(c, valueTerm(value, terms[0]!.loc), (r) => k(r, out));
  }
  planTerms(c, args, (ops) => {
    // A function replaced by a value still needs its arguments defined (`count(input) with count as 1`).
    if ('constant' in t) return planMockValue(c, t.constant, (r) => k(r, out));
    if ('user' in t) return k(local(callRuleSet(c, t.user, ops, t.mocks)), out);
    c.e.statics.useBuiltin(t.builtin);
    const result = c.e.local();
    // A builtin's error is reported at the call (OPA's topdown names the call term, not its expression); an
    // infix call (`a / b`) starts at its left operand.
    const at = c.e.loc;
    c.e.loc = terms.reduce((first, t) => (t.loc.offset < first.offset ? t.loc : first), terms[0]!.loc);
    c.e.emit('CallStmt', { func: t.builtin, args: ops, result });
    c.e.loc = at;
    k(local(result), out);
  });
}
