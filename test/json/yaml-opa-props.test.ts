// Indicators after anchors, tags and aliases as OPA reads them, against the pinned `opa eval` (see
// yaml-opa.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertReadAsOpa, both, withDir } from './yaml-opa-fixture.js';

test('an indicator after an anchor or a tag, and a block scalar ending the text, are read as opa reads them', () => {
  withDir((dir) => {
    const texts = ['&a [1]', '&a {x: 1}', '&a - x', 'x: &a - 1', '- &a - 1', '!!seq - x', 'x:\n  &a - 1', '&a ? x\n: 1', '!!map ? x\n: 1', '- &a ? x',
      '{&a ? x}', '[|\n  x]', 'x: [1, |\n  x]', '&a &b x', '\n&a &b x', '!!str !!str x', 'a: &a &b x', '- &a &b x', 'a:\n  b: !!str !!str x', '[&a &b x]', '{a: &a &b x}',
      // Go adds no final line break it did not read.
      '|\n  x', 'a: |\n  x', '- |\n  x', '|+\n  x', '>\n  x\n\n  y', 'a: |\n  x\nb: |\n  y', '|\n  x\n ', 'a: |\n  x\n# c'];
    for (const text of texts) assertReadAsOpa(text, dir);
    assert.match(both(['--strict-builtin-errors', 'yaml.unmarshal("&a - x")'], dir)[0].stdout, /block sequence entries are not allowed in this context/);
  });
});

test('a `-` or `?` right after an anchor, a tag or an alias is refused with the words and line opa gives', () => {
  withDir((dir) => {
    const texts = ['x:\n  &a ? y', 'x:\n  !!str ? y', '? &a ? x', '&a\t-', '&a\t- x', '- a\n&a - b', '- a\n!!str - b', 'x: 1\n!!str - b', '*a - x', 'a: &a 1\n*a - x',
      // In a flow collection Go's parser wants it to go on, and names the indicator's line.
      '[&a - 1]', '[1, &a - 1]', '[!!str - 1]', '[[&a - 1]]', '- [&a - 1]', 'x:\n  [&a - 1]', '[\n&a - 1]', 'x: [\n  1,\n  &a - 1]', 'x:\n  {a: &a - 1}', 'x:\n  [&a ? 1]',
      // A line break ends what the properties bind to.
      '&a\n- b', 'x: &a\n  - b'];
    for (const text of texts) assertReadAsOpa(text, dir);
  });
});

test('two anchors or tags on one line are refused with the words and line opa gives', () => {
  withDir((dir) => {
    // Where a block collection wants its next key, Go's scanner takes them for a key and finds no `:`.
    const texts = ['x: 1\n&a &b y', 'x: 1\n!!str !!str y', 'x:\n  y: 1\n  &a &b z', 'x: 1\n&a &b y\n\n\nz: 1', 'x: 1\n&a &b y # c\n', 'x:\n  - 1\n  &a &b y\n  - 2',
      'x: 1\n&a &b y: 2', '# c\n&a &b x'];
    for (const text of texts) assertReadAsOpa(text, dir);
  });
});
