// What Verdict has in place of OPA's prepared-query cache: for each data path asked for, how the active policy
// set answers it (an entrypoint at or above the path and the rest of the path to look up in its result, a
// package planned as an entrypoint, or base data overlaid with the entrypoints below it). Working that out is
// the only per-path preparation a compiled policy needs; it is done once per path and policy set, timed (the
// Data API's timer_rego_query_compile_ns) and counted (counter_server_query_cache_hit). A new policy set starts
// with an empty cache, as OPA's does after a policy change.
import type { WasmProgram } from './program.js';

export type PathPlan =
  | { kind: 'entrypoint'; name: string; program: WasmProgram; rest: string[] }
  | { kind: 'package'; name: string; program: WasmProgram }
  | { kind: 'data'; below: { name: string; segments: string[] }[] };

export interface PathSources {
  entrypoints: ReadonlyMap<string, WasmProgram>;
  packages: ReadonlyMap<string, WasmProgram>;
  entrypointPaths: readonly { name: string; segments: string[] }[];
}

/** Paths kept per policy set; the oldest is dropped past this (request paths are the client's choice). */
export const PREPARED_PATHS_LIMIT = 100;

const caches = new WeakMap<PathSources, Map<string, PathPlan>>();

/** The plan for `path` under `set`; `prepareNs` is the time it took to make when it was not cached. */
export function preparedPath(set: PathSources, path: string[]): { plan: PathPlan; prepareNs?: number } {
  let cache = caches.get(set);
  if (!cache) caches.set(set, (cache = new Map()));
  const key = path.join('\u0000');
  const hit = cache.get(key);
  if (hit) return { plan: hit };
  const started = process.hrtime.bigint();
  const plan = planPath(set, path);
  if (cache.size >= PREPARED_PATHS_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, plan);
  return { plan, prepareNs: Number(process.hrtime.bigint() - started) };
}

function planPath({ entrypoints, packages, entrypointPaths }: PathSources, path: string[]): PathPlan {
  for (let n = path.length; n > 0; n--) {
    const name = path.slice(0, n).join('/');
    const program = entrypoints.get(name);
    if (program) return { kind: 'entrypoint', name, program, rest: path.slice(n) };
  }
  const name = path.join('/');
  const program = packages.get(name);
  if (program) return { kind: 'package', name, program };
  return { kind: 'data', below: entrypointPaths.filter((e) => e.segments.length > path.length && path.every((s, i) => e.segments[i] === s)) };
}
