// Differential test: `verdict deps` against the pinned `opa deps`: base and virtual documents of queries over the
// repository's policies and test suites (rules reached through imports, functions, partial rules, refs with
// variables, references under one another, a missing document), pretty and JSON; stdout and exit code.
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();

const cases: string[][] = [
  ['-d', 'test/cli/test-suites/passing', 'data.suite.authz.allow'],
  ['-d', 'test/cli/test-suites/passing', '-f', 'json', 'data.suite.authz.allow'],
  ['-d', 'test/cli/test-suites/passing', 'data.suite.authz.greeting; x := input.y'],
  ['input.a; input.a.b; input.c[x].d; data.q.r[_]; input["k"]; data.z'],
  ['-d', 'test/cli/deps', 'data.q.s.t.u; data.q.r'],
  ['-d', 'test/cli/deps', 'x := data.q.r; x.a; count(1); nosuch(input.n)'],
  ['-d', 'rego', 'data.kong.authz.decision'],
  ['-d', 'rego', '-f', 'json', 'data.gateway'],
  ['-d', 'rego', 'data.apisix.authz.nothing'],
  ['-d', 'no/such/dir', 'x'],
];

describe('verdict deps matches opa deps', sideBySide, () => {
  for (const args of cases) {
    it(args.join(' '), async () => {
      const [ours, theirs] = await Promise.all([runVerdict(['deps', ...args]), runCommand(opa, ['deps', ...args])]);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.equal(ours.stdout, theirs.stdout);
      assert.equal(ours.stderr === '', theirs.stderr === '');
    });
  }
});
