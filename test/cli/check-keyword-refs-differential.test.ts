// A keyword directly followed by `.` or `[` (`null[0]`, `true.c`, `if.x`), against the real OPA: at the start of
// an expression it is read as a var (so `null[0]` alone is "var null is unsafe"); anywhere else it is the keyword
// itself, so a scalar one makes an illegal ref (head cannot be null / boolean) and any other an unexpected
// keyword, both parse errors at the keyword.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeTree } from '../server/harness.js';
import { itChecksAgree, runBoth } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const bodies = [
  'q := null[0]',
  'q := [true.c]',
  'q := {"a": false[1]}',
  'q contains null[0]',
  'q[true.x] := 1',
  'f(null[0]) := 1',
  'q if { x := true.c }',
  'q if { 1 == null.x }',
  'q if { count(false.x) }',
  'q if { not null[0] }',
  'q if { {null[0] | true} }',
  'q if { x := 1 with input as null.x }',
  'q if null[0]',
  'q if { null[0] }',
  'q if { true.x == 1 }',
  'q if { null[x] }',
  'q if { y := if.x }',
  'q if { [else.x] }',
  'q if { count(with.x) }',
  'q := some.x',
  'q if { contains.x }',
  'q := 1[0]',
  'q if { "s"[0] }',
];

describe('opa check and verdict check agree on refs headed by a keyword', sideBySide, () => {
  itChecksAgree(bodies, (body) => `package p\n\n${body}\n`);
});

describe('opa eval and verdict eval agree on queries with refs headed by a scalar', sideBySide, () => {
  const dir = writeTree({ 'empty.json': '{}' });
  for (const query of ['x := null[0]', 'not true.x', '[null.a]', 'count(false[0])', 'x := [1]; x[0] == 1']) {
    it(query, async () => {
      const argv = ['eval', '--format', 'json', query];
      const { theirs, ours } = await runBoth(argv, dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.deepEqual(JSON.parse(ours.stdout), JSON.parse(theirs.stdout));
    });
  }
});
