// CheckRecursion: a rule may not depend on itself through the refs and calls in its head and body
// (OPA: v1/ast/compile.go checkRecursion). A ref depends on every rule whose path it can select: segments
// are compared up to the shorter of the two, and variables match anything.
import type { Module, Rule, Term } from '../ast.js';
import { forEachRef, forEachRefInBody } from '../walk.js';
import type { Stage } from './context.js';

interface Node {
  rule: Rule;
  /** data.pkg...head ref, as terms. */
  path: Term[];
  /** A rule of a query module: no ref reaches it (Module.query), so it is on no cycle. */
  query?: true;
}

function pathText(path: Term[]): string {
  return path.map((t, i) => (i === 0 && t.type === 'var' ? t.value : t.type === 'string' ? `.${t.value}` : t.type === 'var' ? `[${t.value}]` : '[...]')).join('');
}

const SCALAR = new Set(['string', 'number', 'boolean', 'null']);

/** Whether a ref can reach the rule at `path`: equal scalar segments; variables and composites match anything. */
function selects(ref: Term[], path: Term[]): boolean {
  const n = Math.min(ref.length, path.length);
  for (let i = 1; i < n; i++) {
    const a = ref[i];
    const b = path[i];
    if (!SCALAR.has(a.type) || !SCALAR.has(b.type)) continue;
    if (a.type !== b.type || (a as { value?: unknown }).value !== (b as { value?: unknown }).value) return false;
  }
  return true;
}

function refsOf(rule: Rule): Term[][] {
  const refs: Term[][] = [];
  const add = (r: Term & { type: 'ref' }) => {
    const head = r.value[0];
    if (head.type === 'var' && head.value === 'data') refs.push(r.value);
  };
  for (let r: Rule | undefined = rule; r; r = r.else) {
    forEachRefInBody(r.body, add);
    for (const t of [r.head.key, r.head.value, ...r.head.ref.slice(1), ...(r.head.args ?? [])]) if (t) forEachRef(t, add);
  }
  return refs;
}

export const checkRecursion: Stage = {
  name: 'CheckRecursion',
  run(ctx) {
    const nodes: Node[] = ctx.modules.flatMap((m: Module) => m.rules.map((rule) => {
      const path = [...m.package.path, ...rule.head.ref.slice(1)];
      const head = rule.head.ref[0];
      path.splice(m.package.path.length, 0, { type: 'string', value: head.type === 'var' ? head.value : '?', loc: head.loc });
      return m.query ? { rule, path, query: true as const } : { rule, path };
    }));
    // Candidates for a ref by its first two segments under data (package and rule name, or package path), in
    // node order, so that a ref is compared with the few rules it can name rather than with every rule.
    const byOne = new Map<string, number[]>();
    const byTwo = new Map<string, number[]>();
    const index = (map: Map<string, number[]>, key: string, j: number) => {
      const list = map.get(key);
      if (list) list.push(j);
      else map.set(key, [j]);
    };
    let unindexed = false;
    nodes.forEach((n, j) => {
      if (n.query) return;
      const [, one, two] = n.path;
      if (one?.type !== 'string' || two?.type !== 'string') unindexed = true;
      else {
        index(byOne, one.value, j);
        index(byTwo, `${one.value}\u0000${two.value}`, j);
      }
    });
    const all = nodes.flatMap((n, j) => (n.query ? [] : [j]));
    const candidates = (ref: Term[]): number[] => {
      const [, one, two] = ref;
      // A segment that is not a scalar matches anything; a scalar that is not a string matches no rule name.
      if (unindexed || !one || !SCALAR.has(one.type)) return all;
      if (one.type !== 'string') return [];
      if (!two || !SCALAR.has(two.type)) return byOne.get(one.value) ?? [];
      if (two.type !== 'string') return [];
      return byTwo.get(`${one.value}\u0000${two.value}`) ?? [];
    };
    const edges = nodes.map((n) => {
      const out = new Set<number>();
      for (const ref of refsOf(n.rule)) for (const j of candidates(ref)) if (selects(ref, nodes[j].path)) out.add(j);
      return [...out];
    });
    nodes.forEach((start, i) => {
      // Depth-first search for a path from this rule back to itself.
      const seen = new Set<number>();
      const trail: number[] = [i];
      const found = (from: number): boolean => {
        for (const next of edges[from]) {
          if (next === i) return true;
          if (seen.has(next)) continue;
          seen.add(next);
          trail.push(next);
          if (found(next)) return true;
          trail.pop();
        }
        return false;
      };
      if (found(i)) {
        const names = [...trail, i].map((k) => pathText(nodes[k].path));
        ctx.error('rego_recursion_error', start.rule.loc, `rule ${pathText(start.path)} is recursive: ${names.join(' -> ')}`);
      }
    });
  },
};
