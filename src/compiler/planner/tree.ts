// The virtual document tree: every rule sits at the ground prefix of its head reference under data. A node with
// rules is a rule set that the planner turns into one function (`g0.data.a.b`); nodes above it are built as
// objects when a query reads them whole or with a variable key.
import type { Module, Rule, Term } from '../ast.js';
import { PlanError } from './emitter.js';

/**
 * complete: `p := v`; set: `p contains x`; object: `p[k] := v`, `p[k].q[r] := v`, `p[k] contains x` (any rule
 * with a variable in its head reference); function: `f(x) := v`.
 */
export type RuleKind = 'complete' | 'set' | 'object' | 'function';

export interface RuleSet {
  kind: RuleKind;
  /** Path under data, e.g. ["a", "b"] for data.a.b. */
  path: string[];
  rules: Rule[];
  arity: number;
}

export interface TreeNode {
  children: Map<string, TreeNode>;
  set?: RuleSet;
}

function segmentKey(t: Term): string | undefined {
  return t.type === 'string' ? t.value : undefined;
}

function classify(rule: Rule): { kind: RuleKind; prefix: Term[] } {
  const { head } = rule;
  const ref = head.ref.slice(1);
  if (head.args) return { kind: 'function', prefix: ref };
  const firstVar = ref.findIndex((t) => segmentKey(t) === undefined);
  if (firstVar < 0) return { kind: head.key && !head.value ? 'set' : 'complete', prefix: ref };
  return { kind: 'object', prefix: ref.slice(0, firstVar) };
}

export function buildTree(modules: Module[]): TreeNode {
  const root: TreeNode = { children: new Map() };
  for (const m of modules) {
    const pkg = m.package.path.slice(1).map((t) => segmentKey(t)!);
    // A package is a document even without rules (data.a.b is {} for an empty `package a.b`).
    let pkgNode = root;
    for (const seg of pkg) {
      let child = pkgNode.children.get(seg);
      if (!child) pkgNode.children.set(seg, (child = { children: new Map() }));
      pkgNode = child;
    }
    for (const rule of m.rules) {
      const { kind, prefix } = classify(rule);
      const name = rule.head.ref[0]!;
      if (name.type !== 'var') throw new PlanError(rule.loc, 'rule head must start with a name');
      const path = [...pkg, name.value, ...prefix.map((t) => segmentKey(t)!)];
      let node = root;
      for (const seg of path) {
        let child = node.children.get(seg);
        if (!child) node.children.set(seg, (child = { children: new Map() }));
        node = child;
      }
      node.set ??= { kind, path, rules: [], arity: rule.head.args?.length ?? 0 };
      node.set.rules.push(rule);
    }
  }
  return root;
}

/** The node at `path`, if any rule lives at or below it. */
export function findNode(root: TreeNode, path: string[]): TreeNode | undefined {
  let node: TreeNode | undefined = root;
  for (const seg of path) node = node?.children.get(seg);
  return node;
}

export function funcName(set: RuleSet, generation: number): string {
  return [`g${generation}`, 'data', ...set.path].join('.');
}

/** The head segments below an object rule set's path: [k] for `p[k] := v`, [k, "q", r] for `p[k].q[r] := v`. */
export function objectKeys(rule: Rule): Term[] {
  const ref = rule.head.ref;
  const first = ref.findIndex((t, i) => i > 0 && segmentKey(t) === undefined);
  return ref.slice(first);
}
