// `print(a, b, ...)`: each operand is collected into a set (empty when the operand is undefined, every value
// when it iterates), and internal.print receives the array of sets. The call has no result, so print never
// fails the body it is in, whatever its operands.
import type { Term } from '../ast.js';
import type { Ctx, K } from './context.js';
import { local } from './emitter.js';
import { planTerm } from './terms.js';

export function planPrint(c: Ctx, operands: Term[], k: K): void {
  const values = c.e.local();
  c.e.emit('MakeArrayStmt', { capacity: operands.length, target: values });
  for (const operand of operands) {
    const set = c.e.local();
    c.e.emit('MakeSetStmt', { target: set });
    const block = c.e.block(() => planTerm(c, operand, (v) => c.e.emit('SetAddStmt', { value: v, set })));
    c.e.emit('BlockStmt', { blocks: [block] });
    c.e.emit('ArrayAppendStmt', { array: values, value: local(set) });
  }
  c.e.statics.useBuiltin('internal.print');
  c.e.emit('CallStmt', { func: 'internal.print', args: [local(values)], result: c.e.local() });
  k();
}
