// The fixed-seed slice of the request-body fuzz test (test/server/body-fuzz.ts): the same bytes sent to
// `opa run --server` and to Verdict, both serving the same Rego source, must get the same status, the same
// answer bytes, and on errors the same error code. `npm run fuzz` runs longer sequences.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startOpa, startVerdict, writeTree, type OpaServer } from './harness.js';
import type { RunningServer } from '../../src/server/start.js';
import { compareCase, fuzzCases, fuzzPolicy } from './body-fuzz.js';

let opa: OpaServer;
let verdict: RunningServer;

before(async () => {
  const dir = writeTree({ '.manifest': '{"roots":["fuzz"]}', 'fuzz/policy.rego': fuzzPolicy, 'config.yaml': '{}\n' });
  [opa, verdict] = await Promise.all([startOpa(`${dir}/config.yaml`, [dir]), startVerdict('{}', [dir])]);
});

after(async () => {
  await Promise.all([opa?.stop(), verdict?.close()]);
});

test('150 generated bodies (seed 1) are answered as OPA answers them', async () => {
  const differences: string[] = [];
  for (const c of fuzzCases(1, 150)) {
    const difference = await compareCase(opa.url, verdict.url, c);
    if (difference) differences.push(difference);
  }
  assert.deepEqual(differences, []);
});
