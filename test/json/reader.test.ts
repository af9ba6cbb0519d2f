import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readJson, readJsonDocument, readJsonYielding, JsonSyntaxError } from '../../src/json/reader.js';
import { NumberText } from '../../src/json/number-text.js';
import { writeDeep, writeJson, writeJsonLeading } from '../../src/json/writer.js';
import { cloneJson } from '../../src/json/clone.js';

const nested = (depth: number, inner = '') => '['.repeat(depth) + inner + ']'.repeat(depth);

test('numbers a JS number would change keep their text; the writer prints them as written', () => {
  const text = '{"big":123456789012345678901234567890,"huge":1e400,"tiny":1e-400,"one":1.0,"half":1.50,"exp":1E2,"negzero":-0,"plain":42,"frac":0.1}';
  const value = readJson(text) as Record<string, unknown>;
  assert.ok(value.big instanceof NumberText);
  assert.equal(value.plain, 42);
  assert.equal(value.frac, 0.1);
  assert.equal(writeJson(value), text);
  assert.equal(writeJson(value, 2).split('\n')[1], '  "big": 123456789012345678901234567890,');
});

test('later duplicate keys win, as in Go', () => {
  assert.deepEqual(readJson('{"a":1,"a":{"b":2}}'), { a: { b: 2 } });
  const { span } = readJsonDocument('{"input":[1],"input": {"x" : 2} }', { spanOfKey: 'input' });
  assert.deepEqual(span, [22, 31]);
});

test('watchKeys: whether some key of any object, lower-cased, is a watched name (escapes read, values ignored)', () => {
  const names = new Set(['cookie', 'authorization']);
  const watched = (text: string) => readJsonDocument(text, { watchKeys: names, trailing: 'ignore' }).watchedKey;
  assert.equal(watched('{"a":{"b":[{"Cookie":1}]}}'), true);
  assert.equal(watched('{"AUTHORIZATION":null}'), true);
  assert.equal(watched('{"\\u0061uthorization":1}'), true);
  assert.equal(watched('{"coo\u212Aie":1}'), true, 'U+212A lower-cases to k');
  assert.equal(watched('{"x":"cookie"}'), false);
  assert.equal(watched('{"cookies":1,"auth":"authorization","y":["cookie"]}'), false);
  assert.equal(watched('{"authorİzation":1}'), false, 'U+0130 lower-cases to two characters');
  assert.equal(readJsonDocument('{"cookie":1}', {}).watchedKey, false);
  assert.throws(() => readJsonDocument('{}', { watchKeys: new Set(['Cookie']) }), RangeError);
});

test('a "__proto__" key is data, not a prototype', () => {
  const value = readJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.keys(value), ['__proto__']);
  assert.equal(writeJson(value), '{"__proto__":{"polluted":true}}');
});

test('10,000 levels are read without recursion; one more is refused with Go\'s message', () => {
  assert.equal(writeJson(readJson(nested(10_000))), nested(10_000));
  assert.throws(() => readJson(nested(10_001)), (err: unknown) => err instanceof JsonSyntaxError && err.message === "invalid character '[' exceeded max depth");
  assert.throws(() => readJson(`{"a":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_001)}`), /invalid character '\{' exceeded max depth/);
  assert.throws(() => readJson(nested(200_000)), /exceeded max depth/);
});

test('syntax errors carry Go\'s wording', () => {
  const cases: [string, string][] = [
    ['{"input":', 'unexpected EOF'],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b"}', 'invalid character \'"\' after object key:value pair'],
    ['[1 2]', "invalid character '2' after array element"],
    ['{1:2}', "invalid character '1' looking for beginning of object key string"],
    ['{bad', "invalid character 'b' looking for beginning of object key string"],
    ['"a\u0001"', "invalid character '\\u0001' in string literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['tru', 'unexpected EOF'],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1e+', 'unexpected EOF'],
    ['-x', "invalid character 'x' in numeric literal"],
    ['1 2', "invalid character '2' after top-level value"],
  ];
  for (const [text, message] of cases) assert.throws(() => readJson(text), (err: unknown) => (err as Error).message === message, `${text} → ${message}`);
  assert.deepEqual(readJson('{"input":1} trailing', { trailing: 'ignore' }), { input: 1 });
});

test('escapes: surrogate pairs join, lone surrogates become U+FFFD as in Go', () => {
  assert.equal(readJson('"\\ud83d\\ude00 \\u00e9\\n"'), '😀 é\n');
  assert.equal(readJson('"a\\ud800b"'), 'a\ufffdb');
  assert.equal(readJson('"\\udc00"'), '\ufffd');
});

