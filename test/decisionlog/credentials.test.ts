// Credentials are not stored by default: what the stored event's JSON loses and records, and what reaches the
// SQLite file (the row and the bytes of the database and WAL files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eraseCredentialsInJson } from '../../src/decisionlog/credentials.js';
import { storedEventJson } from '../../src/decisionlog/stored-json.js';
import type { DecisionEvent } from '../../src/decisionlog/event.js';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { findDecision } from '../../src/decisionlog/query.js';
import { sampleEvent, tempDir, unsignedJwt } from './helpers.js';

/** The event as the store writes it, read back. */
function eraseCredentials(event: DecisionEvent, inputJson?: string): DecisionEvent {
  return JSON.parse(storedEventJson(event, inputJson === undefined ? {} : { inputJson })) as DecisionEvent;
}

const token = `Bearer ${unsignedJwt({ sub: 'alice@example.com', scope: 'orders:read' })}`;

function envoyEvent() {
  return sampleEvent({
    path: 'envoy/authz/allow',
    input: {
      attributes: {
        request: {
          http: {
            method: 'GET',
            path: '/orders',
            headers: { ':authority': 'shop', authorization: token, cookie: 'session=s3cr3t-cookie', 'x-request-id': 'r1' },
          },
        },
      },
    },
    result: { allowed: true, headers: { Authorization: 'Bearer upstream-s3cr3t' }, response_headers_to_add: { 'x-ok': '1' } },
    nd_builtin_cache: { 'http.send': [{ request: { url: 'https://pip', headers: { 'Proxy-Authorization': 'Basic cHJveHk6czNjcjN0' } } }] },
  });
}

test('Envoy, result and http.send headers: credential values erased and listed in erased, names without case', () => {
  const event = envoyEvent();
  const before = structuredClone(event);
  const stored = eraseCredentials(event);
  assert.deepEqual(event, before, 'the event the decision used is not changed');
  assert.deepEqual((stored.input as any).attributes.request.http.headers, { ':authority': 'shop', 'x-request-id': 'r1' });
  assert.deepEqual((stored.result as any).headers, {});
  assert.deepEqual((stored.result as any).response_headers_to_add, { 'x-ok': '1' });
  assert.deepEqual((stored.nd_builtin_cache as any)['http.send'][0].request.headers, {});
  assert.deepEqual(stored.erased, [
    '/input/attributes/request/http/headers/authorization',
    '/input/attributes/request/http/headers/cookie',
    '/result/headers/Authorization',
    '/nd_builtin_cache/http.send/0/request/headers/Proxy-Authorization',
  ]);
  assert.equal(JSON.stringify(stored).includes('s3cr3t'), false);
});

test('application inputs: any headers object, Set-Cookie too; other fields named like headers are kept', () => {
  const event = sampleEvent({
    input: {
      request: { headers: { 'Set-Cookie': ['a=1', 'b=2'], Accept: 'text/html' } },
      authorization: 'a top-level field is not a header',
      headers: 'not an object',
    },
    erased: ['/input/password'],
  });
  const stored = eraseCredentials(event);
  assert.deepEqual(stored.input, { request: { headers: { Accept: 'text/html' } }, authorization: 'a top-level field is not a header', headers: 'not an object' });
  assert.deepEqual(stored.erased, ['/input/password', '/input/request/headers/Set-Cookie'], "the mask policy's entries come first");
});

test('an event without credentials is returned as it is; a header the mask policy upserted is left to it', () => {
  const plain = sampleEvent();
  assert.deepEqual(eraseCredentials(plain), plain);
  assert.equal(storedEventJson(plain), JSON.stringify(plain));
  const upserted = sampleEvent({ input: { headers: { authorization: '***' } }, masked: ['/input/headers/authorization'] });
  assert.deepEqual(eraseCredentials(upserted), upserted);
});

test('on disk: the row and the database files hold no credential; the principal still comes from the token', async () => {
  const dir = tempDir();
  const file = join(dir, 'decisions.db');
  const store = new DecisionLogStore({ file });
  const event = envoyEvent();
  await store.record(event);
  await store.flush();
  const db = openDecisionDatabase(file, { readonly: true });
  try {
    const row = db.prepare('SELECT principal, event FROM decisions WHERE decision_id = ?').get(event.decision_id) as { principal: string; event: string };
    assert.equal(row.principal, 'alice@example.com');
    assert.equal(row.event.includes(token.slice(7)), false);
    assert.equal(row.event.includes('s3cr3t'), false);
    const stored = JSON.parse(row.event);
    assert.deepEqual(stored.input.attributes.request.http.headers, { ':authority': 'shop', 'x-request-id': 'r1' });
    assert.equal(stored.erased.length, 4);
  } finally {
    db.close();
  }
  for (const path of [file, `${file}-wal`]) assert.equal(readFileSync(path).includes('s3cr3t'), false, path);
  await store.close();
});

test('maskCredentials: false stores the headers as the decision saw them', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'decisions.db'), maskCredentials: false });
  const event = envoyEvent();
  await store.record(event);
  await store.flush();
  const found = findDecision(store.db, event.decision_id)!;
  assert.equal((found.event.input as any).attributes.request.http.headers.authorization, token);
  assert.equal(found.event.erased, undefined);
  await store.close();
});

test('the input text as the request carried it: members cut wherever they stand, escaped names, nothing else touched', () => {
  const text = '{ "h" : {"Cookie" : "c1" ,"a":[1, {"headers":{"x":1,"Authorization":{"deep":["s3cr3t"]}}}],\n "headers": {"\\u0061uthorization": "s3cr3t", "set-cookie": ["s3cr3t"], "b": true, "proxy-authorization": null}}, "n": 1.50}';
  const input = JSON.parse(text);
  const stored = eraseCredentials(sampleEvent({ input }), text);
  assert.deepEqual(stored.input, { h: { Cookie: 'c1', a: [1, { headers: { x: 1 } }], headers: { b: true } }, n: 1.5 });
  assert.deepEqual(stored.erased, ['/input/h/a/1/headers/Authorization', '/input/h/headers/authorization', '/input/h/headers/set-cookie', '/input/h/headers/proxy-authorization']);
  const cut = eraseCredentialsInJson(text, 'input')!.json;
  assert.ok(cut.includes('"n": 1.50'), 'the rest of the text is kept byte for byte');
  for (const headers of ['{"cookie":1}', '{"cookie":1,"a":2}', '{"a":2,"cookie":1}', '{"a":2,"cookie":1,"b":3}', '{"a":2,"cookie":1,"Cookie":3}', '{"cookie":1,"Cookie":3,"a":2}']) {
    const parsed = JSON.parse(eraseCredentialsInJson(`{"headers":${headers}}`, 'input')!.json);
    const expected = JSON.parse(headers);
    delete expected.cookie;
    delete expected.Cookie;
    assert.deepEqual(parsed, { headers: expected }, headers);
  }
  assert.equal(eraseCredentialsInJson('{"headers":"cookie","cookie":{"headers":[{"cookie":1}]}}', 'input'), undefined, 'only members of headers objects');
});

test('a cyclic input is counted as an encoding failure, never stored', async () => {
  const headers: Record<string, unknown> = { authorization: 'Bearer x' };
  const input: Record<string, unknown> = { request: { headers } };
  headers.self = input;
  const store = new DecisionLogStore({ file: join(tempDir(), 'decisions.db') });
  assert.equal(await store.record(sampleEvent({ input })), 'dropped');
  await store.flush();
  assert.equal(store.status().encoding_failures, 1);
  assert.equal(store.status().written, 0);
  await store.close();
});
