// Aliases and anchors as OPA reads them, against the pinned `opa eval` (see yaml-opa.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlAsOpa } from '../../src/json/yaml.js';
import { answer, assertReadAsOpa, both, withDir } from './yaml-opa-fixture.js';

test('an alias naming no anchor before it, or inside the node its anchor names, is refused as opa refuses it', () => {
  withDir((dir) => {
    const texts = ['&a [*a]', '&a {x: *a}', 'a: &a\n  b: *a', '&a [&b [*b]]', '[*zz]', 'a: 1\nb: [&x 1, *x]\nc: *y', 'a: &a [1]\nb: [*a, *a]', 'a: 1\n---\n&a [*a]', 'a: 1\n---\n[*b]'];
    for (const text of texts) assertReadAsOpa(text, dir);
    assert.match(both(['--strict-builtin-errors', `yaml.unmarshal(${JSON.stringify(texts[0])})`], dir)[0].stdout, /anchor 'a' value contains itself/);
  });
});

test("anchor and alias names are Go's: letters, digits, _ and -, ending at a blank or one of ?:,]}%@`", () => {
  withDir((dir) => {
    const texts = ['a: &x-1 1\nb: *x-1', 'a: &_A-9z 1\nb: [*_A-9z]', 'a: &a.b 1\nb: *a.b', 'a: &é 1', 'a: &a/b 1', 'x: 1\ny: &a.b 2', 'x: 1\n---\ny: &a.b 2',
      '&a{x: 1}', 'a: & 1', 'a: &a@ 1', 'x: 1\ny: &a` 1', "x: &a\ty",
      // Go's name ends at `:` or `?`, which then start the next token: a plain scalar, or in a flow collection an indicator.
      'a: &a:b 1', 'a: &a?x 1', 'x: &a:&b 1', 'x: &a 1\ny: {*a: 1}', 'x: &a 1\ny: *a: 1', 'x: [&a:b 1]', 'x: {&a:b 1}', 'x: [&a: 1]'];
    for (const text of texts) assertReadAsOpa(text, dir);
    assert.match(both([`yaml.unmarshal(${JSON.stringify(texts[2])})`], dir)[0].stderr + both(['--strict-builtin-errors', `yaml.unmarshal(${JSON.stringify(texts[2])})`], dir)[0].stdout, /did not find expected alphabetic or numeric character/);
  });
});

test('aliases expand as far as Go lets them: a chain of anchors naming the one before twice is refused past its limit', () => {
  withDir((dir) => {
    const chain = (levels: number) => ['l0: &l0 [1]', ...Array.from({ length: levels }, (_, i) => `l${i + 1}: &l${i + 1} [*l${i}, *l${i}]`)].join('\n') + '\n';
    const plain = `p: [${Array(2000).fill('1').join(', ')}]\n`;
    // Go counts the nodes it decodes in order: the same aliases pass after many plain nodes and fail before them.
    const texts = [chain(8), chain(9), chain(30), plain + chain(14), chain(14) + plain];
    for (const text of texts) {
      writeFileSync(join(dir, 'input.yaml'), text);
      const [opaInput, ourInput] = both(['-i', 'input.yaml', 'count(input)'], dir);
      assert.equal(ourInput.stderr, opaInput.stderr, `input ${text.slice(0, 40)}`);
      assert.equal(ourInput.stdout, opaInput.stdout, `input ${text.slice(0, 40)}`);
      const query = `count(yaml.unmarshal(${JSON.stringify(text)}))`;
      const [opa, ours] = both(['--strict-builtin-errors', query], dir);
      assert.deepEqual(answer(ours), answer(opa), text.slice(0, 40));
    }
    assert.match(both(['-i', 'input.yaml', 'input'], dir)[0].stderr, /document contains excessive aliasing/);
  });
});

test('a document whose aliases expand is copied: changing one place leaves the others', () => {
  const value = parseYamlAsOpa('a: &a {x: [1]}\nb: *a\n') as { a: { x: number[] }; b: { x: number[] } };
  value.a.x.push(2);
  assert.deepEqual(value.b, { x: [1] });
});
