// Differential test: `verdict fmt` against the pinned `opa fmt` on files that need formatting, are formatted,
// do not parse or do not exist, with -l, -d, -w, --fail, --v0-compatible and stdin: stdout, stderr and exit code.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, sideBySide } from './command-runs.js';
import { compareWithOpa, corpusModules, formatWithOpa } from '../../scripts/fmt/corpus.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const main = join(process.cwd(), 'dist/src/main.js');
const dir = mkdtempSync(join(tmpdir(), 'verdict-fmt-'));
const files: Record<string, string> = {
  'messy.rego': 'package a\np if {\n input.x\n input.y }\nq := 1\nr := [1,\n2]\ns := 1 + 2 * 3\n',
  'tidy.rego': 'package b\n\np := 1\n',
  'v0.rego': 'package c\np[x] { x := 1 }\nq = 1 { true }\n',
  'broken.rego': 'package d\np {',
  'hunks.rego': 'package e\nimport rego.v1\np   if {  x := 1\n  x == 1 }\n\n\n\nq := [1,2,\n3]\n\nr if   true\ns := {"a":1,\n"b" : [ 2 ]}\n# a comment\nt contains x if { some x in [1,2];x>1 }\n',
  'imports.rego': 'package g\n\nimport future.keywords.if\nimport rego.v1\nimport data.x\n\np if input.x == 1\n',
  'keywords.rego': 'package h\n\nimport future.keywords.if\nimport future.keywords\n\np if { input.x == 1 }\n',
  'unicode.rego': 'package f\np := "äö😀"   # ü\nq := {"😀":1}\n',
  'notes.txt': 'not rego',
};
mkdirSync(join(dir, 'src'));
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'src', name), text);

function run(command: string[], args: string[], cwd: string, input?: string) {
  const out = spawnSync(command[0], [...command.slice(1), 'fmt', ...args], { encoding: 'utf8', cwd, input });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** Runs both in copies of the same directory, so -w can be compared by the files it leaves. */
async function both(args: string[], stdin?: string) {
  const results = await Promise.all([[opa], [process.execPath, main]].map(async (command, i) => {
    const cwd = join(dir, `run-${i}-${Math.random().toString(36).slice(2)}`);
    cpSync(join(dir, 'src'), cwd, { recursive: true });
    const out = await runCommand(command[0]!, [...command.slice(1), 'fmt', ...args], { cwd, stdin });
    const after = Object.fromEntries(Object.keys(files).map((name) => [name, readFileSync(join(cwd, name), 'utf8')]));
    return { ...out, after };
  }));
  return { opa: results[0]!, verdict: results[1]! };
}

describe('verdict fmt matches opa fmt', sideBySide, () => {
  const cases = [
    ['messy.rego'], ['tidy.rego'], ['-l', 'messy.rego', 'tidy.rego'], ['-d', 'tidy.rego'], ['-d', 'messy.rego'], ['-d', 'hunks.rego'],
    ['-d', 'unicode.rego'], ['-d', 'messy.rego', 'tidy.rego', 'hunks.rego'], ['-d', '--fail', 'hunks.rego'], ['-d', '--v0-compatible', 'v0.rego'],
    ['--drop-v0-imports', 'imports.rego', 'keywords.rego'], ['--drop-v0-imports', '--v0-compatible', 'imports.rego', 'keywords.rego'],
    ['--drop-v0-imports', '-l', 'imports.rego', 'tidy.rego'],
    ['-w', 'messy.rego', 'tidy.rego'], ['--fail', 'messy.rego'], ['--fail', 'tidy.rego'], ['-l', '--fail', 'messy.rego'],
    ['--v0-compatible', 'v0.rego'], ['-l', '--v0-compatible', 'v0.rego'], ['v0.rego'], ['broken.rego'], ['-l', 'broken.rego'],
    ['missing.rego'], ['notes.txt'], ['-l', '.'],
  ];
  for (const args of cases) {
    it(args.join(' '), async () => {
      const { opa: want, verdict: got } = await both(args);
      assert.deepEqual(got, want);
    });
  }

  // OPA's diff chooses among equal characters where an edit sits; the same choice must be made on real modules.
  it('-d prints the same bytes as OPA over a directory of conformance modules', () => {
    const modules = join(dir, 'corpus');
    mkdirSync(modules);
    const cases = corpusModules().filter((c, i) => c.version === 'v1' && i % 4 === 0);
    formatWithOpa(cases, opa);
    let written = 0;
    cases.forEach((c, i) => {
      if (c.expected === undefined || !compareWithOpa(c).equal) return;
      writeFileSync(join(modules, `m${String(i).padStart(5, '0')}.rego`), c.source);
      if (c.expected !== c.source) written++;
    });
    assert.ok(written > 50, `only ${written} modules that need formatting`);
    const want = run([opa], ['-d', 'corpus'], dir);
    const got = run([process.execPath, main], ['-d', 'corpus'], dir);
    assert.equal(want.status, 0);
    assert.deepEqual(got, want);
  });

  it('formats stdin when no path is given, and reports its parse errors as OPA', async () => {
    for (const input of [files['messy.rego'], 'package x p']) {
      const { opa: want, verdict: got } = await both([], input);
      assert.deepEqual(got, want);
    }
  });

  it('refuses an unknown flag as OPA does (exit 1, the flag named first)', async () => {
    for (const flag of ['--bogus', '-x']) {
      const { opa: want, verdict: got } = await both([flag, 'tidy.rego']);
      assert.equal(got.status, want.status);
      assert.equal(got.stderr.split('\n')[0], want.stderr.split('\n')[0]);
    }
  });

  // A template string's control characters come out quoted as Go quotes them (\x01), which the parser refuses:
  // OPA reports the file (exit 2) unless --check-result=false, and does not check stdin.
  it('reports a formatted result that does not parse as OPA does', () => {
    const cwd = join(dir, 'invalid-result');
    mkdirSync(cwd);
    const source = 'package p\n\na := $"{"\\u0001"}"\n';
    writeFileSync(join(cwd, 'control.rego'), source);
    for (const args of [['control.rego'], ['-l', 'control.rego'], ['--check-result=false', 'control.rego']]) {
      const want = run([opa], args, cwd);
      const got = run([process.execPath, main], args, cwd);
      assert.equal(got.status, want.status, args.join(' '));
      assert.equal(got.stdout, want.stdout, args.join(' '));
      assert.equal(got.stderr.split('\n')[0], want.stderr.split('\n')[0], args.join(' '));
      assert.equal(got.stderr.trimEnd().split('\n').at(-1), want.stderr.trimEnd().split('\n').at(-1), args.join(' '));
    }
    assert.deepEqual(run([process.execPath, main], [], cwd, source), run([opa], [], cwd, source));
  });

  it('refuses flags it does not implement, by name', () => {
    const out = run([process.execPath, main], ['--v0-v1', 'tidy.rego'], join(dir, 'src'));
    assert.equal(out.status, 1);
    assert.match(out.stderr, /--v0-v1 is not supported/);
  });
});
