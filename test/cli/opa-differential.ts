// One command line run by the reference OPA and by verdict, in the same folder, for differential tests. The two
// run side by side, and a suite of such cases may run several at once (command-runs.ts, sideBySide).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { referenceOpa } from '../engine/opa-fixture.js';
import { writeTree } from '../server/harness.js';
import { runCommand, runVerdict, type Outcome } from './command-runs.js';

export interface BothRuns {
  theirs: Outcome;
  ours: Outcome;
}

export async function runBoth(argv: string[], cwd: string): Promise<BothRuns> {
  const [theirs, ours] = await Promise.all([runCommand(referenceOpa(), argv, { cwd }), runVerdict(argv, { cwd })]);
  return { theirs, ours };
}

/** An `opa eval`/`opa check` JSON answer without OPA's stack_trace, which verdict does not print. */
export function withoutStackTraces(json: string): unknown {
  const out = JSON.parse(json) as { errors?: Record<string, unknown>[] };
  for (const e of out.errors ?? []) delete e.stack_trace;
  return out;
}

/**
 * `opa check --format json` and `verdict check --format json` of the same files (with the same `flags`) agree:
 * exit status, the errors (printed on stderr, nothing when the modules are fine) and stdout.
 */
export async function assertChecksAgree(files: string[], cwd: string, flags: string[] = []): Promise<void> {
  const { theirs, ours } = await runBoth(['check', '--format', 'json', ...flags, ...files], cwd);
  assert.equal(ours.status, theirs.status, ours.stderr);
  assert.deepEqual(withoutStackTraces(ours.stderr || '{}'), withoutStackTraces(theirs.stderr || '{}'));
  assert.equal(ours.stdout, theirs.stdout);
}

/**
 * A test per case: `opa check` and `verdict check` (with `flags`) of the module made of it, alone in a folder,
 * agree (assertChecksAgree).
 */
export function itChecksAgree(cases: string[], moduleOf: (c: string) => string, title: (c: string) => string = (c) => c, flags: string[] = []): void {
  cases.forEach((c, i) => {
    it(title(c), () => assertChecksAgree([`m${i}.rego`], writeTree({ [`m${i}.rego`]: moduleOf(c) }), flags));
  });
}
