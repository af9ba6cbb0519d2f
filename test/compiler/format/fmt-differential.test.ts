// verdict's formatter against `opa fmt` on a sample of OPA's conformance modules (every 8th, v1 and v0); the
// whole corpus runs in `npm run fmt:differential` (.ci/run). Each sampled module must match unless listed in
// scripts/fmt/differing-modules.txt, and a listed one must still differ (so the list stays true).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWithOpa, corpusModules, firstDifference, formatWithOpa, knownDifferences, opaBinary } from '../../../scripts/fmt/corpus.js';

test('verdict fmt equals opa fmt on a sample of the conformance modules', () => {
  const cases = corpusModules().filter((_, i) => i % 8 === 0);
  formatWithOpa(cases, opaBinary());
  assert.ok(cases.some((c) => c.version === 'v0') && cases.some((c) => c.version === 'v1'));
  const outcomes = cases.map(compareWithOpa);
  const equal = outcomes.filter((o) => o.equal).length;
  console.log(`fmt: ${equal} / ${outcomes.length} sampled modules equal to opa fmt`);
  const known = knownDifferences();
  const unexpected = outcomes.filter((o) => o.equal === known.has(o.c.name)).map((o) => `${o.c.name}: ${o.equal ? 'now equal, unlist it' : firstDifference(o)}`);
  assert.deepEqual(unexpected, [], 'modules whose outcome differs from scripts/fmt/differing-modules.txt');
});
