// Differential test: `verdict inspect` against the pinned `opa inspect` on bundles with a manifest (roots,
// metadata, rego_version, a data file the roots do not cover, which inspect lists without checking), v0 modules
// with rule annotations (authors, organizations, related resources), long manifest values and paths (OPA cuts
// table cells), `# METADATA` comments away from column 1 (not annotations) and blocks with nothing in them (an
// error), the repository's policies and test suites, a directory that does not parse and a missing path:
// stdout, stderr and exit code byte for byte, pretty and JSON, with and without -a.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const bundles = 'test/cli/inspect-bundles';

function run(command: string, args: string[]) {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const paths = [`${bundles}/manifest`, `${bundles}/comment-placement`, `${bundles}/empty-metadata`, `${bundles}/long-values`, `${bundles}/long-paths`, 'bundles/sample', 'rego', 'test/cli/test-suites/passing', 'test/cli/coverage-suites/rules', 'test/cli/eval-v0', 'no/such/bundle'];
const cases: string[][] = [];
for (const path of paths) for (const flags of [[], ['-a'], ['--format', 'json', '-a']]) cases.push([...flags, path]);
cases.push(['-f=json', 'rego']);
cases.push(['--v0-compatible', '-a', `${bundles}/v0-annotations`], ['--v0-compatible', '-f', 'json', '-a', `${bundles}/v0-annotations`], ['--v0-compatible', 'test/cli/eval-v0']);

describe('verdict inspect matches opa inspect', sideBySide, () => {
  for (const args of cases) {
    it(args.join(' '), async () => {
      const [ours, theirs] = await Promise.all([runVerdict(['inspect', ...args]), runCommand(opa, ['inspect', ...args])]);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.equal(ours.stdout, theirs.stdout);
      assert.equal(ours.stderr, theirs.stderr);
    });
  }

  it('prints its help and refuses a second path', () => {
    const help = run(process.execPath, ['dist/src/main.js', 'inspect', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /usage: verdict inspect \[flags\] PATH/);
    const two = run(process.execPath, ['dist/src/main.js', 'inspect', 'rego', 'bundles/sample']);
    assert.notEqual(two.status, 0);
    assert.match(two.stderr, /exactly one path/);
  });
});
