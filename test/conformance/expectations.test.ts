// The conformance expectations check: exactly the listed cases may fail or be skipped, and a listed case that
// passes is reported so the list shrinks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocatedCase } from '../../scripts/conformance/cases.js';
import { loadExpectations, unmetExpectations, type RunExpectations } from '../../scripts/conformance/expectations.js';
import type { Outcome } from '../../scripts/conformance/run-case.js';

const at = (file: string, index: number): LocatedCase => ({ dir: file.split('/')[0]!, file, index, case: { note: `${file} ${index}`, query: 'x' } as LocatedCase['case'] });
const cases = [at('a/a.yaml', 0), at('a/a.yaml', 1), at('b/b.yaml', 0)];
const expected: RunExpectations = {
  failures: [{ case: 'a/a.yaml#1', reason: 'known' }],
  skipped: [{ case: 'b/b.yaml#0', reason: 'cannot run' }],
};
const pass: Outcome = { status: 'pass' };
const fail: Outcome = { status: 'fail', cause: 'undefined result', detail: '' };
const skip: Outcome = { status: 'skip', reason: 'cannot run' };

describe('conformance expectations', () => {
  it('are met when exactly the listed cases fail and are skipped', () => {
    assert.deepEqual(unmetExpectations(cases, [pass, fail, skip], expected), []);
  });

  it('report an unlisted failure and an unlisted skip', () => {
    assert.deepEqual(unmetExpectations(cases, [fail, fail, skip], expected), ['unexpected failure: a/a.yaml#0 "a/a.yaml 0": undefined result']);
    assert.deepEqual(unmetExpectations(cases, [skip, fail, skip], expected), ['unexpected skip: a/a.yaml#0 "a/a.yaml 0": cannot run']);
  });

  it('report a listed failure that now passes, a listed skip that ran, and a listed case that is gone', () => {
    assert.deepEqual(unmetExpectations(cases, [pass, pass, pass], expected), [
      'listed as failing but passes: a/a.yaml#1 "a/a.yaml 1" (take it off the list)',
      'listed as skipped but ran: b/b.yaml#0 "b/b.yaml 0" (take it off the list)',
    ]);
    assert.deepEqual(unmetExpectations(cases.slice(0, 2), [pass, fail], expected), ['listed case not in this run: b/b.yaml#0 (take it off the list)']);
  });

  it('read a run from the YAML file, refusing an entry without a reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-expect-'));
    try {
      const file = join(dir, 'e.yaml');
      writeFileSync(file, 'v1/opa/verdict:\n  failures:\n    - case: "a/a.yaml#1"\n      reason: known\n');
      assert.deepEqual(loadExpectations(file, 'v1/opa/verdict'), { failures: [{ case: 'a/a.yaml#1', note: undefined, reason: 'known' }], skipped: [] });
      assert.deepEqual(loadExpectations(file, 'v0/opa/verdict'), { failures: [], skipped: [] });
      writeFileSync(file, 'v1/opa/verdict:\n  failures:\n    - case: "a/a.yaml#1"\n');
      assert.throws(() => loadExpectations(file, 'v1/opa/verdict'), /needs a case \("file#index"\) and a non-empty reason/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
