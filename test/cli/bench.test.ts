// Differential test: `verdict bench` against the pinned `opa bench`. Times differ from run to run and engine to
// engine, so the timed runs are compared by shape: the table's row names, the JSON's keys, the gobench line's
// units and the exit code (Verdict leaves out allocs/op: V8 counts no allocations). Failures are compared byte for
// byte: stdout, stderr and exit code.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide, type Outcome } from './command-runs.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const input = 'test/cli/inputs/kong-read.json';
// opa bench does bookkeeping outside its timer on every evaluation, so a query of a few microseconds runs some
// 100,000 times and a run takes many seconds; counting a range makes an evaluation last about a millisecond and
// keeps each run of both near its second. The timed runs compare shapes, which the query does not change.
const work = 'count(numbers.range(1, 2000)) > 0';
const query = `data.kong.authz.decision; ${work}`;

function verdictBench(args: string[], stdin?: string): Promise<Outcome> {
  return runVerdict(['bench', ...args], { stdin });
}

/** Both at once: each benchmark runs for about a second. */
function both(args: string[], stdin?: string): Promise<[Outcome, Outcome]> {
  return Promise.all([verdictBench(args, stdin), runCommand(opa, ['bench', ...args], { stdin })]);
}

const ALLOCS = 'allocs/op';

function tableRows(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('│')).map((l) => l.split('│')[1]!.trim());
}

function tableValues(text: string): number[] {
  return text.split('\n').filter((l) => l.startsWith('│')).map((l) => Number(l.split('│')[2]!.trim()));
}

function jsonShapes(text: string): unknown[] {
  // --count prints one indented document per run, each ending in a closing brace at the start of a line.
  return text.split(/(?<=^\})\n/m).filter((d) => d.trim() !== '').map((d) => {
    const doc = JSON.parse(d) as Record<string, unknown>;
    return { keys: Object.keys(doc), extra: Object.keys(doc.Extra as object) };
  });
}

function gobenchUnits(text: string): string[][] {
  return text.trim().split('\n').map((line) => {
    const [name, n, ...fields] = line.split('\t');
    assert.match(n!, /^ *\d+$/);
    return [name!, ...fields.map((f) => f.trim().split(' ')[1]!).filter((u) => u !== ALLOCS)];
  });
}

describe('verdict bench has the shape of opa bench', () => {
  it('pretty: the same rows (without allocs/op), positive figures, exit 0', async () => {
    const [ours, theirs] = await both(['-d', 'rego', '-i', input, query]);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.deepEqual(tableRows(ours.stdout), tableRows(theirs.stdout).filter((r) => r !== ALLOCS));
    assert.ok(tableValues(ours.stdout).every((v) => Number.isFinite(v) && v >= 0), ours.stdout);
    assert.ok(tableValues(ours.stdout)[0]! > 1, 'more than one evaluation');
  });

  it('json with --count 2: two of Go\'s BenchmarkResult documents with the same keys', async () => {
    const [ours, theirs] = await both(['-d', 'rego', '-i', input, '-f', 'json', '--count', '2', query]);
    assert.equal(ours.status, theirs.status);
    assert.deepEqual(jsonShapes(ours.stdout), jsonShapes(theirs.stdout));
    assert.equal(jsonShapes(ours.stdout).length, 2);
  });

  it('gobench with --metrics=false: the same line of units', async () => {
    const [ours, theirs] = await both(['-d', 'rego', '-i', input, '-f', 'gobench', '--metrics=false', query]);
    assert.equal(ours.status, theirs.status);
    assert.deepEqual(gobenchUnits(ours.stdout), gobenchUnits(theirs.stdout));
  });

  it('--fail=false benchmarks an undefined result; --benchmem=false --metrics=false: samples and ns/op only', async () => {
    const [ours, theirs] = await both(['-d', 'rego', '--fail=false', '--metrics=false', '--benchmem=false', `${work}; data.kong.nothing`]);
    assert.equal(ours.status, 0, ours.stderr);
    assert.deepEqual(tableRows(ours.stdout), ['samples', 'ns/op']);
    assert.deepEqual(tableRows(ours.stdout), tableRows(theirs.stdout));
  });

  it('input from stdin (-I) and --package', async () => {
    const ours = await verdictBench(['-d', 'rego', '--package', 'kong.authz', '-I', '--metrics=false', '--benchmem=false', '-f', 'gobench', 'decision'], readFileSync(input, 'utf8'));
    assert.equal(ours.status, 0, ours.stderr);
    assert.match(ours.stdout, /^BenchmarkOPAEval\t *\d+\t *\d+ ns\/op\n$/);
  });
});

describe('verdict bench fails as opa bench does', sideBySide, () => {
  const cases = [
    ['-d', 'rego', 'data.kong.nothing'],
    ['-d', 'rego', '-f', 'json', 'data.kong.nothing'],
    ['-d', 'rego', 'x = 1 +'],
    ['-d', 'rego', '-f', 'json', 'x = 1 +'],
    ['-d', 'rego', '-f', 'gobench', 'nosuch(1)'],
    ['-d', 'test/cli/nonexistent.rego', 'x'],
    ['-d', 'rego', '-i', input, '-f', 'json', 'to_number("x")'],
  ];
  for (const args of cases) {
    it(args.join(' '), async () => {
      const [ours, theirs] = await both(args);
      assert.deepEqual(ours, theirs);
    });
  }

  it('refuses what it does not build, by name (exit 2)', async () => {
    const flags = ['--e2e', '-p', '--target=wasm', '--config-file=c.yaml'];
    const [bad, ...refused] = await Promise.all([verdictBench(['-f', 'yaml', '1']), ...flags.map((flag) => verdictBench([flag, '1']))]);
    refused.forEach((ours, i) => {
      assert.equal(ours.status, 2, flags[i]);
      assert.match(ours.stderr, new RegExp(`--(e2e|partial|target|config-file) is not supported`), flags[i]);
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--format yaml: expected one of pretty, json, gobench/);
  });
});
