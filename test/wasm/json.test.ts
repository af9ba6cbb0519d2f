import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instantiate } from './module-helper.js';

test('JSON round trips keep number literals exactly as written, big ones included', async () => {
  const m = await instantiate();
  for (const n of ['0', '-1', '42', '9223372036854775807', '-9223372036854775808', '123456789012345678901234567890', '1.5', '1.0', '1e3', '-2.5E-7', '0.1']) {
    assert.equal(m.dump(m.parse(n)), n, n);
  }
  assert.equal(m.dump(m.parse('[1, 2.50, {"a": 1e400}]')), '[1,2.50,{"a":1e400}]');
});

test('JSON round trips decode escapes and unicode and print what Go prints', async () => {
  const m = await instantiate();
  assert.equal(m.dump(m.parse('"h\\u00e9llo \\ud83d\\ude00 \\"q\\" \\\\ \\/ \\n\\t\\r\\b\\f"')), '"héllo 😀 \\"q\\" \\\\ / \\n\\t\\r\\u0008\\u000c"');
  assert.equal(m.dump(m.parse('"日本語 ✓"')), '"日本語 ✓"');
  // Go's encoding/json escapes HTML-significant characters.
  assert.equal(m.dump(m.parse('"<a&b>"')), '"\\u003ca\\u0026b\\u003e"');
  // A lone surrogate becomes U+FFFD, as Go decodes it.
  assert.equal(m.dump(m.parse('"\\ud800x"')), '"\uFFFDx"');
});

test('objects print with sorted keys; duplicate keys keep the last value', async () => {
  const m = await instantiate();
  assert.equal(m.dump(m.parse('{"b": 1, "a": [true, false, null], "c": {"z": 1, "y": 2}}')), '{"a":[true,false,null],"b":1,"c":{"y":2,"z":1}}');
  assert.equal(m.dump(m.parse('{"a": 1, "a": 2}')), '{"a":2}');
  const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${String(199 - i).padStart(3, '0')}`, i]));
  const sorted = Object.fromEntries(Object.entries(many).sort(([a], [b]) => (a < b ? -1 : 1)));
  assert.equal(m.dump(m.parse(JSON.stringify(many))), JSON.stringify(sorted));
});

test('malformed JSON is rejected with 0', async () => {
  const m = await instantiate();
  for (const bad of ['', '{', '[1,]', '{"a" 1}', 'tru', '01', '1.', '"\\x"', '"a', '{1: 2}', 'nul', '[1] 2', '"\u0001"']) {
    assert.equal(m.parse(bad), 0, JSON.stringify(bad));
  }
});

test('opa_value_parse accepts Rego set syntax and opa_value_dump prints it', async () => {
  const m = await instantiate();
  const text = new TextEncoder().encode('{"s": {3, 1, 2}, "e": set()}');
  const at = m.exports.opa_malloc(text.length);
  new Uint8Array(m.memory.buffer, at, text.length).set(text);
  const v = m.exports.opa_value_parse(at, text.length);
  assert.notEqual(v, 0);
  assert.equal(m.dump(v), '{"e":[],"s":[1,2,3]}');
  const out = m.exports.opa_value_dump(v);
  const bytes = new Uint8Array(m.memory.buffer);
  let end = out;
  while (bytes[end] !== 0) end++;
  assert.equal(new TextDecoder().decode(bytes.subarray(out, end)), '{"e":set(),"s":{1,2,3}}');
});
