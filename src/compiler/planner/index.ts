// The planner: checked modules → OPA's IR plan (the JSON `opa build -t plan` writes). One plan per entrypoint
// ("pkg/rule" reads data.pkg.rule into {"result": ...}); one function per rule set reached from them.
import type { Module, Term } from '../ast.js';
import type { Func, Plan, Policy } from '../../ir/plan.js';
import type { Ctx } from './context.js';
import { Emitter } from './emitter.js';
import { planData } from './refs.js';
import { planRuleSet } from './rules.js';
import { Statics, type BuiltinDecl } from './statics.js';
import { buildTree, funcName, type RuleSet } from './tree.js';

export { PlanError } from './emitter.js';
export type { BuiltinDecl } from './statics.js';

export function planModules(modules: Module[], entrypoints: string[], builtins: ReadonlyMap<string, BuiltinDecl>): Policy {
  const statics = new Statics(builtins);
  statics.string('result');
  const tree = buildTree(modules);
  const queue: RuleSet[] = [];
  const seen = new Set<string>();
  const need = (set: RuleSet) => {
    if (!seen.has(funcName(set))) {
      seen.add(funcName(set));
      queue.push(set);
    }
  };
  const plans: Plan[] = entrypoints.map((name) => {
    const e = new Emitter(statics);
    const c: Ctx = { e, tree, need };
    const loc = { file: '', row: 0, col: 0, offset: 0, end: 0 };
    const segs: Term[] = name.split('/').filter((s) => s !== '').map((value) => ({ type: 'string', value, loc }));
    const block = e.block(() => planData(c, segs, (op) => {
      const o = e.local();
      e.emit('MakeObjectStmt', { target: o });
      e.emit('ObjectInsertStmt', { key: e.str('result'), value: op, object: o });
      e.emit('ResultSetAddStmt', { value: o });
    }));
    return { name, blocks: [block] };
  });
  const funcs: Func[] = [];
  for (let set = queue.shift(); set; set = queue.shift()) funcs.push(planRuleSet(statics, tree, need, set));
  return { static: statics.toStatic(), plans: { plans }, funcs: { funcs } };
}
