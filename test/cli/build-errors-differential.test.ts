// `build` failures against the real OPA: the same text on the same stream (stdout, "error: " then Go's error
// list) and exit code, for compile errors, parse errors (errors of loading), data, manifest and path errors, and
// -t wasm / -t plan entrypoint errors. The bundle file is written nowhere: -o points into the case's folder.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeTree } from '../server/harness.js';
import { runBoth } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const files: Record<string, string> = {
  'one.rego': 'package a\np if q\n',
  'many.rego': 'package a\np if q\nr if z\n',
  'eof.rego': 'package a\np if {\n',
  'assign.rego': 'package a\np := 1 +\nq := [\n',
  'ep.rego': 'package a.b\np := 1\nq.r.s := 2\n',
  'bad.json': '{bad',
  'badmanifest/.manifest': '{bad',
  'badmanifest/x.rego': 'package a\np := 1\n',
};

const cases: string[][] = [
  ['one.rego'],
  ['many.rego'],
  ['eof.rego'],
  ['eof.rego', 'assign.rego'],
  ['missing.rego'],
  ['bad.json'],
  ['-b', 'badmanifest'],
  ['-b', 'missingdir'],
  ['-t', 'wasm', 'ep.rego'],
  ['-t', 'plan', 'ep.rego'],
  ...['a', 'a/b/p', 'a/b/q/r', 'a/c', 'a.b.p', ''].flatMap((e) => [['-t', 'plan', '-e', e, 'ep.rego'], ['-t', 'wasm', '-e', e, 'ep.rego']]),
  ['-e', 'a/nope', 'ep.rego'],
];

describe('build errors as opa build prints them', sideBySide, () => {
  for (const c of cases) {
    it(c.map((a) => (a === '' ? "''" : a)).join(' '), async () => {
      const dir = writeTree(files);
      const { theirs, ours } = await runBoth(['build', '-o', 'out.tar.gz', ...c], dir);
      assert.equal(ours.status, theirs.status, ours.stdout + ours.stderr);
      assert.equal(ours.stdout, theirs.stdout);
      assert.equal(ours.stderr, theirs.stderr);
    });
  }
});
