// verdict's formatter against `opa fmt` on a sample of OPA's conformance modules (every 8th, v1 and v0); the
// whole corpus runs in `npm run fmt:differential` (.ci/run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWithOpa, corpusModules, firstDifference, formatWithOpa, opaBinary } from '../../../scripts/fmt/corpus.js';

/** Of the sampled modules, how many format as OPA's at the last count (98%); fewer fails. */
const SAMPLE_FLOOR = 547;

test('verdict fmt equals opa fmt on a sample of the conformance modules', () => {
  const cases = corpusModules().filter((_, i) => i % 8 === 0);
  formatWithOpa(cases, opaBinary());
  assert.ok(cases.some((c) => c.version === 'v0') && cases.some((c) => c.version === 'v1'));
  const outcomes = cases.map(compareWithOpa);
  const equal = outcomes.filter((o) => o.equal).length;
  const differing = outcomes.filter((o) => !o.equal).map((o) => `${o.c.name}: ${firstDifference(o)}`);
  console.log(`fmt: ${equal} / ${outcomes.length} sampled modules equal to opa fmt`);
  assert.ok(equal >= SAMPLE_FLOOR, `only ${equal} of ${outcomes.length} equal (floor ${SAMPLE_FLOOR}):\n${differing.join('\n')}`);
});
