// YAML tags and flow collections as OPA reads them, against the pinned `opa eval` (see yaml-opa.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertReadAsOpa, both, withDir } from './yaml-opa-fixture.js';

test('!!binary scalars are base64-decoded as opa decodes them, bytes outside UTF-8 as U+FFFD, bad base64 refused', () => {
  withDir((dir) => {
    const texts = ['a: !!binary aGVsbG8=', 'a: !!binary |\n  aGVs\n\n  bG8=', 'a: !!binary "aGVsbG8="', 'a: !<tag:yaml.org,2002:binary> aGk=', '!!binary aGVsbG8=: 1',
      // Invalid UTF-8 (a cut sequence, an encoded surrogate) becomes one U+FFFD per byte, as Go's JSON encoder writes it.
      'a: !!binary /w==', 'a: !!binary 4oJB8J+YgO2goA==', 'a: &x !!binary aGk=\nb: *x', 'a: !!binary', 'a: !!binary ""',
      // Go wants padding and skips only line breaks; only the first document is decoded.
      'a: !!binary aGVsbG8', 'a: !!binary aGVs bG8=', 'a: !!binary aGVs\tbG8=', 'a: !!binary 1', 'a: !!binary aG=k', 'a: !!binary aGk=\n---\nb: !!binary x'];
    for (const text of texts) assertReadAsOpa(text, dir);
    assert.match(both([`yaml.unmarshal(${JSON.stringify(texts[0])})`], dir)[0].stdout, /"a": "hello"/);
  });
});

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
