// References: `input.a[x]`, locals, and `data...` where data is the merge of the rules (virtual documents) and
// the base data the policy was given. A ground path that reaches a rule set calls its function; a path that
// stops above the rules, or continues with a variable, builds the virtual document there as an object.
import type { RefTerm, Term } from '../ast.js';
import { compareStrings } from '../../builtins/json-value.js';
import type { Local, Operand } from '../../ir/plan.js';
import type { Ctx, Mock } from './context.js';
import { local, PlanError } from './emitter.js';
import { isOutput, planTerm, unifyOp, type KOp } from './terms.js';
import { funcName, type RuleSet, type TreeNode } from './tree.js';

export function planRef(c: Ctx, t: RefTerm, k: KOp): void {
  const [head, ...segs] = t.value;
  if (head!.type === 'var') {
    if (head!.value === 'input') {
      if (segs.length === 0) c.e.emit('IsDefinedStmt', { source: 0 });
      return segments(c, local(0), segs, 0, k);
    }
    if (head!.value === 'data') return planData(c, segs, k);
    const l = c.e.lookup(head!.value);
    if (l === undefined) throw new PlanError(head!.loc, `var ${head!.value} is unbound`);
    return segments(c, local(l), segs, 0, k);
  }
  planTerm(c, head!, (op) => segments(c, op, segs, 0, k));
}

/**
 * Applies the segments from `i` on to the value in `src`: a dot per known key, a scan per unbound one. In a
 * reference into base data (`inData`), a written integer key also finds the object key spelt the same, as OPA
 * reads `data.nested[2]` from its store by the path segment "2" (an array still takes it as an index).
 */
export function segments(c: Ctx, src: Operand, segs: Term[], i: number, k: KOp, inData = false): void {
  if (i === segs.length) return k(src);
  const seg = segs[i]!;
  const next = (value: Operand): void => segments(c, value, segs, i + 1, k, inData);
  if (isOutput(c, seg)) {
    const source = c.e.toLocal(src);
    const key = c.e.local();
    const value = c.e.local();
    const block = c.e.block(() => unifyOp(c, seg, local(key), () => next(local(value))));
    c.e.emit('ScanStmt', { source, key, value, block });
    return;
  }
  const dot = (key: Operand): void => {
    const target = c.e.local();
    c.e.emit('DotStmt', { source: src, key, target });
    next(local(target));
  };
  if (inData && seg.type === 'number' && /^(0|[1-9]\d*)$/.test(seg.value)) {
    // An array takes the number, an object the string (no branching: the rest is planned once, and a `not`
    // around the reference still sees one outcome).
    return planTerm(c, seg, (num) => {
      const key = c.e.local();
      c.e.emit('AssignVarStmt', { source: num, target: key });
      const toString = c.e.block(() => {
        c.e.emit('IsObjectStmt', { source: src });
        c.e.emit('AssignVarStmt', { source: c.e.str(seg.value), target: key });
      });
      c.e.emit('BlockStmt', { blocks: [toString] });
      dot(local(key));
    });
  }
  planTerm(c, seg, dot);
}

/**
 * OPA reads data's root without base data's `system` key (its own status lives there), and the whole document
 * without the rules below `system` either; `data.system` and `data[x]` with x bound read it as any other key.
 */
const SYSTEM = 'system';

export function planData(c: Ctx, segs: Term[], k: KOp): void {
  const readsRoot = segs.length === 0 || isOutput(c, segs[0]!);
  if (c.tree.children.size === 0 && !readsRoot) return segments(c, local(1), segs, 0, k, true);
  planDataAt(c, c.tree, [], segs, 0, k);
}

