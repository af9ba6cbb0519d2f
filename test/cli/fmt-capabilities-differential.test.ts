// `fmt --capabilities` against the real OPA: modules are read with the current features whatever the document
// says, and a document without keywords_in_refs has every keyword after a ref's dot printed in brackets.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { referenceOpa } from '../engine/opa-fixture.js';
import { writeTree } from '../server/harness.js';
import { runBoth } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const current = JSON.parse(execFileSync(referenceOpa(), ['capabilities', '--current'], { encoding: 'utf8' })) as { features: string[] };
const without = (feature: string) => JSON.stringify({ ...current, features: current.features.filter((f) => f !== feature) });
const keywords = ['some', 'not', 'package', 'every', 'in', 'contains', 'with', 'as', 'else', 'default', 'import', 'if', 'true', 'null', 'or', 'and'];

const dir = writeTree({
  'current.json': JSON.stringify(current),
  'no-kir.json': without('keywords_in_refs'),
  'no-rego-v1.json': without('rego_v1'),
  'kw.rego': `package a\n\np := [${keywords.map((k) => `data.foo.${k}`).join(', ')}]\nq := input.x["in"]\n`,
});

describe('fmt --capabilities as opa fmt', sideBySide, () => {
  for (const caps of ['current.json', 'no-kir.json', 'no-rego-v1.json', 'missing.json']) {
    it(caps, async () => {
      const { theirs, ours } = await runBoth(['fmt', '--capabilities', caps, 'kw.rego'], dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.equal(ours.stdout, theirs.stdout);
    });
  }
  it('the brackets are there without keywords_in_refs', async () => {
    const { ours } = await runBoth(['fmt', '--capabilities', 'no-kir.json', 'kw.rego'], dir);
    assert.match(ours.stdout, /data\.foo\["in"\]/);
  });
});
