// A decision whose member is a number a double cannot print back (12345678901234567890) reaches the response
// builder as the JSON reader's number-as-text object. It is a number (opa-envoy-plugin sees a json.Number), never
// a header map, a query-parameter map, metadata or the decision object itself.
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
];

for (const [what, body, message] of cases) {
  test(`a big number as ${what} is refused as a number`, async () => {
    const result = await decision(body);
    assert.equal(typeof result, 'object', 'the decision path keeps the number as text');
    assert.throws(() => toCheckResponse(result, 'id'), (err: unknown) => err instanceof DecisionError && err.message === message);
  });
}
