import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import type { Decide } from '../../src/engine/engine.js';
import { httpAuthzRouter } from '../../src/envoy/http-authz.js';
import { httpTestPolicy } from './http-policy.js';
import { listen } from './listen.js';
import { wasmDecide } from './wasm-decide.js';

describe('HTTP authorization callouts', () => {
  let decide: Decide;
  let server: Server;
  let base: string;
  const inputs: Record<string, unknown>[] = [];

  before(async () => {
    decide = await wasmDecide(httpTestPolicy, ['envoy/authz/allow']);
    const recording: Decide = async (path, input) => {
      inputs.push(input as Record<string, unknown>);
      return decide(path, input);
    };
    const app = express();
    app.use('/authz', httpAuthzRouter(recording, { maxBodyBytes: 1024 }));
    app.use('/dry', httpAuthzRouter(recording, { dryRun: true }));
    app.use('/unlogged', httpAuthzRouter(recording));
    // A decision log that stores each event before the answer (sync mode) hands back a promise of the id.
    app.use('/logged-sync', httpAuthzRouter(recording, { onInputError: () => new Promise((resolve) => setTimeout(() => resolve('stored-id'), 5)) }));
    app.use(httpAuthzRouter(recording, { pathPrefix: '/ext_authz' }));
    ({ server, base } = await listen(app));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('Traefik forwardAuth: X-Forwarded-* describe the original request; allow is 200 with the policy headers', async () => {
    const res = await fetch(`${base}/authz`, { headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/public/a?x=1', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9, 10.0.0.1' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-user'), 'alice');
    assert.equal(res.headers.get('x-checked'), 'yes');
    assert.match(res.headers.get('x-decision-id') ?? '', /\S/);
    const input = inputs.at(-1) as any;
    assert.deepEqual(input.parsed_path, ['public', 'a']);
    assert.deepEqual(input.parsed_query, { x: ['1'] });
    assert.equal(input.attributes.request.http.host, 'shop.example');
    assert.equal(input.attributes.request.http.headers[':authority'], 'shop.example');
    assert.equal(input.attributes.request.http.headers[':method'], 'GET');
    assert.equal(input.attributes.request.http.headers[':path'], '/public/a?x=1');
    assert.equal(input.attributes.request.http.headers['x-forwarded-uri'], undefined);
    assert.equal(input.attributes.request.http.scheme, 'https');
    assert.equal(input.attributes.source.address.socketAddress.address, '203.0.113.9');
    assert.deepEqual(input.version, { ext_authz: 'v3', encoding: 'protojson' });
  });

  test('a request that does not parse still gets an x-decision-id: the logged event\'s once stored, else a fresh one', async () => {
    const bad = { 'x-original-uri': '/api/%zz', 'x-original-method': 'GET' };
    const logged = await fetch(`${base}/logged-sync`, { headers: bad });
    assert.equal(logged.status, 400);
    assert.equal(logged.headers.get('x-decision-id'), 'stored-id');
    const unlogged = await fetch(`${base}/unlogged`, { headers: bad });
    assert.equal(unlogged.status, 400);
    assert.match(unlogged.headers.get('x-decision-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('nginx auth_request: X-Original-* describe the original request; a plain false is 403', async () => {
    const res = await fetch(`${base}/authz`, { headers: { 'x-original-method': 'DELETE', 'x-original-uri': '/admin' } });
    assert.equal(res.status, 403);
    assert.equal((inputs.at(-1) as any).attributes.request.http.method, 'DELETE');
  });

  test('a denial with http_status, body and headers is answered with them', async () => {
    const res = await fetch(`${base}/authz`, { headers: { 'x-original-method': 'GET', 'x-original-uri': '/login-required' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm=verdict');
    assert.equal(await res.text(), 'login');
  });

  test('Envoy http_service: the request itself is the original, after path_prefix; its JSON body is parsed', async () => {
    const cheap = await fetch(`${base}/ext_authz/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":5}' });
    assert.equal(cheap.status, 200);
    assert.deepEqual((inputs.at(-1) as any).parsed_body, { amount: 5 });
    assert.deepEqual((inputs.at(-1) as any).parsed_path, ['orders']);
    const dear = await fetch(`${base}/ext_authz/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":500}' });
    assert.equal(dear.status, 403);
  });

  test('an undefined decision is a 500 naming it, a bad body a 400, an enormous body a 413; the server keeps serving', async () => {
    const undef = await fetch(`${base}/authz`, { headers: { 'x-original-method': 'GET', 'x-original-uri': '/undefined' } });
    assert.equal(undef.status, 500);
    assert.equal((await undef.json()).code, 'undefined_document');
    const bad = await fetch(`${base}/authz/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":' });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).message, /not valid JSON/);
    const huge = await fetch(`${base}/authz/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(5000) });
    assert.equal(huge.status, 413);
    assert.equal((await huge.json()).code, 'request_too_large');
    const again = await fetch(`${base}/authz`, { headers: { 'x-original-method': 'GET', 'x-original-uri': '/public' } });
    assert.equal(again.status, 200);
  });

  test('dry-run answers 200 to what the policy denies, without the policy headers', async () => {
    const res = await fetch(`${base}/dry`, { headers: { 'x-original-method': 'GET', 'x-original-uri': '/login-required' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('www-authenticate'), null);
  });
});
