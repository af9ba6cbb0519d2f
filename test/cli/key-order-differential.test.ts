// Object keys as OPA prints them, against the real OPA: Go sorts a map's keys as text ("$", "1", "10", "2", "a")
// where a JS object lists integer-like keys first, in numeric order. Compared as text, since a parsed copy
// would hide the order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeTree } from '../server/harness.js';
import { runBoth } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const policy = `package t

obj := {"10": 1, "2": 2, "a": 3, "$": 0, "1": {"b": 1, "0": 2}, "s": {3, 1, "b", "a"}}
`;

const data = '{"d": {"10": "x", "2": "y", "b": 1, "a": 2, "\u{1F600}": 3, "\uFF01": 4}}';

const cases: { query: string; flags: string[] }[] = [
  { query: 'data.t.obj', flags: ['-f', 'json'] },
  { query: 'data.t.obj', flags: ['-f', 'pretty'] },
  { query: 'data.d', flags: ['-f', 'json'] },
  { query: 'x := data.t.obj; y := data.t.obj["1"]', flags: ['-f', 'pretty'] },
  { query: 'x := data.t.obj', flags: ['-f', 'bindings'] },
  { query: 'x := {"10": 1, "2": {"b": 1, "a": 2}, "s": {3, 1, "b"}}', flags: ['-f', 'pretty', '--explain', 'full'] },
  { query: 'x := {"10": 1, "2": 2}', flags: ['-f', 'json', '--explain', 'notes'] },
];

describe('opa eval and verdict eval print object keys in the same order', sideBySide, () => {
  const dir = writeTree({ 't.rego': policy, 'data.json': data });
  for (const { query, flags } of cases) {
    it(`${flags.join(' ')} ${query}`, async () => {
      const argv = ['eval', '-d', 't.rego', '-d', 'data.json', ...flags, query];
      const { theirs, ours } = await runBoth(argv, dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.equal(ours.stdout, theirs.stdout);
    });
  }
});