/** Continues a data reference at `node` (the document at `path`), from segment `i` on. */
function planDataAt(c: Ctx, node: TreeNode, path: string[], segs: Term[], i: number, k: KOp): void {
  for (; i < segs.length; i++) {
    const seg = segs[i]!;
    if (seg.type !== 'string') {
      if (node.set || node.children.size === 0) break;
      if (isOutput(c, seg)) return scanDocuments(c, node, path, segs, i, k);
      // A key known only at run time picks among the documents here, without building them all.
      return planTerm(c, seg, (key) => dynamicKey(c, node, path, segs, i, key, k));
    }
    const child = node.children.get(seg.value);
    // No rule at or below this key: the value can only come from base data.
    if (!child) return segments(c, local(1), segs, 0, k, true);
    node = child;
    path = [...path, seg.value];
    const mock = c.mocks.replace.get(['data', ...path].join('.'));
    if (mock) return planMockValue(c, mock, (op) => segments(c, op, segs, i + 1, k));
    // An object rule set with rules below it (`p[k] := 1` and `p.q := 2`) is built with them as a virtual doc.
    if (node.set && !(node.set.kind === 'object' && node.children.size > 0)) {
      if (node.set.kind === 'function') throw new PlanError(seg.loc, `function data.${node.set.path.join('.')} used as a value`);
      return segments(c, local(callRuleSet(c, node.set, [])), segs, i + 1, k);
    }
  }
  segments(c, local(virtualDoc(c, node, path)), segs, i, k);
}

/**
 * `data[x]` with x unbound, where rules lie below: the keys come in OPA's order, those of base data first
 * (sorted), then those only rules give (sorted), each document built as if its key were written.
 */
function scanDocuments(c: Ctx, node: TreeNode, path: string[], segs: Term[], i: number, k: KOp): void {
  const seg = segs[i]!;
  const names = [...node.children].filter(([, child]) => child.set?.kind !== 'function').map(([name]) => name).sort(compareStrings);
  // A document a `with` replaces (or replaces something below) is base data for OPA: its key comes with base data's.
  const mockPaths = [...c.mocks.replace.keys()];
  const mocked = new Set(names.filter((name) => {
    const at = ['data', ...path, name].join('.');
    return mockPaths.some((m) => m === at || m.startsWith(`${at}.`));
  }));
  const inBase = c.e.block(() => {
    const source = mocked.size === 0 ? baseDoc(c, path) : baseKeysWith(c, path, mocked);
    c.e.emit('IsObjectStmt', { source: local(source) });
    const key = c.e.local();
    const value = c.e.local();
    const block = c.e.block(() => unifyOp(c, seg, local(key), () => dynamicKey(c, node, path, segs, i, local(key), k)));
    c.e.emit('ScanStmt', { source, key, value, block });
  });
  const onlyRules = names.filter((name) => !mocked.has(name)).map((name) => c.e.block(() => {
    if (path.length > 0 || name !== SYSTEM) c.e.emit('NotStmt', { block: c.e.block(() => void baseDoc(c, [...path, name])) });
    const written: Term = { type: 'string', value: name, loc: seg.loc };
    unifyOp(c, seg, c.e.str(name), () => planDataAt(c, node, path, [...segs.slice(0, i), written, ...segs.slice(i + 1)], i, k));
  }));
  c.e.emit('BlockStmt', { blocks: [inBase, ...onlyRules] });
}

/** An object with base data's keys at `path` and `names` (only its keys are used). */
function baseKeysWith(c: Ctx, path: string[], names: Set<string>): Local {
  const keys = c.e.local();
  c.e.emit('MakeObjectStmt', { target: keys });
  const copy = c.e.block(() => {
    const source = baseDoc(c, path);
    c.e.emit('IsObjectStmt', { source: local(source) });
    const key = c.e.local();
    const value = c.e.local();
    c.e.emit('ScanStmt', { source, key, value, block: c.e.block(() => c.e.emit('ObjectInsertStmt', { key: local(key), value: local(value), object: keys })) });
  });
  c.e.emit('BlockStmt', { blocks: [copy] });
  for (const name of names) c.e.emit('ObjectInsertStmt', { key: c.e.str(name), value: c.e.str(name), object: keys });
  return keys;
}

/** Base data at `path` (undefined, ending the block, where it has none); the root without `system`. */
function baseDoc(c: Ctx, path: string[]): Local {
  if (path.length === 0) return rootWithoutSystem(c);
  let src: Local = 1;
  for (const seg of path) {
    const t = c.e.local();
    c.e.emit('DotStmt', { source: local(src), key: c.e.str(seg), target: t });
    src = t;
  }
  return src;
}

function rootWithoutSystem(c: Ctx): Local {
  const root = c.e.local();
  c.e.emit('MakeObjectStmt', { target: root });
  const key = c.e.local();
  const value = c.e.local();
  const block = c.e.block(() => {
    c.e.emit('NotEqualStmt', { a: local(key), b: c.e.str(SYSTEM) });
    c.e.emit('ObjectInsertStmt', { key: local(key), value: local(value), object: root });
  });
  c.e.emit('BlockStmt', { blocks: [c.e.block(() => {
    c.e.emit('IsObjectStmt', { source: local(1) });
    c.e.emit('ScanStmt', { source: 1, key, value, block });
  })] });
  return root;
}

