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
  /** Object rule sets: where each rule's keys start in its head reference ([k] of `p[k] := v`). */
  keysAt: Map<Rule, number>;
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
  // Definitions are evaluated in OPA's order, by module file name (what a conflict error lists them in).
  const byFile = [...modules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const m of byFile) {
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
      node.set ??= { kind, path, rules: [], arity: rule.head.args?.length ?? 0, keysAt: new Map() };
      node.set.rules.push(rule);
      node.set.keysAt.set(rule, path.length - pkg.length);
    }
  }
  mergeIntoObjects(root);
  return root;
}

/**
 * Multi-value rules below a multi-value object rule set, at the same depth (`p.b contains "foo"` under
 * `p[q] contains r`), join it with constant keys, so the set at p.b has the elements of both instead of the two
 * conflicting. Other overlaps stay separate documents, where writing into another rule's value is a conflict.
 */
function mergeIntoObjects(node: TreeNode): void {
  const set = node.set;
  const depth = set && ((r: Rule) => r.head.ref.length - set.keysAt.get(r)!);
  if (set?.kind === 'object' && depth && set.rules.every((r) => isMulti(r) && depth(r) === depth(set.rules[0]!))) {
    for (const [key, child] of node.children) {
      const below = ruleSetsBelow(child);
      // Each rule's keys start earlier in its head by the difference in depth; a rule from a package below p
      // (whose head starts under p) stays a document of its own.
      const keysAt = (s: RuleSet, rule: Rule) => s.keysAt.get(rule)! - (s.path.length - set.path.length);
      const fits = below.every((s) => s.kind === 'set'
        && s.rules.every((r) => isMulti(r) && keysAt(s, r) >= 1 && r.head.ref.length - keysAt(s, r) === depth(set.rules[0]!)));
      if (!fits) continue;
      for (const s of below) {
        for (const rule of s.rules) {
          set.rules.push(rule);
          set.keysAt.set(rule, keysAt(s, rule));
        }
      }
      node.children.delete(key);
    }
    return;
  }
  for (const child of node.children.values()) mergeIntoObjects(child);
}

function isMulti(rule: Rule): boolean {
  return rule.head.key !== undefined && rule.head.value === undefined && !rule.default;
}

function ruleSetsBelow(node: TreeNode, out: RuleSet[] = []): RuleSet[] {
  if (node.set) out.push(node.set);
  for (const child of node.children.values()) ruleSetsBelow(child, out);
  return out;
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
export function objectKeys(set: RuleSet, rule: Rule): Term[] {
  return rule.head.ref.slice(set.keysAt.get(rule));
}
