// Differential test: `verdict eval -S/--strict` (the compiler's strict mode) against the pinned opa. Policies are
// checked as `verdict check --strict` checks them (unused imports, assignments and function arguments, deprecated
// builtins, v1 rules for v0 modules); the ad-hoc query as OPA's query compiler checks it, which reports no unused
// assignment or import (nor a repeated import, strict or not) and stops at the first stage with an error. The same
// for -p (partial evaluation) and the pretty format.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';
import { withoutStackTraces } from './opa-differential.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();

const dir = mkdtempSync(join(tmpdir(), 'verdict-eval-strict-'));
const policy = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const unused = policy('unused.rego', 'package unused\n\nimport data.foo\n\np if {\n  y := 1\n  true\n}\n\nf(a) := 1\n');
const deprecated = policy('deprecated.rego', 'package deprecated\n\np if any([true])\n');
const clean = policy('clean.rego', 'package clean\n\nallow if input.user == "alice"\n\ncount_of(xs) := count(xs)\n');
const v0 = policy('v0.rego', 'package v0\n\np[x] { x := 1 }\n\nq = true { input.a }\n');
const twoFoos = policy('foos.json', '{"a": {"foo": 1}, "b": {"foo": 2}}');
const comprehension = policy('comprehension.rego', 'package comprehension\n\np if {\n  y := [1 | x := 1]\n  y\n}\n');

interface Case {
  title: string;
  args: string[];
}

const cases: Case[] = [
  { title: 'unused import, assignment and argument in a policy', args: ['-d', unused, 'data.unused'] },
  { title: 'deprecated builtin in a policy', args: ['-d', deprecated, 'data.deprecated.p'] },
  { title: 'a policy strict mode accepts', args: ['-d', clean, '-I', 'data.clean'] },
  { title: 'unused assignment in a comprehension of a policy', args: ['-d', comprehension, 'data.comprehension.p'] },
  { title: 'v0 policy with v0-compatible', args: ['--v0-compatible', '-d', v0, 'data.v0'] },
  { title: 'query assignment', args: ['x := 1'] },
  { title: 'query assignments', args: ['x := 1; y = 2; true'] },
  { title: 'unused assignment in a query comprehension', args: ['y := [1 | x := 1]'] },
  { title: 'unused declared var in a query', args: ['some x; true'] },
  { title: 'unused declared var in a query, later expressions', args: ['some x; true; 1 == 1'] },
  { title: 'deprecated builtin in a query', args: ['any([true])'] },
  { title: 'query over a policy with errors', args: ['-d', unused, 'some z; true'] },
  { title: 'unused import of a query', args: ['--import', 'data.foo', 'true'] },
  { title: 'repeated import of a query', args: ['--import', 'data.foo', '--import', 'data.foo', 'true'] },
  { title: 'imports of a query with one name, the last one read', args: ['-d', twoFoos, '--import', 'data.a.foo', '--import', 'data.b.foo', 'foo'] },
];

const stdin = JSON.stringify({ user: 'alice' });

describe('verdict eval --strict matches opa', sideBySide, () => {
  for (const c of cases) {
    for (const strict of [['--strict'], ['-S'], ['--strict=false'], []]) {
      it(`${strict.join(' ') || '(no flag)'}: ${c.title}`, async () => {
        const args = ['eval', ...strict, ...c.args];
        const options = c.args.includes('-I') ? { stdin } : {};
        const [ours, theirs] = await Promise.all([runVerdict(args, options), runCommand(opa, args, options)]);
        assert.equal(ours.status, theirs.status, `exit code; opa: ${theirs.stdout}`);
        assert.deepEqual(withoutStackTraces(ours.stdout), withoutStackTraces(theirs.stdout));
      });
    }
  }
  for (const c of cases.filter((k) => k.args.includes('-d') && !k.args.includes('-I'))) {
    it(`--strict --format pretty: ${c.title}`, async () => {
      const args = ['eval', '--strict', '--format', 'pretty', ...c.args];
      const [ours, theirs] = await Promise.all([runVerdict(args), runCommand(opa, args)]);
      assert.equal(ours.status, theirs.status);
      assert.equal(ours.stderr, theirs.stderr);
      assert.equal(ours.stdout, theirs.stdout);
    });
  }
  for (const file of [unused, deprecated, clean]) {
    it(`-p --strict: ${file.split('/').pop()}`, async () => {
      const pkg = file.split('/').pop()!.replace('.rego', '');
      const args = ['eval', '-p', '--strict', '-d', file, `data.${pkg}`];
      const [ours, theirs] = await Promise.all([runVerdict(args), runCommand(opa, args)]);
      assert.equal(ours.status, theirs.status, `exit code; opa: ${theirs.stdout}`);
      if (theirs.status !== 0) assert.deepEqual(withoutStackTraces(ours.stdout), withoutStackTraces(theirs.stdout));
    });
  }
});

it('verdict eval --help lists -S, --strict', async () => {
  const { stdout, status } = await runVerdict(['eval', '--help']);
  assert.equal(status, 0);
  assert.match(stdout, /-S, --strict +enable compiler strict mode/);
});
