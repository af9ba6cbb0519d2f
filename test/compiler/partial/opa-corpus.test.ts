// OPA's own partial-evaluation cases (read from the pinned OPA module at test time, never copied): Verdict
// must never crash on them, must answer at least as many equivalently as it does today, and the rest are
// either refused with a message naming what is not supported or listed as differing (docs/partial-evaluation.md
// explains the kinds of difference). The counts are printed for the record.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { opaModuleDir, opaPath } from '../opa-oracle.js';
import { opaPartialCases } from './opa-cases.js';
import { runCorpus } from './opa-corpus-run.js';

/** Equivalent answers (after normalisation) when this floor was set; raise it as the evaluator improves. */
const EQUIVALENT_FLOOR = 286;
/** Of those, the answers whose equations also have their operands in OPA's order. */
const IN_ORDER_FLOOR = 284;
/** Answers that are exactly OPA's JSON (expression order, operand order and generated names too). */
const EXACT_FLOOR = 269;

it("OPA's partial-evaluation cases: no crash, equivalent answers at or above the floor", { timeout: 180_000 }, () => {
  const cases = opaPartialCases(opaModuleDir());
  assert.ok(cases.length >= 250, `only ${cases.length} literal cases read from OPA's topdown_partial_test.go`);
  const results = runCorpus(opaPath(), cases);
  const crashes = results.filter((r) => r.verdict.kind === 'error' && r.verdict.message.startsWith('crash'));
  assert.deepEqual(crashes.map((r) => `${r.note}: ${(r.verdict as { message: string }).message.split('\n')[0]}`), []);
  const same = results.filter((r) => r.same).length;
  const refused = results.filter((r) => !r.same && r.verdict.kind === 'error').length;
  const different = results.filter((r) => !r.same && r.verdict.kind === 'result');
  const inOrder = results.filter((r) => r.inOrder).length;
  const exact = results.filter((r) => r.exact).length;
  console.log(`OPA partial-evaluation cases: ${results.length} run, ${same} equivalent (${inOrder} with OPA's operand order, ${exact} exactly OPA's JSON), ${refused} refused, ${different.length} different`);
  for (const r of different) console.log(`  different: ${r.note}`);
  for (const r of results) if (r.same && !r.inOrder) console.log(`  operands in another order: ${r.note}`);
  assert.ok(same >= EQUIVALENT_FLOOR, `${same} equivalent answers, below the floor of ${EQUIVALENT_FLOOR}`);
  assert.ok(exact >= EXACT_FLOOR, `${exact} answers exactly OPA's, below the floor of ${EXACT_FLOOR}`);
  assert.ok(inOrder >= IN_ORDER_FLOOR, `${inOrder} answers with OPA's operand order, below the floor of ${IN_ORDER_FLOOR}`);
});
