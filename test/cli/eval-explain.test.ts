// `verdict eval --explain` against `opa eval --explain`: the text form of notes and fails is line for line
// OPA's on these policies; full keeps OPA's sequence of operations on a policy without nested calls; what the
// explain evaluator does not follow (`with` on data) is refused by name, never explained wrongly.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { opaPath } from '../compiler/opa-oracle.js';
import { rolesPolicy } from '../compiler/explain/policies.js';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = opaPath();
const dir = mkdtempSync(join(tmpdir(), 'verdict-eval-explain-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

const roles = file('roles.rego', rolesPolicy);
const simple = file('simple.rego', `package s

default allow := false

allow if {
  input.user == "alice"
  input.admin == true
}

names contains n if {
  some n in input.names
  n != "root"
}
`);
const inputs = {
  bob: file('bob.json', JSON.stringify({ role: 'dev', user: 'bob', roles: ['a', 'admin'] })),
  admin: file('admin.json', JSON.stringify({ role: 'admin', user: 'carol', roles: [] })),
  alice: file('alice.json', JSON.stringify({ user: 'alice', admin: false, names: ['root', 'a'] })),
};

const run = (command: string, args: string[]) => spawnSync(command, args, { encoding: 'utf8' });
const verdict = (args: string[]) => run(process.execPath, [resolve('dist/src/main.js'), 'eval', ...args]);
const reference = (args: string[]) => run(opa, ['eval', ...args]);

describe('verdict eval --explain', sideBySide, () => {
  const cases: [string, string, string][] = [
    [roles, inputs.bob, 'data.x'],
    [roles, inputs.admin, 'data.x.allow'],
    [roles, inputs.bob, 'data.x.deny'],
    [simple, inputs.alice, 'data.s'],
    [simple, inputs.alice, 'x := 1; x > 2'],
    [simple, inputs.alice, 'data.s.allow with input.admin as true'],
  ];
  for (const mode of ['notes', 'fails']) {
    for (const [policy, input, query] of cases) {
      it(`${mode}: ${query} with ${input.split('/').pop()}`, async () => {
        const args = ['-d', policy, '-i', input, `--explain=${mode}`, '--format', 'pretty', query];
        const [ours, theirs] = await Promise.all([runVerdict(['eval', ...args]), runCommand(opa, ['eval', ...args])]);
        assert.equal(ours.status, 0, ours.stderr);
        assert.equal(ours.stdout, theirs.stdout);
      });
    }
  }

  it('full: the sequence of operations, queries and locations as OPA', () => {
    const args = ['-d', simple, '-i', inputs.alice, '--explain=full', '--format', 'json', 'data.s'];
    const ops = (stdout: string) => (JSON.parse(stdout) as { explanation: { Op: string; QueryID: number; ParentID: number; Location: { row: number } }[] }).explanation.map((e) => `${e.Op} ${e.QueryID}/${e.ParentID} @${e.Location.row}`);
    const ours = verdict(args);
    assert.equal(ours.status, 0, ours.stderr);
    assert.deepEqual(ops(ours.stdout), ops(reference(args).stdout));
  });

  it('json: the explanation beside the same result', () => {
    const args = ['-d', roles, '-i', inputs.bob, '--explain=notes', 'data.x'];
    const ours = JSON.parse(verdict(args).stdout) as { result: unknown; explanation: { Op: string; Message: string }[] };
    const theirs = JSON.parse(reference(args).stdout) as typeof ours;
    assert.deepEqual(ours.result, theirs.result);
    assert.deepEqual(ours.explanation.map((e) => [e.Op, e.Message]), theirs.explanation.map((e) => [e.Op, e.Message]));
  });

  it('refuses what the explain evaluator does not follow, naming it', () => {
    const out = verdict(['-d', simple, '--explain=notes', 'data.s.allow with data.roles as {}']);
    assert.equal(out.status, 2);
    assert.match(out.stdout, /`with` on data.roles is not supported by explain \(only input\)/);
  });

  it('refuses an unknown mode, as opa eval does', () => {
    const out = verdict(['-d', simple, '--explain=everything', 'data.s']);
    assert.notEqual(out.status, 0);
    assert.notEqual(reference(['-d', simple, '--explain=everything', 'data.s']).status, 0);
    assert.match(out.stderr + out.stdout, /--explain everything: expected one of off, notes, fails, full, debug/);
  });

  it('off: no explanation, as opa eval', () => {
    const args = ['-d', simple, '-i', inputs.alice, '--explain=off', '--format', 'pretty', 'data.s.allow'];
    const ours = verdict(args);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout, reference(args).stdout);
  });
});
