// The policy input built from a CheckRequest, pinned field by field. The differential test checks the
// same behaviour against opa-envoy-plugin itself; these run wherever that binary is not available.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputParseError } from '../../src/envoy/go-url.js';
import { checkRequestToInput, parseBody, parsePathAndQuery } from '../../src/envoy/input.js';
import { CheckRequest } from '../../src/envoy/proto.js';

const decoded = (request: Record<string, unknown>) => CheckRequest.decode(CheckRequest.encode(CheckRequest.fromObject(request)).finish());

describe('CheckRequest to policy input', () => {
  test('lowerCamel field names, populated fields only, numbers for 64-bit and enum fields, base64 bytes, {seconds,nanos} time, plain JSON metadata', () => {
    const input = checkRequestToInput(decoded({
      attributes: {
        source: { address: { socketAddress: { protocol: 1, address: '10.0.0.7', portValue: 51234 } }, principal: 'spiffe://a' },
        request: {
          time: { seconds: 1764000000, nanos: 5 },
          http: { method: 'POST', path: '/a', headers: { 'x-a': '1' }, size: 12345678901, rawBody: Buffer.from('hi'), id: '' },
        },
        metadataContext: { filterMetadata: { jwt: { fields: { sub: { stringValue: 'u' }, n: { numberValue: 1 }, none: { nullValue: 0 }, l: { listValue: { values: [{ boolValue: true }] } } } } } },
      },
    }));
    assert.deepEqual(input.attributes, {
      source: { address: { socketAddress: { protocol: 1, address: '10.0.0.7', portValue: 51234 } }, principal: 'spiffe://a' },
      request: {
        time: { seconds: 1764000000, nanos: 5 },
        http: { method: 'POST', path: '/a', headers: { 'x-a': '1' }, size: 12345678901, rawBody: 'aGk=' },
      },
      metadataContext: { filterMetadata: { jwt: { sub: 'u', n: 1, none: null, l: [true] } } },
    });
    assert.deepEqual(input.version, { ext_authz: 'v3', encoding: 'protojson' });
    assert.equal(input.source_principal, 'spiffe://a');
    assert.equal(input.truncated_body, false);
    assert.equal(input.parsed_body, null);
  });

  test('a port of 0 set inside its oneof is still present', () => {
    const input = checkRequestToInput(decoded({ attributes: { destination: { address: { socketAddress: { address: 'x', portValue: 0 } } } } }));
    assert.deepEqual((input.attributes as any).destination.address.socketAddress, { address: 'x', portValue: 0 });
  });

  test('skip-request-body-parse leaves parsed_body and truncated_body out', () => {
    const input = checkRequestToInput(decoded({ attributes: { request: { http: { path: '/', headers: { 'content-type': 'application/json' }, body: '{' } } } }), { skipRequestBodyParse: true });
    assert.equal('parsed_body' in input, false);
    assert.equal('truncated_body' in input, false);
  });
});

describe('parsed_path and parsed_query (Go net/url rules)', () => {
  test('path is unescaped, leading slashes dropped, split on /', () => {
    assert.deepEqual(parsePathAndQuery('//api/caf%C3%A9/a%2Fb?x=1').parsedPath, ['api', 'café', 'a', 'b']);
    assert.deepEqual(parsePathAndQuery('/').parsedPath, ['']);
    assert.deepEqual(parsePathAndQuery('/a+b').parsedPath, ['a+b']);
  });

  test('query keeps every value in order, decodes + as space, keeps valueless keys', () => {
    assert.deepEqual(parsePathAndQuery('/p?x=1&x=2&q=a+b%21&empty=&flag&&').parsedQuery, { x: ['1', '2'], q: ['a b!'], empty: [''], flag: [''] });
  });

  test('bad escapes and semicolons are input errors', () => {
    assert.throws(() => parsePathAndQuery('/a%zz'), (err) => err instanceof InputParseError && /invalid URL escape "%zz"/.test(err.message));
    assert.throws(() => parsePathAndQuery('/a?x=1;y=2'), /invalid semicolon separator in query/);
    assert.throws(() => parsePathAndQuery('/a?x=%'), /invalid URL escape "%"/);
  });
});

describe('parsed_body', () => {
  const body = (headers: Record<string, string>, text: string) => parseBody({ path: '/', headers, body: text });

  test('JSON, form-encoded and multipart bodies', () => {
    assert.deepEqual(body({ 'content-type': 'application/json' }, '{"a":[1,"b"]}'), { parsedBody: { a: [1, 'b'] }, truncated: false });
    assert.deepEqual(body({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=1&a=2&b=x+y'), { parsedBody: { a: ['1', '2'], b: ['x y'] }, truncated: false });
    const form = ['--b', 'Content-Disposition: form-data; name="t"', '', 'one', '--b', 'Content-Disposition: form-data; name="j"', 'Content-Type: application/json', '', '{"k":1}', '--b', 'Content-Disposition: attachment', '', 'skipped', '--b--', ''].join('\r\n');
    assert.deepEqual(body({ 'content-type': 'multipart/form-data; boundary="b"' }, 'preamble\r\n' + form), { parsedBody: { t: ['one'], j: [{ k: 1 }] }, truncated: false });
  });

  test('truncation: Envoy partial-body flag, or Content-Length beyond the bytes received', () => {
    assert.deepEqual(body({ 'content-type': 'application/json', 'x-envoy-auth-partial-body': 'true' }, '{"a":1}'), { parsedBody: null, truncated: true });
    assert.deepEqual(body({ 'content-type': 'application/json', 'content-length': '100' }, '{"a":'), { parsedBody: null, truncated: true });
    assert.deepEqual(body({ 'content-type': 'application/json', 'content-length': '4' }, '"é"'), { parsedBody: 'é', truncated: false });
  });

  test('no content type, an unknown one, an empty body or a multipart body without boundary: no parsed body', () => {
    assert.deepEqual(body({}, '{"a":1}'), { parsedBody: null, truncated: false });
    assert.deepEqual(body({ 'content-type': 'text/plain' }, 'x'), { parsedBody: null, truncated: false });
    assert.deepEqual(body({ 'content-type': 'application/json' }, ''), { parsedBody: null, truncated: false });
    assert.deepEqual(body({ 'content-type': 'multipart/form-data' }, 'x'), { parsedBody: null, truncated: false });
  });

  test('malformed bodies are input errors naming the problem', () => {
    assert.throws(() => body({ 'content-type': 'application/json' }, '{"a":'), /request body is not valid JSON/);
    assert.throws(() => body({ 'content-type': 'application/json', 'content-length': 'abc' }, '{}'), /parsing "abc": invalid syntax/);
    assert.throws(() => body({ 'content-type': 'multipart/form-data; boundary=b' }, '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv'), /unexpected EOF/);
    assert.throws(() => body({ 'content-type': 'multipart/form-data; boundary=b' }, '--b\r\nContent-Disposition: form-data; name="j"\r\nContent-Type: application/json\r\n\r\n{x\r\n--b--'), /form field j is not valid JSON/);
  });
});
