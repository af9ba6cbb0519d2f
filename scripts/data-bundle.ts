// The data bundle the data benchmarks load: about `bytes` of user records under data.users, either one flat
// object (`users.u<i>`: ~120k keys for 10 MB) or grouped 100 per team (`users.t<k>.u<i>`), and a one-line
// policy reading one user's name, so a decision shows which revision is active (user-1-<revision>). The shape
// matters: OPA's wasm runtime (inside policy.wasm) takes time superlinear in an object's key count when the
// data is copied in.
import type { BundleFile } from '../src/bundle/files.js';

export function bigDataBundle(revision: number, bytes: number, shape: 'flat' | 'grouped' = 'grouped'): BundleFile[] {
  const users: Record<string, Record<string, unknown>> = {};
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const user = { name: `user-${i}-${revision}`, roles: ['reader', i % 7 === 0 ? 'admin' : 'dev'], quota: i * 3, active: i % 2 === 0 };
    if (shape === 'flat') users[`u${i}`] = user;
    else (users[`t${Math.floor(i / 100)}`] ??= {})[`u${i}`] = user;
    size += JSON.stringify(user).length + 10;
  }
  const policy = shape === 'flat' ? 'package lookup\n\nname := data.users[input.id].name\n' : 'package lookup\n\nname := data.users.t0[input.id].name\n';
  return [
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: `r${revision}`, roots: ['users', 'lookup'] })) },
    { path: 'users/data.json', data: Buffer.from(JSON.stringify(users)) },
    { path: 'lookup/policy.rego', data: Buffer.from(policy) },
  ];
}

/** The decision that reads one user's name (`user-1-<revision>` once that revision is active). */
export const bigDataDecision = { path: '/v1/data/lookup/name', input: { id: 'u1' } };
