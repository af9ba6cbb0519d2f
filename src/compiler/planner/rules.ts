// One function per rule set. Complete rules and functions: each definition (and each `else`) computes its value
// into its own local, which then goes into the result with AssignVarOnce (so two definitions that disagree are a
// conflict); defaults apply when all are undefined. Multi-value rules build a set, `p[k] := v` rules an object.
import type { Rule, Term } from '../ast.js';
import type { Block, Func, Local, Operand } from '../../ir/plan.js';
import { planBody } from './body.js';
import type { Ctx, Mocks, Planning } from './context.js';
import { Emitter, local } from './emitter.js';
import type { Statics } from './statics.js';
import { planTerm, planTerms, unifyOp } from './terms.js';
import { funcName, objectKeys, type RuleSet } from './tree.js';

export function planRuleSet(statics: Statics, planning: Planning, set: RuleSet, mocks: Mocks): Func {
  const e = new Emitter(statics);
  const c: Ctx = { ...planning, e, mocks };
  const params: Local[] = [0, 1];
  for (let i = 0; i < set.arity; i++) params.push(e.local());
  const ret = e.local();
  const blocks: Block[] = [];
  const add = (fn: () => void) => blocks.push(e.block(fn));
  const body = (rule: Rule, then: () => void) => {
    e.loc = rule.loc;
    const args = rule.head.args ?? [];
    const bindArgs = (i: number): void => (i === args.length ? planBody(c, rule.body, then) : unifyOp(c, args[i]!, local(params[2 + i]!), () => bindArgs(i + 1)));
    bindArgs(0);
  };
  const value = (rule: Rule): Term => rule.head.value ?? { type: 'boolean', value: true, loc: rule.loc };

  if (set.kind === 'set') {
    add(() => e.emit('MakeSetStmt', { target: ret }));
    for (const rule of set.rules) add(() => body(rule, () => planTerm(c, rule.head.key!, (v) => e.emit('SetAddStmt', { value: v, set: ret }))));
  } else if (set.kind === 'object') {
    add(() => e.emit('MakeObjectStmt', { target: ret }));
    for (const rule of set.rules) {
      add(() => body(rule, () => planTerms(c, [...objectKeys(rule), value(rule)], (ops) => insertPath(e, ret, ops))));
    }
  } else {
    for (const rule of set.rules.filter((r) => !r.default)) {
      const t = e.local();
      add(() => e.emit('ResetLocalStmt', { target: t }));
      for (let r: Rule | undefined = rule; r; r = r.else) {
        const def = r;
        add(() => {
          if (def !== rule) e.emit('IsUndefinedStmt', { source: t });
          body(def, () => planTerm(c, value(def), (v) => e.emit('AssignVarOnceStmt', { source: v, target: t })));
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
        planTerm(c, value(rule), (v) => e.emit('AssignVarOnceStmt', { source: v, target: ret }));
      });
    }
  }
  add(() => e.emit('ReturnLocalStmt', { source: ret }));
  return { name: funcName(set, mocks.generation), params, return: ret, blocks, path: [`g${mocks.generation}`, ...set.path] };
}

/**
 * Puts the value (last of `ops`) into `object` under the keys before it. One key: insert once (two rules giving
 * different values for a key are a conflict). More: the nested object is built inside out and merged in.
 */
function insertPath(e: Emitter, object: Local, ops: Operand[]): void {
  const keys = ops.slice(0, -1);
  let value = ops[ops.length - 1]!;
  if (keys.length === 1) return e.emit('ObjectInsertOnceStmt', { key: keys[0]!, value, object });
  for (let i = keys.length - 1; i >= 0; i--) {
    const o = e.local();
    e.emit('MakeObjectStmt', { target: o });
    e.emit('ObjectInsertStmt', { key: keys[i]!, value, object: o });
    value = local(o);
  }
  e.emit('ObjectMergeStmt', { a: object, b: (value as { value: Local }).value, target: object });
}
