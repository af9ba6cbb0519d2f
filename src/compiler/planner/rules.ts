// One function per rule set. Complete rules and functions: each definition (and each `else`) computes its value
// into its own local, which then goes into the result with AssignVarOnce (so two definitions that disagree are a
// conflict); defaults apply when all are undefined. Multi-value rules build a set, `p[k] := v` rules an object.
import type { Rule, Term } from '../ast.js';
import { noteArgs } from '../../ir/func-arity.js';
import type { Block, Func, Local, Operand } from '../../ir/plan.js';
import { planBody } from './body.js';
import type { Ctx, Mocks, Planning } from './context.js';
import { headSpans, markCovered } from './coverage.js';
import { Emitter, local } from './emitter.js';
import type { Statics } from './statics.js';
import { planTerm, planTerms, unifyOp } from './terms.js';
import { funcName, objectKeys, type RuleSet } from './tree.js';

export function planRuleSet(statics: Statics, planning: Planning, set: RuleSet, mocks: Mocks): Func {
  const e = new Emitter(statics);
  const params: Local[] = [0, 1];
  for (let i = 0; i < set.arity + mocks.captured; i++) params.push(e.local());
  const c: Ctx = { ...planning, e, mocks, captured: params.slice(2 + set.arity) };
  const ret = e.local();
  const blocks: Block[] = [];
  const add = (fn: () => void) => blocks.push(e.block(fn));
  const body = (rule: Rule, then: () => void, first = rule) => {
    e.loc = rule.loc;
    c.within = { set, rule: first };
    // An argument holding a template string (`f($"{x}") := ...`) can only be computed once the body has bound
    // its variables: it is compared with the parameter after the body.
    const args = (rule.head.args ?? []).map((term, i) => ({ term, param: local(params[2 + i]!) }));
    const early = args.filter((a) => !hasTemplate(a.term));
    const late = args.filter((a) => hasTemplate(a.term));
    const unifyArgs = (list: typeof args, k: () => void, i = 0): void =>
      (i === list.length ? k() : unifyOp(c, list[i]!.term, list[i]!.param, () => unifyArgs(list, k, i + 1)));
    const exit = () => {
      for (const span of headSpans(rule, rule !== first)) markCovered(c, span);
      then();
    };
    unifyArgs(early, () => planBody(c, rule.body, () => unifyArgs(late, exit)));
  };
  const value = (rule: Rule): Term => rule.head.value ?? { type: 'boolean', value: true, loc: rule.loc };

  if (set.kind === 'set') {
    add(() => e.emit('MakeSetStmt', { target: ret }));
    for (const rule of set.rules) add(() => body(rule, () => planTerm(c, rule.head.key!, (v) => e.emit('SetAddStmt', { value: v, set: ret }))));
  } else if (set.kind === 'object') {
    add(() => e.emit('MakeObjectStmt', { target: ret }));
    for (const rule of set.rules) {
      const multi = rule.head.key !== undefined && rule.head.value === undefined;
      const leaf = multi ? rule.head.key! : value(rule);
      add(() => body(rule, () => planTerms(c, [...objectKeys(set, rule), leaf], (ops) => atDefinition(e, rule, () => insertPath(e, ret, ops, multi)))));
    }
  } else {
    const stopEarly = c.cover !== undefined && sameConstantValue(set.rules.filter((r) => !r.default), value);
    for (const rule of set.rules.filter((r) => !r.default)) {
      const t = e.local();
      add(() => e.emit('ResetLocalStmt', { target: t }));
      // Coverage reports what OPA evaluates: once a definition gave the value all of them give, OPA skips the rest.
      const skipWhenDone = stopEarly && rule !== set.rules.find((r) => !r.default);
      for (let r: Rule | undefined = rule; r; r = r.else) {
        const def = r;
        add(() => {
          if (skipWhenDone) e.emit('IsUndefinedStmt', { source: ret });
          if (def !== rule) e.emit('IsUndefinedStmt', { source: t });
          body(def, () => planTerm(c, value(def), (v) => atDefinition(e, def, () => e.emit('AssignVarOnceStmt', { source: v, target: t }))), rule);
        });
      }
      add(() => {
        e.emit('IsDefinedStmt', { source: t });
        e.emit('AssignVarOnceStmt', { source: local(t), target: ret });
      });
    }
    for (const rule of set.rules.filter((r) => r.default)) {
      add(() => {
        e.loc = rule.loc;
        e.emit('IsUndefinedStmt', { source: ret });
        for (const span of headSpans(rule, false)) markCovered(c, span);
        planTerm(c, value(rule), (v) => e.emit('AssignVarOnceStmt', { source: v, target: ret }));
      });
    }
  }
  add(() => e.emit('ReturnLocalStmt', { source: ret }));
  return noteArgs({ name: funcName(set, mocks.generation), params, return: ret, blocks, path: [`g${mocks.generation}`, ...set.path] }, set.arity);
}

