// Differential test: `verdict eval` against the pinned opa on queries that iterate over or read all of data where
// base data and rules meet. OPA lists base data's keys first (sorted), then the documents only rules give
// (sorted), at every level; it reads data's root without base data's `system` key, and the whole document without
// the rules below `system` either, while `data.system` and `data[x]` with x bound see all of it; a document a
// `with` replaces counts as base data.
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeTree } from '../server/harness.js';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();

const dir = writeTree({
  'zz.rego': 'package zz\n\na := 1\n',
  'bbb.rego': 'package bbb\n\nb := 1\n',
  'ccc.rego': 'package ccc.inner\n\nc := 1\n\nf(x) := x\n',
  'aa.rego': 'package aa\n\nc := 1\n\ns contains x if some x in [3, 1, 2]\n',
  'sys.rego': 'package system.foo\n\nr := 1\n',
  'data.json': JSON.stringify({ ccc: { x: 1, a: 2 }, m: 1, b: {}, zz: { q: 1 }, system: { base: 1 }, Z: 0 }),
});

const queries = [
  '[k | data[k]]',
  'data[k]',
  '[k | data.ccc[k]]',
  '[k | data.zz[k]]',
  '[[k, j] | data[k][j]]',
  '[[k, v] | data.ccc[k] = v]',
  '[k | some k, _ in data]',
  '{k: v | data[k] = v}',
  '[k | data[k]; k != "m"]',
  'data',
  'x := data',
  'object.keys(data)',
  '[p | walk(data, [p, _]); count(p) == 1]',
  'data.system',
  'x := "system"; y := data[x]',
  '[k | data.aa.s[k]]',
  // A document `with` replaces is base data to OPA: its key comes in base data's order.
  'x := [k | data[k]] with data.bbb.b as 3',
  'x := [k | data.ccc[k]] with data.ccc.inner as {"q": 1}',
  'x := [[k, v] | data[k] = v] with data.m as 5',
  'x := [k | data[k]] with data.new as 1',
];

describe('verdict eval iterates over and reads data as opa does', sideBySide, () => {
  for (const q of queries) {
    it(JSON.stringify(q), async () => {
      const args = ['eval', '-d', dir, '-f', 'json', q];
      const [ours, theirs] = await Promise.all([runVerdict(args), runCommand(opa, args)]);
      assert.equal(ours.status, theirs.status, ours.stderr);
      // Compared as text: the order of array elements and of bindings rows is what is under test.
      assert.deepEqual(JSON.parse(ours.stdout), JSON.parse(theirs.stdout));
      assert.equal(JSON.stringify(JSON.parse(ours.stdout)), JSON.stringify(JSON.parse(theirs.stdout)));
    });
  }
});
