// Through the real server: the policy decides on the full request, credentials included, while the decision log
// stores the event without them (Envoy-style callouts and the Data API alike), with OPA's erased bookkeeping
// after the mask policy's own entries. `mask_credentials: false` stores them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { send, writeTree } from './harness.js';

const secretToken = 'Bearer opaque-t0ken-of-the-caller';
const bundleDir = writeTree({
  '.manifest': JSON.stringify({ revision: 'c1', roots: ['envoy', 'app', 'system'] }),
  'envoy/policy.rego': [
    'package envoy.authz',
    'default allow := false',
    `allow if input.attributes.request.http.headers.authorization == "${secretToken}"`,
    '',
  ].join('\n\n'),
  'app/policy.rego': [
    'package app',
    'default allow := false',
    'allow if {\n\tinput.request.headers.Cookie == "session=c00kie-value"\n\tinput.request.headers["Proxy-Authorization"] == "Basic cHJveHk="\n}',
    '',
  ].join('\n\n'),
  'system/log.rego': 'package system.log\n\nmask contains "/input/request/password" if input.input.request.password\n',
});

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function verdict(dir: string, store = ''): Promise<RunningServer> {
  const config = `
plugins:
  envoy_ext_authz_http: {}
decision_logs:
  store:
    file: ${dir}/decisions.db
${store}`;
  const server = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'test config'), bundlePaths: [bundleDir], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
  cleanups.push(() => server.close(1000));
  return server;
}

function storedEvent(dir: string, decisionId: string): { principal: string | null; event: Record<string, any> } {
  const db = openDecisionDatabase(join(dir, 'decisions.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT principal, event FROM decisions WHERE decision_id = ?').get(decisionId) as { principal: string | null; event: string };
    return { principal: row.principal, event: JSON.parse(row.event) };
  } finally {
    db.close();
  }
}

test('the decision sees the credentials; the stored event does not, and lists what was erased', async () => {
  const dir = writeTree({});
  const server = await verdict(dir);
  const allowed = await send(server.url, 'GET', '/v1/authz/orders', undefined, { Authorization: secretToken, Cookie: 'theme=dark' });
  assert.equal(allowed.status, 200, 'allowed: the policy compared the real Authorization header');
  const refused = await send(server.url, 'GET', '/v1/authz/orders', undefined, { Authorization: 'Bearer wrong' });
  assert.equal(refused.status, 403);
  const input = { request: { headers: { Cookie: 'session=c00kie-value', 'Proxy-Authorization': 'Basic cHJveHk=', Accept: '*/*' }, password: 'pw-123' } };
  const data = await send(server.url, 'POST', '/v1/data/app/allow', JSON.stringify({ input }));
  const answer = JSON.parse(data.body.toString());
  assert.equal(answer.result, true, 'the Data API decided on the unmasked input');
  await server.close(1000);

  const envoy = storedEvent(dir, allowed.headers['x-decision-id'] as string);
  const headers = envoy.event.input.attributes.request.http.headers;
  assert.equal(headers.authorization, undefined);
  assert.equal(headers.cookie, undefined);
  assert.equal(headers[':path'], '/orders', 'other headers are kept');
  assert.deepEqual(envoy.event.erased, ['/input/attributes/request/http/headers/authorization', '/input/attributes/request/http/headers/cookie']);
  assert.equal(envoy.event.result, true);

  const app = storedEvent(dir, answer.decision_id);
  assert.deepEqual(app.event.input, { request: { headers: { Accept: '*/*' } } });
  assert.deepEqual(app.event.erased, ['/input/request/password', '/input/request/headers/Cookie', '/input/request/headers/Proxy-Authorization']);

  for (const name of readdirSync(dir).filter((n) => n.startsWith('decisions.db'))) {
    const bytes = readFileSync(join(dir, name));
    for (const secret of ['opaque-t0ken', 'c00kie-value', 'cHJveHk=', 'pw-123']) assert.equal(bytes.includes(secret), false, `${name} holds ${secret}`);
  }
});

test('decision_logs.store.mask_credentials: false stores the credentials', async () => {
  const dir = writeTree({});
  const server = await verdict(dir, '    mask_credentials: false');
  const allowed = await send(server.url, 'GET', '/v1/authz/orders', undefined, { Authorization: secretToken });
  assert.equal(allowed.status, 200);
  await server.close(1000);
  const stored = storedEvent(dir, allowed.headers['x-decision-id'] as string);
  assert.equal(stored.event.input.attributes.request.http.headers.authorization, secretToken);
  assert.equal(stored.event.erased, undefined);
});

test('Data API inputs: credential names spelled in any case or with escapes are erased; other inputs are stored as sent', async () => {
  const dir = writeTree({});
  const server = await verdict(dir);
  // The server reads the request's keys once and skips the credential search for an input that names none: every
  // spelling the erasure recognises must count as naming one.
  // 'Coo\u212Aie' is written raw: the Kelvin sign lower-cases to k.
  const spellings = ['AUTHORIZATION', 'aUtHoRiZaTiOn', '\\u0041uthorization', 'CooKie', 'set-\\u0063ookie', 'PROXY-authorization', 'Coo\u212Aie'];
  const ids: string[] = [];
  for (const [i, name] of spellings.entries()) {
    const body = `{"input":{"request":{"headers":{"${name}":"secret-${i}-value","accept":"*/*"}}}}`;
    const data = await send(server.url, 'POST', '/v1/data/app/allow', body);
    assert.equal(data.status, 200);
    ids.push(JSON.parse(data.body.toString()).decision_id);
  }
  // No credential key anywhere (the words only as values, and in a key of another length): kept byte for byte.
  const plain = '{"request": {"headers": {"x-note": "authorization cookie \\u0041", "authorizations": "not a header"}},  "n": 1.50}';
  const kept = await send(server.url, 'POST', '/v1/data/app/allow', `{"input":${plain}}`);
  await server.close(1000);

  for (const [i, id] of ids.entries()) {
    const { event } = storedEvent(dir, id);
    assert.deepEqual(event.input, { request: { headers: { accept: '*/*' } } }, spellings[i]);
    assert.equal(event.erased.length, 1, spellings[i]);
  }
  const db = openDecisionDatabase(join(dir, 'decisions.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT event FROM decisions WHERE decision_id = ?').get(JSON.parse(kept.body.toString()).decision_id) as { event: string };
    assert.ok(row.event.includes(`"input":${plain},`), row.event);
    assert.equal(JSON.parse(row.event).erased, undefined);
  } finally {
    db.close();
  }
  for (const name of readdirSync(dir).filter((n) => n.startsWith('decisions.db'))) {
    const bytes = readFileSync(join(dir, name));
    for (const i of spellings.keys()) assert.equal(bytes.includes(`secret-${i}-value`), false, `${name} holds secret-${i}-value`);
  }
});
