import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { decisionsRouter } from '../../src/decisionlog/router.js';
import { sqliteQueries } from '../../src/decisionlog/queries.js';
import { sampleEvent, tempDir } from './helpers.js';

let store: DecisionLogStore;
let server: Server;
let base: string;

before(async () => {
  store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  for (let i = 0; i < 5; i++) {
    await store.record(sampleEvent({ decision_id: `id-${i}`, input: { subject: { id: i % 2 ? 'bob' : 'alice' }, request: { http: { method: i < 2 ? 'POST' : 'GET' } } } }));
  }
  const app = express();
  app.use(decisionsRouter(sqliteQueries(store.db)));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.close();
  await store.close();
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(base + path);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('GET /v1/decisions filters and pages', async () => {
  const first = await get('/v1/decisions?principal=alice&limit=2');
  assert.equal(first.status, 200);
  const result = first.body.result as { event: { decision_id: string }; outcome: string; principal: string }[];
  assert.deepEqual(result.map((d) => d.event.decision_id), ['id-4', 'id-2']);
  assert.equal(result[0].outcome, 'allow');
  assert.equal(result[0].principal, 'alice');
  const second = await get(`/v1/decisions?principal=alice&limit=2&cursor=${first.body.next_cursor}`);
  assert.deepEqual((second.body.result as { event: { decision_id: string } }[]).map((d) => d.event.decision_id), ['id-0']);
  assert.equal(second.body.next_cursor, undefined);
});

test('GET /v1/decisions takes input.<field>=value matches', async () => {
  const { body } = await get('/v1/decisions?input.request.http.method=POST&order=asc');
  assert.deepEqual((body.result as { event: { decision_id: string } }[]).map((d) => d.event.decision_id), ['id-0', 'id-1']);
});

test('GET /v1/decisions/{id} returns the decision or OPA-style 404', async () => {
  const found = await get('/v1/decisions/id-3');
  assert.equal(found.status, 200);
  assert.equal((found.body.result as { event: { decision_id: string } }).event.decision_id, 'id-3');
  const missing = await get('/v1/decisions/nope');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { code: 'resource_not_found', message: 'decision nope is not in the decision log' });
});

test('GET /v1/decisions takes principal_prefix, principal_contains and trace_id', async () => {
  assert.equal(((await get('/v1/decisions?principal_prefix=al')).body.result as unknown[]).length, 3);
  assert.equal(((await get('/v1/decisions?principal_contains=OB')).body.result as unknown[]).length, 2);
  assert.equal(((await get('/v1/decisions?trace_id=0af7651916cd43dd8448eb211c80319c')).body.result as unknown[]).length, 0);
});

test('bad parameters get 400 with OPA\'s error envelope', async () => {
  for (const [query, message] of [
    ['since=tuesday', /since must be an RFC3339/],
    ['limit=ten', /limit must be a positive integer/],
    ['limit=2&limit=3', /must be given once/],
    ['colour=red', /unknown query parameter colour/],
    ['outcome=perhaps', /outcome must be one of/],
    ['principal_prefix=', /principal_prefix must not be empty/],
    ['principal_contains=', /principal_contains must not be empty/],
    ['trace_id=abc', /trace_id must be 32 hexadecimal digits/],
    ['until=2024-13-45T00:00:00Z', /until must be an RFC3339/],
  ] as const) {
    const { status, body } = await get(`/v1/decisions?${query}`);
    assert.equal(status, 400, query);
    assert.equal(body.code, 'invalid_parameter');
    assert.match(String(body.message), message);
  }
});
