// A rule value or key that looks something up by a variable the body does not bind (`r := input.a[y]`,
// `q := [{"a": 1}[x]]`), against the real OPA: the lookup iterates like `xs[i]` in a body, so the rule is
// accepted, where a variable the head uses but nothing binds is still unsafe.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeTree } from '../server/harness.js';
import { runBoth, withoutStackTraces as answer } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const rules = [
  'q := [{"a": 1}[x]]',
  'r := input.one[y]',
  'q := {"k": input.one[y]}',
  'q := {input.b[k]: 1}',
  'q := {input.one[y]}',
  'q := count([input.a[y]])',
  'q := [[v | v := input.a[_]], input.one[y]]',
  'q := [1 | true][x]',
  'q := input.one[i][j]',
  'q contains input.a[y]',
  'q := 1 if false else := input.one[y]',
  'f(z) := input.one[y] if z',
  'g := f(0)\nf(z) := [input.a[z], input.one[y]]',
  'q := input.one[y] if { y == 0 }',
  'q := x[y] if { x := input.one }',
  'q := input.a[y]',
  'q := [x[y], z] if { x := input.one }',
];

describe('opa eval and verdict eval agree on rule heads that look up by a variable', sideBySide, () => {
  const input = '{"a": [5, 6], "b": {"k": 1}, "one": [7]}';
  rules.forEach((rule, i) => {
    it(rule.replace('\n', '; '), async () => {
      const dir = writeTree({ [`m${i}.rego`]: `package p\n\n${rule}\n`, 'input.json': input });
      const argv = ['eval', '--format', 'json', '-d', `m${i}.rego`, '-i', 'input.json', 'data.p'];
      const { theirs, ours } = await runBoth(argv, dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.deepEqual(answer(ours.stdout), answer(theirs.stdout));
    });
  });
});
