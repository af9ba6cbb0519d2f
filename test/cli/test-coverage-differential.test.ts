// Differential test of `verdict test --coverage` and of print() against the pinned opa. Coverage: the same exit
// code, the same covered and not-covered lines and percentages per file and overall, and every span Verdict
// reports is one OPA reports (OPA also lists the calls and comprehensions nested in an expression, on the same
// lines; docs/cli.md names that difference). print(): the lines each test printed (pretty and JSON reports) and
// what `eval` writes on stderr.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const suites = 'test/cli/coverage-suites';

function run(command: string, args: string[]) {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}
const verdict = (args: string[]) => run(process.execPath, ['dist/src/main.js', ...args]);

interface Range { start: { row: number; col: number }; end: { row: number; col: number } }
interface FileReport { covered?: Range[]; not_covered?: Range[]; covered_lines?: number; not_covered_lines?: number; coverage?: number }
interface Report { files: Record<string, FileReport>; covered_lines: number; not_covered_lines: number; coverage: number }

const rows = (ranges: Range[] = []) => [...new Set(ranges.flatMap((r) => Array.from({ length: r.end.row - r.start.row + 1 }, (_, i) => r.start.row + i)))].sort((a, b) => a - b);
const span = (r: Range) => `${r.start.row}:${r.start.col}-${r.end.row}:${r.end.col}`;

describe('verdict test --coverage matches opa test --coverage', () => {
  for (const args of [[`${suites}/rules`], ['--format', 'json', `${suites}/rules`], ['test/cli/test-suites/passing']]) {
    it(args.join(' '), () => {
      const theirs = run(opa, ['test', '--coverage', ...args]);
      const ours = verdict(['test', '--coverage', ...args]);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.equal(theirs.status, 0, theirs.stderr);
      const [o, t] = [JSON.parse(ours.stdout) as Report, JSON.parse(theirs.stdout) as Report];
      assert.deepEqual(Object.keys(o.files).sort(), Object.keys(t.files).sort());
      for (const [file, tf] of Object.entries(t.files)) {
        const of = o.files[file]!;
        assert.deepEqual(rows(of.covered), rows(tf.covered), `${file}: covered lines`);
        assert.deepEqual(rows(of.not_covered), rows(tf.not_covered), `${file}: lines not covered`);
        assert.deepEqual([of.covered_lines, of.not_covered_lines, of.coverage], [tf.covered_lines, tf.not_covered_lines, tf.coverage], file);
        for (const kind of ['covered', 'not_covered'] as const) {
          const theirSpans = new Set((tf[kind] ?? []).map(span));
          for (const r of of[kind] ?? []) assert.ok(theirSpans.has(span(r)), `${file}: ${kind} ${span(r)} is not in OPA's report`);
        }
      }
      assert.deepEqual([o.covered_lines, o.not_covered_lines, o.coverage], [t.covered_lines, t.not_covered_lines, t.coverage]);
    });
  }

  it('lists the tests that did not pass instead of the report, exit 1', () => {
    const theirs = run(opa, ['test', '--coverage', `${suites}/failing`]);
    const ours = verdict(['test', '--coverage', `${suites}/failing`]);
    assert.equal(ours.status, 1);
    assert.equal(ours.status, theirs.status);
    const parts = (text: string) => text.replace(/\((\d+(\.\d+)?(ns|µs|ms|s|m|h))+\)/g, '(D)').split('\n').filter((l) => /^data\.|^(PASS|FAIL|ERROR|SKIPPED): /.test(l)).sort();
    assert.deepEqual(parts(ours.stdout), parts(theirs.stdout));
    // OPA repeats the first test it lists on stderr; its order varies from run to run.
    assert.equal(parts(theirs.stderr).length, 1);
    assert.equal(parts(ours.stderr).length, 1);
    assert.ok(parts(ours.stdout).includes(parts(ours.stderr)[0]!));
  });

  it('--threshold: exit 2 and the message when coverage is below it, the report when not', () => {
    for (const threshold of ['99', '50']) {
      const theirs = run(opa, ['test', '--coverage', '--threshold', threshold, `${suites}/rules`]);
      const ours = verdict(['test', '--coverage', '--threshold', threshold, `${suites}/rules`]);
      assert.equal(ours.status, theirs.status);
      assert.equal(ours.stderr, theirs.stderr);
      assert.equal(ours.stdout === '', theirs.stdout === '');
    }
  });
});

describe('print() matches opa', () => {
  const byTest = (text: string) => {
    const blocks = new Map<string, string[]>();
    let current: string | undefined;
    for (const line of text.split('\n')) {
      const head = /^(data\.\S+): /.exec(line);
      if (head) current = head[1]!;
      else if (current && line.startsWith('  ')) blocks.set(current, [...(blocks.get(current) ?? []), line]);
      if (line.startsWith('-----')) current = undefined;
    }
    return [...blocks].sort();
  };

  it('opa test -v shows each test\'s printed lines', () => {
    const theirs = run(opa, ['test', '-v', `${suites}/print`]);
    const ours = verdict(['test', '-v', `${suites}/print`]);
    assert.equal(ours.status, theirs.status);
    assert.deepEqual(byTest(ours.stdout.split('FAILURES')[0]!), byTest(theirs.stdout.split('FAILURES')[0]!));
  });

  it('opa test --format json carries them as base64 output', () => {
    const outputs = (text: string) => (JSON.parse(text) as Array<{ name: string; output?: string }>).map((r) => [r.name, r.output]).sort();
    assert.deepEqual(outputs(verdict(['test', '-f', 'json', `${suites}/print`]).stdout), outputs(run(opa, ['test', '-f', 'json', `${suites}/print`]).stdout));
  });

  it('opa eval writes them on stderr, values as Rego text', () => {
    for (const query of ['data.prints.shown', 'data.prints.allow']) {
      const args = ['eval', '-d', `${suites}/print`, '-i', 'test/cli/coverage-suites/print-input.json', '-f', 'raw', query];
      const theirs = run(opa, args);
      const ours = verdict(args);
      assert.equal(ours.status, theirs.status);
      assert.equal(ours.stdout, theirs.stdout);
      assert.equal(ours.stderr, theirs.stderr);
    }
  });
});