/**
 * `data[x].p` with x bound: one block per document below `node` (x equal to its key, then on as if the key were
 * written), and one for base data when x is none of them.
 */
function dynamicKey(c: Ctx, node: TreeNode, path: string[], segs: Term[], i: number, key: Operand, k: KOp): void {
  const keys = [...node.children].filter(([, child]) => child.set?.kind !== 'function').map(([name]) => name);
  const blocks = keys.map((name) => c.e.block(() => {
    c.e.emit('EqualStmt', { a: key, b: c.e.str(name) });
    const written: Term = { type: 'string', value: name, loc: segs[i]!.loc };
    planDataAt(c, node, path, [...segs.slice(0, i), written, ...segs.slice(i + 1)], i, k);
  }));
  blocks.push(c.e.block(() => {
    for (const name of keys) c.e.emit('NotEqualStmt', { a: key, b: c.e.str(name) });
    segments(c, local(1), segs, 0, k, true);
  }));
  c.e.emit('BlockStmt', { blocks });
}

/** The replacement value of a mocked function or document: computed ones were evaluated at the `with`. */
export function planMockValue(c: Ctx, mock: Mock, k: KOp): void {
  if (mock.slot === undefined) return planTerm(c, mock.value, k);
  k(local(c.captured[mock.slot]!));
}

/**
 * Calls the function of `set` planned under `mocks`: the current ones, or those in effect where a `with` was
 * written (an ancestor generation, whose captured values are a prefix of ours).
 */
export function callRuleSet(c: Ctx, set: RuleSet, args: Operand[], mocks = c.mocks): Local {
  c.need(set, mocks);
  const result = c.e.local();
  const captured = c.captured.slice(0, mocks.captured).map(local);
  c.e.emit('CallStmt', { func: funcName(set, mocks.generation), args: [local(0), local(1), ...args, ...captured], result });
  return result;
}

/** The object at `path` under data: every rule value below it, merged with the base data there. */
function virtualDoc(c: Ctx, node: TreeNode, path: string[]): Local {
  const o = c.e.local();
  c.e.emit('MakeObjectStmt', { target: o });
  if (node.set) {
    // Copied key by key: the rule's own (memoised) object must not change.
    const source = callRuleSet(c, node.set, []);
    const key = c.e.local();
    const value = c.e.local();
    const block = c.e.block(() => c.e.emit('ObjectInsertOnceStmt', { key: local(key), value: local(value), object: o }));
    c.e.emit('ScanStmt', { source, key, value, block });
  }
  // Keys in OPA's order, which decides which of two failing rules is the error reported.
  const children = [...node.children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, child] of children) {
    if (child.set?.kind === 'function' || (path.length === 0 && key === SYSTEM)) continue;
    const block = c.e.block(() => {
      const insert = (value: Operand) => c.e.emit('ObjectInsertOnceStmt', { key: c.e.str(key), value, object: o });
      const mock = c.mocks.replace.get(['data', ...path, key].join('.'));
      if (mock) return planMockValue(c, mock, insert);
      const plain = child.set && !(child.set.kind === 'object' && child.children.size > 0);
      const value = local(plain ? callRuleSet(c, child.set!, []) : virtualDoc(c, child, [...path, key]));
      // A key both a rule below and the document's own rules give is reported at the rule below, as OPA does.
      const at = c.e.loc;
      c.e.loc = child.set?.rules[0]?.loc ?? at;
      insert(value);
      c.e.loc = at;
    });
    c.e.emit('BlockStmt', { blocks: [block] });
  }
  const merged = c.e.local();
  c.e.emit('AssignVarStmt', { source: local(o), target: merged });
  const base = c.e.block(() => {
    const src = baseDoc(c, path);
    c.e.emit('IsObjectStmt', { source: local(src) });
    // Where base data and a rule give the same key, the base value wins (as in OPA's plans).
    c.e.emit('ObjectMergeStmt', { a: src, b: o, target: merged });
  });
  c.e.emit('BlockStmt', { blocks: [base] });
  return merged;
}
