// Differential test: `verdict eval --strict-builtin-errors` against the pinned opa: the first builtin error fails
// the evaluation with OPA's message, code and location (in the query or in a module) and exit code 2; without
// the flag the call is undefined. OPA's stack_trace (its evaluator's query ids) and pretty Traceback are not
// reproduced: the JSON is compared without them, the pretty error by its code and message.
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();

const withoutStack = (text: string) => {
  const out = JSON.parse(text) as { errors?: Array<Record<string, unknown>> };
  for (const e of out.errors ?? []) delete e.stack_trace;
  return out;
};

const queries = ['x := to_number("abc")', 'y := 1; x := y / 0', 'x := json.unmarshal("{")', 'x := [1,\n  to_number("q")]', 'data.strict.r', 'data.strict.ok', 'x := 1'];

describe('verdict eval --strict-builtin-errors matches opa', sideBySide, () => {
  for (const q of queries) {
    for (const strict of [true, false]) {
      it(`${strict ? '--strict-builtin-errors ' : ''}${JSON.stringify(q)}`, async () => {
        const args = ['eval', '-d', 'test/cli/strict', ...(strict ? ['--strict-builtin-errors'] : []), q];
        const [ours, theirs] = await Promise.all([runVerdict(args), runCommand(opa, args)]);
        assert.equal(ours.status, theirs.status);
        assert.deepEqual(withoutStack(ours.stdout), withoutStack(theirs.stdout));
      });
    }
    it(`--format pretty ${JSON.stringify(q)}`, async () => {
      const args = ['eval', '-d', 'test/cli/strict', '--strict-builtin-errors', '-f', 'pretty', q];
      const [ours, theirs] = await Promise.all([runVerdict(args), runCommand(opa, args)]);
      assert.equal(ours.status, theirs.status);
      const codeAndMessage = (s: string) => / (eval_\w+: .*)$/m.exec(s)?.[1];
      assert.equal(codeAndMessage(ours.stderr), codeAndMessage(theirs.stderr));
      if (theirs.status === 0) assert.equal(ours.stdout, theirs.stdout);
    });
  }
});
