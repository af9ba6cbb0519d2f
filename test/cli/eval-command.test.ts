// Differential test: the `verdict eval` command line against the pinned `opa eval`: every output format (pretty
// tables and discard included), -b, -I, --fail, --fail-defined, --package, --import, --v0-compatible and errors, comparing
// stdout, stderr and the exit code byte for byte; --metrics by its timer names.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const input = 'test/cli/inputs/kong-read.json';

function run(command: string, args: string[], stdin?: string) {
  const out = spawnSync(command, args, { encoding: 'utf8', input: stdin });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const queries = [
  'x := [1,2][_]',
  'x := [1,2][_]; y := "a"; x > 0',
  'xlong := 1; y := "é"',
  '1 == 1; 2',
  'x := "<&>"',
  '{"a": [1, {"b": 2}]}',
  'false',
  'input.nothing',
  'data.kong.authz.decision',
  'h := data.kong.authz.decision.headers[k]',
  'nosuch(1)',
  '1 +',
];

const cases: Array<{ args: string[]; stdin?: string }> = [];
for (const format of ['json', 'pretty', 'raw', 'values', 'bindings', 'discard']) {
  for (const q of queries) cases.push({ args: ['-d', 'rego', '-i', input, '-f', format, q] });
}
cases.push(
  { args: ['-b', 'test/cli/test-suites/passing', '--format=pretty', 'data.suite.config'] },
  { args: ['-I', '-f', 'raw', 'input.user'], stdin: '{"user": "ann"}' },
  { args: ['--stdin-input', 'input'], stdin: '{"user": "ann"}' },
  { args: ['--fail', 'input.nothing'] },
  { args: ['--fail', '1'] },
  { args: ['--fail-defined', '1'] },
  { args: ['--fail-defined', 'input.nothing'] },
  { args: ['--fail', 'nosuch(1)'] },
  { args: ['-d', 'rego', '--package', 'kong.authz', '-i', input, 'reading'] },
  { args: ['-d', 'rego', '--import', 'data.kong.authz', '-i', input, '-f', 'pretty', 'authz.decision'] },
  { args: ['-d', 'test/cli/eval-v0', '--v0-compatible', '-f', 'pretty', 'data.legacy.names'] },
  { args: ['-d', '/nonexistent/path', '1'] },
  // Table columns are as wide as a terminal shows them: CJK and emoji take two columns, combining marks none.
  { args: ['-f', 'pretty', 'x := "漢字"; y := "😀"; z := "e\u0301"; w := "👨‍👩‍👧"'] },
  { args: ['-f', 'discard', '--fail-defined', '1'] },
  // An explanation without events is left out of the JSON.
  { args: ['-d', 'rego', '-i', input, '--explain', 'notes', 'data.kong.authz.decision'] },
  { args: ['-d', 'rego', '-i', input, '-f', 'discard', '--explain', 'notes', 'data.kong.authz.decision'] },
);

describe('verdict eval matches opa eval on the command line', sideBySide, () => {
  for (const c of cases) {
    it(`${c.args.join(' ')}${c.stdin ? ` <<< ${c.stdin}` : ''}`, async () => {
      const [ours, theirs] = await Promise.all([runVerdict(['eval', ...c.args], c), runCommand(opa, ['eval', ...c.args], c)]);
      assert.deepEqual(ours, theirs);
    });
  }

  it('--metrics reports the timers opa eval reports', () => {
    const args = ['eval', '--metrics', '-d', 'rego/kong', 'data.kong.authz.public'];
    const names = (text: string) => Object.keys(JSON.parse(text).metrics as object);
    assert.deepEqual(names(run(process.execPath, ['dist/src/main.js', ...args]).stdout), names(run(opa, args).stdout));
  });
});

describe('verdict eval evaluation errors', () => {
  it('reports a conflict as opa eval does: its code, where, exit code 2', () => {
    const args = ['eval', '-d', 'test/cli/test-suites/failing', 'data.failing.pick'];
    const ours = run(process.execPath, ['dist/src/main.js', ...args]);
    const theirs = run(opa, args);
    assert.equal(ours.status, theirs.status);
    const first = (text: string) => (JSON.parse(text) as { errors: Array<{ code: string; location: { file: string; row: number } }> }).errors[0]!;
    assert.deepEqual([first(ours.stdout).code, first(ours.stdout).location.file, first(ours.stdout).location.row], [first(theirs.stdout).code, first(theirs.stdout).location.file, first(theirs.stdout).location.row]);
  });
});

describe('verdict eval flags', () => {
  it('refuses what it does not support by name, and unknown flags', () => {
    for (const [flag, named] of [['--profile', /--profile is not supported/], ['--show-builtin-errors', /--show-builtin-errors is not supported/], ['--bogus', /--bogus/]] as const) {
      const out = run(process.execPath, ['dist/src/main.js', 'eval', flag, '1']);
      assert.equal(out.status, 2);
      assert.match(out.stderr, named);
    }
  });
});
