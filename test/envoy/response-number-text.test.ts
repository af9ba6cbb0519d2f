// A decision whose member is a number a double cannot print back (12345678901234567890) reaches the response
// builder as the JSON reader's number-as-text object. It is a number (opa-envoy-plugin sees a json.Number), never
// a header map, a query-parameter map, metadata or the decision object itself; as http_status it is a number
// too, refused only for not reading as an int64.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecisionError, toCheckResponse } from '../../src/envoy/response.js';
import { wasmDecide } from './wasm-decide.js';

const big = '12345678901234567890';

async function decision(body: string): Promise<unknown> {
  const decide = await wasmDecide(`package envoy.authz\n\n${body}\n`, ['envoy/authz/allow']);
  return (await decide('envoy/authz/allow', {})).result;
}

const cases: [string, string, string][] = [
  ['the decision', `allow := ${big}`, 'failed to get response status: illegal value for policy evaluation result: json.Number'],
  ['headers', `allow := {"allowed": true, "headers": ${big}}`, "failed to get response headers: type assertion error, expected headers to be of type 'object' but got 'json.Number'"],
  ['a headers list entry', `allow := {"allowed": false, "headers": [${big}]}`, "failed to get response headers: type assertion error, expected headers to be of type 'object' but got 'json.Number'"],
  ['response_headers_to_add', `allow := {"allowed": true, "response_headers_to_add": ${big}}`, "failed to get response headers to send to client: type assertion error, expected headers to be of type 'object' but got 'json.Number'"],
  ['query_parameters_to_set', `allow := {"allowed": true, "query_parameters_to_set": ${big}}`, "failed to get request query parameters to set: type assertion error, expected query_parameters_to_set to be a map but got 'json.Number'"],
  ['dynamic_metadata', `allow := {"allowed": true, "dynamic_metadata": ${big}}`, "failed to get dynamic metadata: type assertion error, expected dynamic_metadata to be of type 'object' but got 'json.Number'"],
  // http_status takes any json.Number, which must then read as an int64 (strconv.ParseInt's words when not).
  ['http_status', `allow := {"allowed": false, "http_status": ${big}}`, `failed to get response http status: error converting JSON number to int: strconv.ParseInt: parsing "${big}": value out of range`],
  ['http_status written 403.0', 'allow := {"allowed": false, "http_status": 403.0}', 'failed to get response http status: error converting JSON number to int: strconv.ParseInt: parsing "403.0": invalid syntax'],
  ['http_status of 403.5', 'allow := {"allowed": false, "http_status": 403.5}', 'failed to get response http status: error converting JSON number to int: strconv.ParseInt: parsing "403.5": invalid syntax'],
];

for (const [what, body, message] of cases) {
  test(`${what}: a number, refused as opa-envoy-plugin refuses it`, async () => {
    const result = await decision(body);
    assert.equal(typeof result, 'object', 'the decision is an object or a number kept as text');
    assert.throws(() => toCheckResponse(result, 'id'), (err: unknown) => err instanceof DecisionError && err.message === message);
  });
}
