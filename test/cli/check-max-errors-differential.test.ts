// `check --max-errors N` against the real OPA: the compile stops after the first N errors found, reported with
// "error limit reached" after them (10 by default, no limit for 0 or less), also where errors that let the
// later stages run (strict mode's) come before others and the kept ones are sorted by position.
import { describe, it } from 'node:test';
import { writeTree } from '../server/harness.js';
import { assertChecksAgree } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const unsafe = Array.from({ length: 14 }, (_, i) => `r${i} if {\n  x${i}\n}`).join('\n\n');

const mixed = `f(a) := 1

g if {
  x := 1
  true
}

h if nope(1)

k if {
  y := 2
  z
}

m if {
  w := 3
  count(1) > 0
}
`;

const cases: Array<[string, string[]]> = [
  [unsafe, ['-m', '3']],
  [unsafe, ['-m', '1']],
  [unsafe, ['--max-errors', '13']],
  [unsafe, ['--max-errors=14']],
  [unsafe, ['-m', '20']],
  [unsafe, ['-m', '0']],
  [unsafe, ['-m', '-1']],
  [mixed, ['--strict', '-m', '2']],
  [mixed, ['--strict', '-m', '4']],
  [mixed, ['--strict', '-m', '0']],
  [mixed, ['-m', '1']],
];

describe('opa check and verdict check agree on --max-errors', sideBySide, () => {
  cases.forEach(([rules, flags], i) => {
    it(`${flags.join(' ') || 'no flag'} on ${rules === unsafe ? '14 unsafe vars' : 'errors of several stages'}`, async () => {
      const dir = writeTree({ [`m${i}.rego`]: `package p\n\n${rules}\n` });
      await assertChecksAgree([`m${i}.rego`], dir, flags);
    });
  });
});
