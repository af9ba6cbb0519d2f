// --set / --set-file parsing (OPA's strvals syntax). What OPA makes of the same lines end to end is checked in
// run-flags-differential.test.ts through GET /v1/config; here, the typing and the corners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeOverrides, parseOverrides, SetValueError } from '../../src/cli/set-values.js';
import { writeTree } from '../server/harness.js';

test('--set types true/false/null and integers without a leading zero; the rest stay strings', () => {
  assert.deepEqual(parseOverrides(['a.t=true,a.f=FALSE,a.n=null,a.i=42,a.neg=-5,a.z=0,a.lead=012,a.float=1.5,a.empty=,a.eq=x=y'], []), {
    a: { t: true, f: false, n: null, i: 42, neg: -5, z: 0, lead: '012', float: '1.5', empty: '', eq: 'x=y' },
  });
});

test('--set list indexes (repeated, nested, gaps filled with null), list values and escapes', () => {
  const tree = parseOverrides(['s[0].name=a', 's[0].url=http://x', 's[2].url=http://z', 'm[1][0]=v', 'l={x,y\\,z,3}', 'k\\.dot=1'], []);
  assert.deepEqual(tree, {
    s: [{ name: 'a', url: 'http://x' }, null, { url: 'http://z' }],
    m: [null, ['v']],
    l: ['x', 'y,z', 3],
    'k.dot': 1,
  });
});

test('--set-file reads each named file, trimmed, as a string, after every --set', () => {
  const dir = writeTree({ 'tok.txt': '  12\n' });
  assert.deepEqual(parseOverrides(['a.tok=x'], [`a.tok=${dir}/tok.txt`]), { a: { tok: '12' } });
});

test('overrides merge over the file: objects key by key, lists and scalars replaced', () => {
  const merged = mergeOverrides({ labels: { a: '1', b: '2' }, services: [{ url: 'x' }, { url: 'y' }] }, { labels: { b: '3' }, services: [{ url: 'z' }] });
  assert.deepEqual(merged, { labels: { a: '1', b: '3' }, services: [{ url: 'z' }] });
});

test('malformed --set lines are refused naming the line and the problem', () => {
  for (const [line, problem] of [
    ['a', /--set a: key "a" has no value/],
    ['a,b=1', /key "a" has no value \(cannot end with ,\)/],
    ['a[-1]=x', /list index "-1"/],
    ['a[70000]=x', /larger than 65536/],
    ['a[0]x', /expected "=", "." or "\[" after index 0/],
    ['a={x', /missing its closing/],
    ['a={x}y', /followed by "," or the end/],
    ['=1', /empty key/],
  ] as const) {
    assert.throws(() => parseOverrides([line], []), (err: Error) => err instanceof SetValueError && problem.test(err.message), line);
  }
  assert.throws(() => parseOverrides([], ['a=/nonexistent/x']), /--set-file a=\/nonexistent\/x: cannot read \/nonexistent\/x: ENOENT/);
});
