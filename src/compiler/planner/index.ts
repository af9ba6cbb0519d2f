// The planner: checked modules → OPA's IR plan (the JSON `opa build -t plan` writes). One plan per entrypoint
// ("pkg/rule" reads data.pkg.rule into {"result": ...}); one function per rule set reached from them.
import type { Module, Term } from '../ast.js';
import type { Func, Plan, Policy } from '../../ir/plan.js';
import { NO_MOCKS, type Ctx, type Mocks, type Planning } from './context.js';
import { withCoverBuiltin, type CoverPoints } from './coverage.js';
import { Emitter } from './emitter.js';
import { Metadata } from './metadata.js';
import { planData } from './refs.js';
import { planRuleSet } from './rules.js';
import { Statics, type BuiltinDecl } from './statics.js';
import { buildTree, funcName, type RuleSet } from './tree.js';

export { PlanError } from './emitter.js';
export type { BuiltinDecl } from './statics.js';
export { COVER_BUILTIN, CoverPoints } from './coverage.js';

/** With `cover`, the plan reports the expressions and rule heads it evaluates to the cover builtin (coverage.ts). */
export function planModules(modules: Module[], entrypoints: string[], builtins: ReadonlyMap<string, BuiltinDecl>, cover?: CoverPoints): Policy {
  const statics = new Statics(cover ? withCoverBuiltin(builtins) : builtins);
  statics.string('result');
  // The data document holds no query's rules; an entrypoint may name one.
  const tree = buildTree(modules.filter((m) => !m.query));
  const entries = modules.some((m) => m.query) ? buildTree(modules) : tree;
  const queue: Array<[RuleSet, Mocks]> = [];
  const seen = new Set<string>();
  let generations = 0;
  const planning: Planning = {
    tree,
    need(set, mocks) {
      const name = funcName(set, mocks.generation);
      if (!seen.has(name)) {
        seen.add(name);
        queue.push([set, mocks]);
      }
    },
    newGeneration: () => ++generations,
    metadata: new Metadata(modules),
    cover,
  };
  const plans: Plan[] = entrypoints.map((name) => {
    const e = new Emitter(statics);
    const c: Ctx = { ...planning, tree: entries, e, mocks: NO_MOCKS, captured: [] };
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
  for (let next = queue.shift(); next; next = queue.shift()) funcs.push(planRuleSet(statics, planning, ...next));
  return { static: statics.toStatic(), plans: { plans }, funcs: { funcs } };
}
