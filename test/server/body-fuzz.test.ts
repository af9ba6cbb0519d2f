// The fixed-seed slice of the request-body fuzz test (test/server/body-fuzz.ts): the same bytes sent to
// `opa run --server` and to Verdict, both serving the same Rego source, must get the same status, the same
// answer bytes, and on errors the same error code. `npm run fuzz` runs longer sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useOpaAndVerdict } from './harness.js';
import { compareCase, fuzzCases, fuzzPolicy } from './body-fuzz.js';

const servers = useOpaAndVerdict({ files: { '.manifest': '{"roots":["fuzz"]}', 'fuzz/policy.rego': fuzzPolicy } });

test('150 generated bodies (seed 1) are answered as OPA answers them', async () => {
  const differences: string[] = [];
  for (const c of fuzzCases(1, 150)) {
    const difference = await compareCase(servers.opa.url, servers.verdict.url, c);
    if (difference) differences.push(difference);
  }
  assert.deepEqual(differences, []);
});
