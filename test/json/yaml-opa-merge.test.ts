// Merge keys (<<) as OPA reads them, against the pinned `opa eval` (see yaml-opa.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, assertReadAsOpa, both, withDir } from './yaml-opa-fixture.js';

/**
 * Where an own key and a merged key of another type take one JSON name (1 and 1.0, or 1 and "1"), Go's decoded map
 * holds both and its JSON conversion keeps either, varying from run to run: opa eval gives both answers. Ours must
 * be one of them, and every other member OPA's.
 */
test('merge keys that take one JSON name with an own key of another type keep one of the two values', () => {
  withDir((dir) => {
    const cases: Array<[string, string[]]> = [['1: x\n<<: {010: a, 1.0: b, true: c, 1e6: d}', ['x', 'b']], ['1: b\n<<: {"1": a}', ['b', 'a']]];
    for (const [text, either] of cases) {
      const [opa, ours] = both(['--strict-builtin-errors', `yaml.unmarshal(${JSON.stringify(text)})`], dir);
      const theirs = answer(opa) as { value: Record<string, unknown> };
      const mine = answer(ours) as { value: Record<string, unknown> };
      assert.ok(either.includes(theirs.value['1'] as string), `opa: ${opa.stdout}${opa.stderr}`);
      assert.ok(either.includes(mine.value?.['1'] as string), `${text}: ${ours.stdout}${ours.stderr}`);
      assert.deepEqual({ ...mine.value, 1: undefined }, { ...theirs.value, 1: undefined }, text);
    }
  });
});

test('merge keys (<<) merge as opa merges them: own keys first, then merged mappings in order, first wins', () => {
  withDir((dir) => {
    const texts = [
      'base: &b {x: 1, y: 1}\nd:\n  <<: *b\n  y: 2', 'd:\n  x: 2\n  <<: {x: 1}', 'b1: &b1 {x: 1}\nb2: &b2 {x: 2, y: 2}\nd:\n  <<: [*b1, *b2]',
      '<<: {a: 1}\n<<: {a: 2, b: 2}', '{<<: {a: 1}, b: 2}', '[{<<: {a: 1}}]', '<<: []', '<<: {<<: {a: 1}, b: 2}', 'x: {<<: {a: 1}}\n<<: {x: 2}',
      'x: &b {a: 1}\ny: &c {<<: *b, b: 2}\nz: {<<: *c, c: 3}', '<<: [{a: ~}, {a: 1}]', 'a: ~\n<<: {a: 1}', '<<: &m {a: 1}\nb: *m', '<<: !!merge {a: 1}',
      // Only a plain `<<` (or one tagged !!merge) merges.
      "'<<': {a: 1}", '!!str <<: {a: 1}', '!!merge <<: {a: 1}',
      // A merged value must be a mapping, an alias of one, or a sequence of those.
      '<<: 1', '<<: ~', '<<: [1]', '<<: [[{a: 1}]]', 'a: &a [{x: 1}]\n<<: *a', 'a: &a [1]\n<<: [*a]', '<<: 1\n<<: {a: 1}',
      // A mapping whose own keys are all strings takes merged keys as their text, without null keys; others type them.
      'a: x\n<<: {010: a, 1.0: b, true: c, 1e6: d}', '<<: {~: 1}', '1: x\n<<: {~: 2}', '<<: {[1]: 1}',
      '1: x\n<<: {[1]: 2}', '1: x\n<<: {{a: 1}: 2}', '1: x\n<<: {{1: 1}: 2}',
      // A key given twice keeps its last value before merging; keys Go cannot tell apart are refused.
      '<<: {a: 1, a: 2}', 'a: .inf\na: 1', 'a: &x {p: 1}\na: 2\nb: *x', '<<: {a: 1}\n<<: []', '<<: {a: 1}\n"<<": 2', '~: 1\n~: 2', '[1]: a\n[2]: b',
      'a: &x 1\n*x : 1\n*x : 2', 'a: 1\nb:\n  ~: 1\n  ~: 2\n  ~: 3',
    ];
    for (const text of texts) assertReadAsOpa(text, dir);
    mkdirSync(join(dir, 'bundle'), { recursive: true });
    writeFileSync(join(dir, 'bundle/data.yaml'), texts[0]!);
    const [opa, ours] = both(['-b', 'bundle', 'data'], dir);
    assert.match(opa.stdout, /"d": \{\s*"x": 1,\s*"y": 2/);
    assert.equal(ours.stdout, opa.stdout);
  });
});
