// Array, set and object comprehensions: a collection made empty, then filled by a block that runs the body
// (its variables are scoped to the block) and adds one element per solution.
import type { ArrayComprehension, ObjectComprehension, SetComprehension } from '../ast.js';
import { planBody } from './body.js';
import type { Ctx } from './context.js';
import { local } from './emitter.js';
import { planTerm, type KOp } from './terms.js';

export function planComprehension(c: Ctx, t: ArrayComprehension | SetComprehension | ObjectComprehension, k: KOp): void {
  const target = c.e.local();
  let add: () => void;
  switch (t.type) {
    case 'arraycomprehension':
      c.e.emit('MakeArrayStmt', { capacity: 0, target });
      add = () => planTerm(c, t.value.term, (value) => c.e.emit('ArrayAppendStmt', { array: target, value }));
      break;
    case 'setcomprehension':
      c.e.emit('MakeSetStmt', { target });
      add = () => planTerm(c, t.value.term, (value) => c.e.emit('SetAddStmt', { value, set: target }));
      break;
    case 'objectcomprehension':
      c.e.emit('MakeObjectStmt', { target });
      add = () => planTerm(c, t.value.key, (key) => planTerm(c, t.value.value, (value) =>
        insertAt(c, t, () => c.e.emit('ObjectInsertOnceStmt', { key, value, object: target }))));
      break;
  }
  const block = c.e.block(() => planBody(c, t.value.body, add));
  c.e.emit('BlockStmt', { blocks: [block] });
  k(local(target));
}

/** Emits the insert located at the comprehension's key: a key given two values is reported there, as OPA does. */
function insertAt(c: Ctx, t: ObjectComprehension, emit: () => void): void {
  const at = c.e.loc;
  c.e.loc = t.value.key.loc ?? at;
  emit();
  c.e.loc = at;
}
