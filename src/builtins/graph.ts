// walk and graph.reachable are answered by the wasm runtime (src/wasm/runtime/builtins/paths.ts);
// graph.reachable_paths: every path from the given roots until a leaf or a cycle closes.
// Object keys cross the JSON boundary as strings, so non-string vertices are looked up by their JSON text.
import { arr, obj, type JsonObject } from './args.js';
import { asSet, compareJson } from './json-value.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

function edgesOf(graph: JsonObject, node: unknown): unknown[] | undefined {
  const key = typeof node === 'string' ? node : JSON.stringify(node);
  if (!(key in graph)) return undefined;
  const edges = graph[key];
  return Array.isArray(edges) ? edges : [];
}

function addUnique(out: unknown[][], path: unknown[]): void {
  if (!out.some((p) => compareJson(p, path) === 0)) out.push(path);
}

function walk(graph: JsonObject, root: unknown, path: unknown[], out: unknown[][], seen: unknown[]): void {
  const edges = edgesOf(graph, root);
  if (edges === undefined) return addUnique(out, path);
  const here = [...path, root];
  if (edges.length === 0) return addUnique(out, here);
  const reached = [...seen, root];
  for (const next of edges) {
    if (reached.some((r) => compareJson(r, next) === 0)) addUnique(out, here);
    else walk(graph, next, here, out, reached);
  }
}

function reachablePaths(g: unknown, roots: unknown): unknown[][] {
  const name = 'graph.reachable_paths';
  const graph = obj(name, 1, g);
  const out: unknown[][] = [];
  for (const node of arr(name, 2, roots)) {
    const edges = edgesOf(graph, node);
    if (edges === undefined) continue;
    if (edges.length === 0) addUnique(out, [node]);
    for (const next of edges) walk(graph, next, [node], out, [node]);
  }
  return asSet(out);
}

export const graphBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'graph.reachable',
    decl: fn([arg('graph', t.objectOf(t.any, t.anyOf(t.arrayOf(t.any), t.setOf(t.any)))), arg('initial', t.anyOf(t.arrayOf(t.any), t.setOf(t.any)))], arg('output', t.setOf(t.any))),
    runtime: 'b_graph_reachable',
  },
  {
    name: 'graph.reachable_paths',
    decl: fn([arg('graph', t.objectOf(t.any, t.anyOf(t.arrayOf(t.any), t.setOf(t.any)))), arg('initial', t.anyOf(t.arrayOf(t.any), t.setOf(t.any)))], arg('output', t.setOf(t.arrayOf(t.any)))),
    host: reachablePaths,
  },
  {
    name: 'walk',
    decl: fn([arg('x', t.any)], arg('output', t.tuple(t.arrayOf(t.any), t.any))),
    relation: true,
    categories: ['graph'],
    runtime: 'b_walk',
  },
];