/**
 * Runs `emit` with the statements located at the definition (its head, or its `else`): a conflict is reported
 * where the definition that produced the conflicting value is written, as OPA reports it.
 */
function atDefinition(e: Emitter, def: Rule, emit: () => void): void {
  const at = e.loc;
  e.loc = def.loc;
  emit();
  e.loc = at;
}

/**
 * Puts the value (last of `ops`) into `object` under the keys before it, making the objects on the way; the
 * last key gets the value once (two rules giving different values are a conflict), or, for a multi-value rule,
 * a set the value is added to.
 */
function insertPath(e: Emitter, object: Local, ops: Operand[], multi: boolean): void {
  const keys = ops.slice(0, -1);
  const value = ops[ops.length - 1]!;
  let at = object;
  for (const key of keys.slice(0, -1)) at = getOrMake(e, at, key, 'MakeObjectStmt');
  const last = keys[keys.length - 1]!;
  if (!multi) return e.emit('ObjectInsertOnceStmt', { key: last, value, object: at });
  e.emit('SetAddStmt', { value, set: getOrMake(e, at, last, 'MakeSetStmt') });
}

/** The collection under `key` in `object`, made empty and inserted when missing. */
function getOrMake(e: Emitter, object: Local, key: Operand, make: 'MakeObjectStmt' | 'MakeSetStmt'): Local {
  const found = e.local();
  e.emit('ResetLocalStmt', { target: found });
  const get = e.block(() => {
    const t = e.local();
    e.emit('DotStmt', { source: local(object), key, target: t });
    e.emit('AssignVarStmt', { source: local(t), target: found });
  });
  const create = e.block(() => {
    e.emit('IsUndefinedStmt', { source: found });
    const t = e.local();
    e.emit(make, { target: t });
    e.emit('ObjectInsertStmt', { key, value: local(t), object });
    e.emit('AssignVarStmt', { source: local(t), target: found });
  });
  e.emit('BlockStmt', { blocks: [get, create] });
  return found;
}

/** Rules (not functions) whose every definition, `else` included, has the same scalar value. */
function sameConstantValue(rules: Rule[], value: (rule: Rule) => Term): boolean {
  const texts = new Set<string>();
  for (const first of rules) {
    for (let r: Rule | undefined = first; r; r = r.else) {
      const v = value(r);
      if (r.head.args || !['boolean', 'string', 'number', 'null'].includes(v.type)) return false;
      texts.add(JSON.stringify([v.type, (v as { value?: unknown }).value]));
    }
  }
  return texts.size === 1;
}

function hasTemplate(t: Term): boolean {
  switch (t.type) {
    case 'templatestring': return true;
    case 'array': case 'set': return t.value.some(hasTemplate);
    case 'object': return t.value.some(([k, v]) => hasTemplate(k) || hasTemplate(v));
    default: return false;
  }
}
