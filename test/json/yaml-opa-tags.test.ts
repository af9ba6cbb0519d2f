// YAML tags (!!binary, !!int and the like) as OPA reads them, against the pinned `opa eval` (see yaml-opa.test.ts).
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

test("errors of decoding the first document (!!binary, merge keys, .inf, null keys) come after any document's syntax error", () => {
  withDir((dir) => {
    for (const text of ['a: !!binary x\n---\n[1]]', '<<: 1\n---\n[1]]', 'a: .inf\n---\n[1]]', '~: 1\n---\n[1]]', '[*zz]\n---\n[1]]', '&a [*a]\n---\n[1]]']) assertReadAsOpa(text, dir);
  });
});

test('a scalar tagged null, bool, int or float must read as that, or opa refuses it naming both tags', () => {
  withDir((dir) => {
    const texts = ['a: !!int abc', 'a: !!float abc', 'a: !!bool yes', 'a: !!null x', 'a: !!int 1.5', 'a: !!int "abc"', 'a: !!bool "1"', 'a: !!int ~', 'a: !!int',
      'a: !!int 99999999999999999999', 'a: !!float 1e400', '!!int x: 1', 'a: !!bool 1\n---\nb: 1',
      // Go quotes the whole text, line breaks included.
      '!!int |\n  12\n', 'a: !!int |\n  12\n  13\n', 'a: !!timestamp |\n  x\n',
      // Those that read as their tag (an int as a float too) keep their value; a tagged .inf is Go's +Inf.
      'a: !!float 1', 'a: !!int 0x10', 'a: !!int 1_0', 'a: !!bool True', 'a: !!null ~', 'a: !!null ""', 'a: !!float .inf', 'a: !!str 1'];
    for (const text of texts) assertReadAsOpa(text, dir);
  });
});

test('a scalar tagged !!timestamp is the time Go parses in one of its layouts, written as RFC 3339, or refused', () => {
  withDir((dir) => {
    const texts = ['a: !!timestamp 2001-12-14t21:59:43.10-05:00', 'a: !!timestamp 2001-12-14', 'a: !!timestamp 2001-12-14 21:59:43.10',
      'a: !!timestamp 2001-12-14    1:2:3.1234567891234', 'a: !!timestamp 2000-2-29', 'a: !!timestamp 2001-12-14T21:59:43+00:00',
      'a: !!timestamp 2001-12-14T21:59:43-00:30', 'a: !!timestamp 2001-12-14T23:59:43,5Z', 'a: !!timestamp "2001-12-14"',
      'a: [!!timestamp 2001-01-01, 2001-01-01]', 'a: !!timestamp 2001-12-14T2:3:4.000Z', 'a: !!timestamp 0000-01-01',
      // What no layout takes (out of range, a short zone, another kind of scalar) is refused naming what it reads as.
      'a: !!timestamp 2001-12-14 21:59:43.10 -5', 'a: !!timestamp 2001-2-29', 'a: !!timestamp 2001-12-14T24:59:43Z',
      'a: !!timestamp 12', 'a: !!timestamp true', 'a: !!timestamp abc', 'a: !!timestamp 2001-012-14'];
    for (const text of texts) assertReadAsOpa(text, dir);
  });
});
