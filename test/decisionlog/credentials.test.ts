// Credentials are not stored by default: what eraseCredentials removes and records, and what reaches the
// SQLite file (the row and the bytes of the database and WAL files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eraseCredentials } from '../../src/decisionlog/credentials.js';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { findDecision } from '../../src/decisionlog/query.js';
import { sampleEvent, tempDir, unsignedJwt } from './helpers.js';

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
  assert.equal(eraseCredentials(plain), plain);
  const upserted = sampleEvent({ input: { headers: { authorization: '***' } }, masked: ['/input/headers/authorization'] });
  assert.equal(eraseCredentials(upserted), upserted);
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

test('a cyclic input is walked once (the store then counts it as an encoding failure)', () => {
  const headers: Record<string, unknown> = { authorization: 'Bearer x' };
  const input: Record<string, unknown> = { request: { headers } };
  headers.self = input;
  const stored = eraseCredentials(sampleEvent({ input }));
  assert.deepEqual(stored.erased, ['/input/request/headers/authorization']);
});
