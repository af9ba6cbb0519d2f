// A fixed-seed slice of the Rego differential fuzzer (npm run fuzz:rego runs it at length): generated modules
// answer as `opa eval` answers them, or both refuse them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzRego } from '../../scripts/fuzz/rego-programs.js';
import { opaPath } from './opa-oracle.js';

test('40 generated Rego modules (seed 20261205) give what opa eval gives', { timeout: 120_000 }, async () => {
  const { ran, mismatches } = await fuzzRego(opaPath(), 20261205, 40, Date.now() + 90_000);
  assert.deepEqual(mismatches.map((m) => `${m.source}opa: ${JSON.stringify(m.opa)}\nverdict: ${JSON.stringify(m.verdict)}`), []);
  assert.ok(ran >= 20, `only ${ran} programs ran before the time bound`);
});