test('the explicit-stack writer gives JSON.stringify\'s output, indented or not', () => {
  const samples = [{ a: [1, { b: undefined, c: null, d: 'x"\n' }], e: [], f: {}, g: [undefined, () => 1], h: 1e21, i: -0, j: NaN }, [[], [{}], 1, [[[]]]], { w: new Date(0) }, 'str', 5, null];
  for (const s of samples) for (const indent of [undefined, 2]) assert.equal(writeDeep(s, indent ? '  ' : ''), JSON.stringify(s, null, indent));
  let deep: unknown = [new NumberText('1.0')];
  for (let i = 0; i < 9_000; i++) deep = [deep];
  assert.equal(writeJson(deep), nested(9_001, '1.0'));
});

test('writeJsonLeading writes what writeJson writes for the object with the member first, indented or not', () => {
  const id = '019af1c2-8e4b-7c3d-9a10-5b6c7d8e9f00';
  const members = [{}, { result: true }, { provenance: { version: '1' }, metrics: { a: 1 }, result: [new NumberText('1.0'), '<&>'], warning: { code: 'x' } }];
  for (const m of members) {
    for (const indent of [undefined, 2]) {
      const expected = writeJson({ decision_id: id, ...m }, indent);
      assert.equal(writeJsonLeading('decision_id', id, m, indent), expected, `${JSON.stringify(m)} indent ${indent}`);
    }
  }
  // A key or value that JSON must escape goes through the writer.
  for (const [key, value] of [['decision_id', 'a"b'], ['decision_id', '<x>'], ['k"', 'v'], ['decision_id', 'é']]) {
    assert.equal(writeJsonLeading(key, value, { result: 1 }), writeJson({ [key]: value, result: 1 }), `${key} ${value}`);
  }
});

test('cloneJson copies deeply, keeps NumberText, and copes with 10,000 levels', () => {
  const value = readJson('{"a":[1.0,{"b":123456789012345678901234567890}],"__proto__":{"x":1}}') as Record<string, any>;
  const copy = cloneJson(value);
  assert.equal(writeJson(copy), writeJson(value));
  assert.notEqual(copy.a, value.a);
  copy.a[1].b = 2;
  assert.equal(writeJson(value.a[1].b), '123456789012345678901234567890');
  assert.equal(writeJson(cloneJson(readJson(nested(10_000)))), nested(10_000));
});

test('every document reads the same whether JSON.parse can take it or the exact reader must', () => {
  const documents = [
    '{"a":[1,2.5,-3,"x\\"y\\\\"],"b":{"__proto__":1,"c":null,"d":true},"a":false}',
    '{"n":1.50}',
    '["\\ud83d\\ude00","\\ud800x","\\uDC00"]',
    '{"deep":' + nested(50, '0') + '}',
    ' {"s": "1.50 inside a string is text", "k": -0.5e-3} ',
    '[12345678901234567890, 1e5, 100000]',
  ];
  for (const text of documents) {
    const exact = readJsonDocument(text).value;
    assert.deepEqual(readJson(text), exact, text);
    assert.equal(writeJson(readJson(text)), writeJson(exact), text);
  }
  for (const bad of ['{"a":1,}', '[1 2]', '{"a":01}', nested(10_001)]) {
    assert.throws(() => readJson(bad), (err: Error) => err instanceof JsonSyntaxError && err.message === catchMessage(() => readJsonDocument(bad)), bad);
  }
});

function catchMessage(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

test('large texts read in pieces give readJson\'s value and errors', async () => {
  const members: string[] = [];
  // Characters of two, three and four bytes, in keys and values: the text is read from its UTF-8 bytes.
  for (let i = 0; i < 20_000; i++) members.push(`"k${i}é": {"n": 1.50, "s": "a\\"b€", "list": [1, {"x": null}], "big": 1e400, "😀": "\\ud83d"}`);
  const text = ` {"a": {${members.join(', ')}}, "__proto__": {"p": true}, "a": {"dup": 1}, "b": [${members.map((_, i) => i).join(',')}]} `;
  assert.ok(text.length > 1 << 20, 'large enough to be read in pieces');
  assert.equal(writeJson(await readJsonYielding(text)), writeJson(readJsonDocument(text).value));
  assert.equal(writeJson(await readJsonYielding(Buffer.from(text))), writeJson(readJsonDocument(text).value));
  const deep = `{"a": "${'x'.repeat(1 << 20)}", "d": ${nested(10_001)}}`;
  const bad = `{"a": "${'x'.repeat(1 << 20)}", "b": [1,]}`;
  for (const wrong of [bad, deep, `${text}x`]) {
    await assert.rejects(readJsonYielding(wrong), (err: Error) => err.message === catchMessage(() => readJsonDocument(wrong)), wrong.slice(-40));
  }
});
