// Differential test: `verdict test` against the pinned `opa test` on the same suites (test/cli/test-suites: passing
// tests with function, builtin and data mocks; failing, undefined, non-boolean, erroring, todo and repeated tests;
// Rego v0; a parse error; a test past --timeout) and on rego/. Exit codes must be equal; stdout equal once
// durations are masked, tests sorted (OPA runs them in parallel, in no fixed order), OPA's evaluation traces left
// out (compiled wasm keeps none) and error messages reduced to their code (OPA's messages quote its evaluator's
// internals); stderr equal.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const suites = 'test/cli/test-suites';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Run {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const SUMMARY = /^(PASS|FAIL|SKIPPED|ERROR): \d+\/\d+$/;
const RULE = '-'.repeat(80);

/** The pretty report as comparable parts: each test's block (sorted), the FAILURES list, the counts. */
function prettyParts(text: string): { tests: string[]; failures: string[]; summary: string[] } {
  const lines = text.replace(/\((\d+(\.\d+)?(ns|µs|ms|s|m|h))+\)/g, '(D)').split('\n');
  const firstRule = lines.indexOf(RULE);
  const tests: string[] = [];
  for (const line of firstRule < 0 ? lines : lines.slice(0, firstRule)) {
    if (/\.rego:\d+:$/.test(line)) tests.push(line);
    else if (/^data\./.test(line)) tests[tests.length - 1] += `\n${line}`;
    else if (/^ {2}\S/.test(line) && !/\n {2}/.test(tests[tests.length - 1]!)) tests[tests.length - 1] += `\n  ${/\w+_error/.exec(line)?.[0] ?? line}`;
  }
  const failuresAt = lines.indexOf('FAILURES');
  const failures = failuresAt < 0 ? [] : lines.slice(failuresAt).filter((l) => /^data\..*: FAIL/.test(l));
  return { tests: tests.sort(), failures: failures.sort(), summary: lines.filter((l) => SUMMARY.test(l)) };
}

/** The JSON report by test, durations left out and errors reduced to their codes. */
/** Each report's results (--count prints one array per run), in name order, without durations. */
function jsonParts(text: string): unknown[][] {
  const codes = (e: unknown) => (Array.isArray(e) ? e.map((x) => (x as { code: string }).code) : (e as { code: string }).code);
  return text.split(/(?<=^\])\n(?=\[)/m).map((doc) =>
    (JSON.parse(doc) as Array<{ package: string; name: string; duration: number; error?: unknown }>)
      .map(({ duration: _duration, error, ...rest }) => ({ ...rest, ...(error === undefined ? {} : { error: codes(error) }) }))
      .sort((a, b) => (`${a.package}.${a.name}` < `${b.package}.${b.name}` ? -1 : 1)),
  );
}

const cases: Array<{ args: string[]; json?: true }> = [
  { args: [`${suites}/passing`] },
  { args: ['-v', `${suites}/passing`] },
  { args: ['--bundle', '-v', `${suites}/passing`] },
  { args: [`${suites}/failing`] },
  { args: ['-v', `${suites}/failing`] },
  { args: ['--format', 'json', `${suites}/failing`], json: true },
  { args: ['--format=json', `${suites}/passing`], json: true },
  { args: ['--run', 'other', `${suites}/failing`] },
  { args: ['-z', '--run', 'later|passes', `${suites}/failing`] },
  { args: ['--run', 'later|passes', `${suites}/failing`] },
  { args: ['--run', 'nothing-matches', `${suites}/failing`] },
  { args: ['--fail-on-empty', '--run', 'nothing-matches', `${suites}/failing`] },
  { args: ['--v0-compatible', `${suites}/v0`] },
  { args: [`${suites}/broken`] },
  { args: ['/nonexistent/path'] },
  { args: ['--timeout', '300ms', `${suites}/slow`] },
  { args: ['rego'] },
  { args: ['--count', '2', `${suites}/failing`] },
  { args: ['--count', '2', `${suites}/passing`] },
  { args: ['--count=3', '--format=json', `${suites}/passing`], json: true },
  { args: ['--count', '0', `${suites}/failing`] },
  { args: ['--ignore', '*_test.rego', '--fail-on-empty', `${suites}/passing`] },
  { args: ['-v', 'rego'] },
];

describe('verdict test matches opa test', sideBySide, () => {
  for (const c of cases) {
    it(c.args.join(' '), async () => {
      const [theirs, ours] = await Promise.all([runCommand(opa, ['test', ...c.args]), runVerdict(['test', ...c.args])]);
      assert.equal(ours.status, theirs.status, `exit code; ours: ${ours.stdout}${ours.stderr}`);
      assert.equal(ours.stderr, theirs.stderr);
      if (c.json) assert.deepEqual(jsonParts(ours.stdout), jsonParts(theirs.stdout));
      else assert.deepEqual(prettyParts(ours.stdout), prettyParts(theirs.stdout));
    });
  }
});

describe('verdict test command line', () => {
  it('refuses flags it does not support by name, and unknown flags', () => {
    for (const [flag, named] of [['--coverage-runs=2', /--coverage-runs is not supported/], ['--parallel=4', /--parallel is not supported/], ['--var-values', /--var-values is not supported/], ['--no-such-flag', /--no-such-flag/]] as const) {
      const out = run(process.execPath, ['dist/src/main.js', 'test', flag, `${suites}/passing`]);
      assert.equal(out.status, 2);
      assert.match(out.stderr, named);
    }
  });

  it('prints its help', () => {
    const out = run(process.execPath, ['dist/src/main.js', 'test', '--help']);
    assert.equal(out.status, 0);
    assert.match(out.stdout, /usage: verdict test \[flags\] PATH\.\.\./);
    assert.match(out.stdout, /--run REGEX/);
  });
});
