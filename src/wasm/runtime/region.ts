// An instance's own memory: where its heap starts and ends, and its scratch space (the walkers' frame stacks,
// the parser's tables, number buffers), allocated first in it. On a memory of its own the region starts after
// the plan's data and is unbounded; on a memory shared by several instances (src/engine/shared-data.ts) every
// instance has a region of its own, and nothing an evaluation writes lies outside it.
import { heapRegionSet } from './heap';
import { faultsStaticsInit } from './faults';
import { conflictsStaticsInit } from './conflicts';
import { compareStaticsInit } from './compare';
import { dataStaticsInit } from './data';
import { jsonStaticsInit } from './json';
import { numberStaticsInit } from './number';
import { netStaticsInit } from './builtins/net';
import { pathsStaticsInit } from './builtins/paths';
import { sprintfStaticsInit } from './builtins/sprintf';

/** Called once per instance (the generated verdict_instance_init), before anything else runs. */
export function regionInit(start: i32, end: i32): void {
  heapRegionSet(start, end);
  faultsStaticsInit();
  conflictsStaticsInit();
  compareStaticsInit();
  dataStaticsInit();
  jsonStaticsInit();
  numberStaticsInit();
  netStaticsInit();
  pathsStaticsInit();
  sprintfStaticsInit();
}
