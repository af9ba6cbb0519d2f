// Differential test: `verdict exec` against the pinned `opa exec` on the same bundles and input files (a walked
// directory with YAML, an empty file, an unparsable file and a file of another extension; defined, undefined and
// empty-array decisions; -I; --fail, --fail-defined, --fail-non-empty and their combinations; missing paths and a
// bundle that does not compile): stdout (decision ids masked, each checked to be a UUID), exit code, and whether
// stderr is empty. Refused flags are checked on verdict alone.
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const bundle = 'test/cli/exec/bundle';
const inputs = 'test/cli/exec/inputs';
const UUID = /"decision_id": "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"/g;

/** The output with each decision id (which must be a UUID) replaced by a marker, and how many there were. */
function masked(stdout: string): { text: string; ids: number } {
  const ids = [...stdout.matchAll(UUID)].length;
  assert.equal(ids, (stdout.match(/"decision_id"/g) ?? []).length, `a decision_id is not a UUID:\n${stdout}`);
  return { text: stdout.replace(UUID, '"decision_id": "ID"'), ids };
}

const cases: Array<{ args: string[]; stdin?: string }> = [
  { args: ['--decision', 'exec/authz/allow', '-b', bundle, inputs] },
  { args: ['--decision', '/exec/authz/greeting', '-b', bundle, inputs] },
  { args: ['--decision', 'exec/authz', '-b', bundle, inputs] },
  { args: ['--decision', 'exec/authz/roles', '-b', bundle, `${inputs}/sub`, `${inputs}/./alice.json`] },
  { args: ['--decision', 'exec/authz/nothing', '-b', bundle, inputs] },
  { args: ['--decision', '/', '-b', bundle, inputs] },
  { args: ['--decision', '', '-b', bundle, inputs] },
  { args: ['-b', bundle, `${inputs}/alice.json`] },
  { args: ['--decision', 'exec/authz/allow', '-b', bundle, `${inputs}/notes.txt`] },
  { args: ['--decision', 'exec/authz/allow', '-b', bundle, '-I', `${inputs}/bob.yaml`], stdin: 'user: alice\n' },
  { args: ['--decision', 'exec/authz/allow', '-b', bundle, '--stdin-input'], stdin: '' },
  { args: ['--decision', 'exec/authz/allow', '-b', bundle] },
  { args: ['--decision', 'exec/authz/allow', '-b', bundle, inputs, 'no/such/file.json'] },
  { args: ['--decision', 'exec/authz/allow', '-b', 'test/cli/broken', inputs] },
  { args: ['--decision', 'envoy/authz/allow', '-b', 'rego/envoy', 'test/cli/inputs/envoy-anon.json', 'test/cli/inputs/envoy-get.json', 'test/cli/inputs/envoy-post.json'] },
  { args: ['--decision', 'kong/authz/decision', '-b', 'rego/kong', 'test/cli/inputs/kong-read.json', 'test/cli/inputs/kong-write.json'] },
];
for (const decision of ['allow', 'greeting', 'nothing', 'no_roles']) {
  for (const fail of ['--fail', '--fail-defined', '--fail-non-empty']) {
    cases.push({ args: [fail, '--decision', `exec/authz/${decision}`, '-b', bundle, `${inputs}/alice.json`, `${inputs}/bob.yaml`] });
  }
}
cases.push({ args: ['--fail', '--decision', 'exec/authz/allow', '-b', bundle, `${inputs}/broken.json`] });
cases.push({ args: ['--fail-defined=true', '--decision', 'exec/authz/nothing', '-b', bundle, `${inputs}/broken.json`] });
cases.push({ args: ['--fail', '--fail-defined', '--decision', 'exec/authz/allow', '-b', bundle, inputs] });
cases.push({ args: ['--fail-defined', '--fail-non-empty', '--decision', 'exec/authz/allow', '-b', bundle, inputs] });

describe('verdict exec matches opa exec', sideBySide, () => {
  for (const { args, stdin } of cases) {
    it(`${args.join(' ')}${stdin === undefined ? '' : ` <<< ${JSON.stringify(stdin)}`}`, async () => {
      const [ours, theirs] = await Promise.all([runVerdict(['exec', ...args], { stdin }), runCommand(opa, ['exec', ...args], { stdin })]);
      assert.equal(ours.status, theirs.status, `${ours.stderr}\n--- opa:\n${theirs.stderr}`);
      assert.deepEqual(masked(ours.stdout), masked(theirs.stdout));
      if (theirs.stdout !== '') assert.deepEqual(JSON.parse(ours.stdout).result.map((e: { path: string }) => e.path), JSON.parse(theirs.stdout).result.map((e: { path: string }) => e.path));
      // Verdict also names an unparsable input on stderr (OPA prints only its empty error object).
      const ourStderr = ours.stderr.split('\n').filter((l) => !/broken\.json: /.test(l)).join('');
      assert.equal(ourStderr === '', theirs.stderr === '', ours.stderr);
    });
  }
});

describe('verdict exec refuses what it does not do', sideBySide, () => {
  const refused: Array<[string[], string]> = [
    [['--config-file', 'x.yaml'], '--config-file'],
    [['-c', 'x.yaml'], '--config-file'],
    [['--set', 'a=b'], '--set'],
    [['--set-file', 'a=f'], '--set-file'],
    [['--timeout', '5s'], '--timeout'],
    [['--log-timestamp-format', 'x'], '--log-timestamp-format'],
    [['--log-level', 'debug'], '--log-level'],
    [['-f', 'pretty'], '--format'],
    [['--bogus'], '--bogus'],
  ];
  for (const [flag, name] of refused) {
    it(flag.join(' '), async () => {
      const out = await runVerdict(['exec', ...flag, '--decision', 'exec/authz/allow', '-b', bundle, inputs]);
      assert.equal(out.status, 2);
      assert.equal(out.stdout, '');
      assert.ok(out.stderr.includes(name), out.stderr);
    });
  }

  it('names an unparsable input on stderr', async () => {
    const out = await runVerdict(['exec', '--decision', 'exec/authz/allow', '-b', bundle, `${inputs}/broken.json`]);
    assert.equal(out.status, 0);
    assert.match(out.stderr, /broken\.json: /);
  });
});
