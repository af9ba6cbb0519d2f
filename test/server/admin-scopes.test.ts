// Admin scopes through the real server: each admin route needs the scope of its action, and a token allowed
// only to read decisions can neither upload, delete nor trigger a bundle: it gets 403 and what is served stays
// exactly as it was (asked of the policy and the data afterwards).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { tempDir } from '../bundle/temp-dir.js';
import { send } from './harness.js';
import { TestAdminIdp } from './admin-idp.js';

const idp = new TestAdminIdp();
const bearer = (scope: string) => idp.bearer(scope);

const file = (path: string, body: string): BundleFile => ({ path, data: Buffer.from(body) });
const authzBundle = (revision: string, users: string[]) =>
  writeBundleArchive([
    file('.manifest', JSON.stringify({ revision, roots: ['authz'] })),
    file('authz/data.json', JSON.stringify({ users })),
    file('authz/policy.rego', 'package authz\n\ndefault allow := false\n\nallow if input.user in data.authz.users\n'),
  ]);

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function configText(dir: string, auth = ''): string {
  return `
persistence_directory: ${dir}/persist
decision_logs:
  store:
    file: ${dir}/decisions.db
${idp.config(auth)}`;
}

async function verdict(dir: string): Promise<RunningServer> {
  const server = await startServer({ addr: '127.0.0.1:0', config: parseConfig(configText(dir), 'test config'), bundlePaths: [], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
  cleanups.push(() => server.close(1000));
  return server;
}

async function call(server: RunningServer, method: string, path: string, headers: Record<string, string>, body?: Buffer | string) {
  const res = await send(server.url, method, path, body, headers);
  const text = res.body.toString();
  return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as Record<string, any> };
}

test('a token with only decisions:read reads decisions but cannot upload, delete or trigger; the active bundle is unchanged', async () => {
  const server = await verdict(tempDir('verdict-admin-scopes-'));
  const writer = await bearer('bundles:write');
  const reader = await bearer('decisions:read');
  const gzip = { 'Content-Type': 'application/gzip' };
  assert.equal((await call(server, 'PUT', '/v1/bundles/authz', { ...writer, ...gzip }, await authzBundle('r1', ['alice']))).status, 200);
  const allowed = async (user: string) => (await call(server, 'POST', '/v1/data/authz/allow', {}, JSON.stringify({ input: { user } }))).body;
  const decision = await allowed('alice');
  assert.equal(decision.result, true);
  await server.decisionLog!.flush();

  const read = await call(server, 'GET', `/v1/decisions/${decision.decision_id}`, reader);
  assert.equal(read.status, 200);
  assert.equal(read.body.result.event.input.user, 'alice');
  assert.equal((await call(server, 'GET', '/ui/decisions', reader)).status, 200);

  const refusal = { code: 'unauthorized', message: 'bearer token lacks the required scope: bundles:write' };
  const upload = await call(server, 'PUT', '/v1/bundles/authz', { ...reader, ...gzip }, await authzBundle('evil', ['mallory']));
  assert.deepEqual(upload, { status: 403, body: refusal });
  assert.deepEqual(await call(server, 'PUT', '/v1/bundles/other', { ...reader, ...gzip }, await authzBundle('evil', ['mallory'])), { status: 403, body: refusal });
  assert.deepEqual(await call(server, 'DELETE', '/v1/bundles/authz', reader), { status: 403, body: refusal });
  assert.deepEqual(await call(server, 'POST', '/v1/bundles/authz/trigger', reader), { status: 403, body: refusal });
  assert.equal((await call(server, 'GET', '/v1/bundles', reader)).status, 403, 'listing bundles needs bundles:read');

  // Nothing changed: same decisions, same data, same revision and activation count.
  assert.equal((await allowed('alice')).result, true);
  assert.equal((await allowed('mallory')).result, false);
  assert.deepEqual((await call(server, 'GET', '/v1/data/authz/users', {})).body.result, ['alice']);
  const listed = await call(server, 'GET', '/v1/bundles', await bearer('bundles:read'));
  assert.deepEqual(listed.body.result.map((b: Record<string, unknown>) => [b.name, b.revision, b.activations]), [['authz', 'r1', 1]]);

  // And the reverse: a bundle writer cannot read the decision log.
  const writerReading = await call(server, 'GET', '/v1/decisions', writer);
  assert.deepEqual(writerReading, { status: 403, body: { code: 'unauthorized', message: 'bearer token lacks the required scope: decisions:read' } });
});

test('a configuration with the old all-purpose required_scopes stops start-up with how to migrate', async () => {
  const dir = tempDir('verdict-admin-scopes-old-');
  const config = parseConfig(configText(dir, '    required_scopes: [verdict-admin]\n'), 'old config');
  await assert.rejects(
    startServer({ addr: '127.0.0.1:0', config, bundlePaths: [], logger: pino({ level: 'silent' }), decisionLogByDefault: true }),
    /admin_api\.auth\.required_scopes is no longer supported: each admin action now needs its own scope \(bundles:read, bundles:write, decisions:read, decisions:write\)/,
  );
  assert.throws(() => parseConfig(configText(dir, '    scopes: {"bundles:admin": x}\n'), 'typo'), /unknown key "bundles:admin"/);
});
