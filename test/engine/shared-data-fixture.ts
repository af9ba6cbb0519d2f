// Engines on one shared data memory, as the worker threads of one server run them: the policy and the data
// documents the shared-data tests activate, and an engine attached to a thread's handle.
import { parseBundle, type Bundle } from '../../src/bundle/bundle.js';
import { Engine } from '../../src/engine/engine.js';
import { PlanningCompiler } from '../../src/engine/compiler.js';
import { VerdictPlanner } from '../../src/engine/verdict-planner.js';
import { SharedData, type SharedDataHandle } from '../../src/engine/shared-data.js';

export const POLICY = `package t
import rego.v1

# Reads every user: a torn document (half of one version, half of another) shows as a wrong sum.
summary := {"version": data.meta.version, "users": count(data.users), "quota": sum([u.quota | some u in data.users])}
admin if data.users[input.user].role == "admin"
`;

/** Users whose quotas sum to a figure of the version, so a document mixing versions cannot pass for one. */
export function dataDocument(version: number, users = 20_000): Record<string, unknown> {
  const all: Record<string, unknown> = {};
  for (let i = 0; i < users; i++) all[`user-${i}`] = { name: `User number ${i}`, role: i % 10 === 0 ? 'admin' : 'dev', quota: version, tags: ['a', `t${i % 50}`] };
  return { meta: { version }, users: all };
}

export function expectedSummary(version: number, users = 20_000): Record<string, unknown> {
  return { version, users, quota: version * users };
}

export function bundleOf(version: number, users?: number): Bundle {
  return parseBundle('b', [
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: `v${version}`, roots: ['t', 'meta', 'users'] })) },
    { path: 't/policy.rego', data: Buffer.from(POLICY) },
    { path: 'data.json', data: Buffer.from(JSON.stringify(dataDocument(version, users))) },
  ]);
}

/** An engine compiling with our own planner; on the shared memory of `handle` when given. */
export function engineOn(handle?: SharedDataHandle): Engine {
  const engine = new Engine(new PlanningCompiler(new VerdictPlanner()));
  if (handle) engine.sharedData = new SharedData(handle);
  return engine;
}

export async function summary(engine: Engine): Promise<unknown> {
  return (await engine.decide('t/summary', {})).result;
}
