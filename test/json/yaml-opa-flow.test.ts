// `?` with no key in flow sequences and YAML streams as OPA reads them, against the pinned `opa eval` (see
// yaml-opa.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, assertReadAsOpa, both, withDir } from './yaml-opa-fixture.js';

test('after a `?` with no key in a flow sequence, errors are where Go meets them, its scanner one flow level out', () => {
  withDir((dir) => {
    const texts = ['[[?]],', '[[?]],\n', '[[?]],\n\n', '[[?]], 1]', '[[?]], a', '[[?]], [', '[[[?]]],', '[[?]]\n,', '[?] , ', 'x: [[?]],', '[?, [1, 2], 3', '[?]] x'];
    for (const text of texts) {
      const [opa, ours] = both(['--strict-builtin-errors', `yaml.unmarshal(${JSON.stringify(text)})`], dir);
      assert.deepEqual(answer(ours), answer(opa), JSON.stringify(text));
      writeFileSync(join(dir, 'input.yaml'), text);
      const [opaInput, ourInput] = both(['-i', 'input.yaml', 'input'], dir);
      assert.equal(ourInput.stderr, opaInput.stderr, `input ${JSON.stringify(text)}`);
    }
    assert.match(both(['--strict-builtin-errors', 'yaml.unmarshal("[[?]],")'], dir)[0].stdout, /line 1: did not find expected node content/);
  });
});

test('an input or data file holding a YAML stream is read as its first document, as opa reads it', () => {
  withDir((dir) => {
    // Go parses every document (a syntax error anywhere fails) and converts only the first.
    const texts = ['a: 1\n---\nb: 2\n', 'a: 1\n---\n[1]]', 'a: 1\n---\n~: 2', 'a: 1\n---\n: b', '---\na: 1\n---\n'];
    mkdirSync(join(dir, 'data'));
    for (const text of texts) {
      writeFileSync(join(dir, 'input.yaml'), text);
      writeFileSync(join(dir, 'data/data.yaml'), text);
      for (const args of [['-i', 'input.yaml', 'input'], ['-d', 'data', 'data']]) {
        const [opa, ours] = both(args, dir);
        assert.equal(ours.stderr, opa.stderr, `${args.join(' ')} with ${JSON.stringify(text)}`);
        assert.equal(ours.stdout, opa.stdout, `${args.join(' ')} with ${JSON.stringify(text)}`);
      }
    }
    writeFileSync(join(dir, 'input.yaml'), texts[0]!);
    assert.match(both(['-i', 'input.yaml', 'input'], dir)[0].stdout, /"a": 1/);
  });
});

test('a flow sequence Go reads to its end after a `?` with no key holds a null key, refused with the value Go gives it', () => {
  withDir((dir) => {
    // Go drops the token after the `?` (`,`, `:` or `]`), then reads an optional `:` and value; in a flow
    // collection it takes `?` and `:` for indicators with no blank after them.
    const texts = ['[?,]', '[? ,]', '[a, ?,]', '[? : ,]', '[? : , 1]', '[?,, 1]', '[?]]', '[[?,]]', '{a: [?,]}', '[?, ?, ]', '[? : : x]', '[? : : [1, [a]]]',
      '[? : : 1e6]', '[?:]', '[?:,]', '[?::]', '[?::x]', '[?::[1]]', '[? :: y]', '[?:, ?:]', 'x: [?:]', '[?x]', '{?x: 1}', '[:x]', '[?,] # c\n...\n',
      // Go parses the whole stream before it converts the first document: a later syntax error comes first.
      'a: 1\n---\n[?,]', '[?,]\n---\n[1]]'];
    for (const text of texts) assertReadAsOpa(text, dir);
    assert.match(JSON.stringify(answer(both(['--strict-builtin-errors', 'yaml.unmarshal("[?::x]")'], dir)[0])), /key: <nil>, value: \\"x/);
  });
});

test('in a flow collection a `?` ends a plain scalar, and a `?` or `:` where a value must start is no node, as Go reads them', () => {
  withDir((dir) => {
    const texts = ['[a?]', '[a?b]', '[1, a?b]', '{a?: 1}', '{a: b?}', '{a: b?c, d: 1}', 'x: [a?]', 'x:\n  - [a?]', '[\n a?]', '[a ?]', '[a, [b?]]', '[a?,]',
      'a?', '[?a]', '[?:x]',
      '{a: ?x}', '{a: :b}', '{a: ? x}', '[a: ?x]', '{a:\n  ?x}', '{a: b, c: :d}', '{a: # c\n  ?x}', '{a: [?x]}', '{? a: ?b}', 'a: ?x', 'a: :x'];
    for (const text of texts) assertReadAsOpa(text, dir);
  });
});
