// The PIP layer in the real decision path: a Verdict server started with a `pip` config whose adapters are a
// loopback HTTP service and a JWT verifier with static keys, deciding a Rego policy (compiled by the interim OPA
// compiler) that reads input.pip.*. Every decision route, the Decide contract, the decision hook, fail-closed
// and skip behaviour, /metrics, /health?plugins and /v1/status; and `verdict run` end to end.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { spawn, spawnSync } from 'node:child_process';
import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import type { DecisionEvent } from '../../src/server/context.js';
import type { RunningServer } from '../../src/server/start.js';
import { ApiError } from '../../src/server/errors.js';
import { closedPortUrl, sendJson, startFixtureService, type FixtureService } from '../pip/fixtures/http-service.js';
import { send, startVerdict, writeTree } from './harness.js';
import { freePort } from '../free-port.js';
import { eventually } from '../eventually.js';

const ISSUER = 'https://idp.test';
const PLANS: Record<string, string> = { alice: 'gold', bob: 'free' };

const POLICY = `package gateway

default allow := false

allow if {
	input.pip.token.valid
	input.pip.profile.plan == "gold"
	input.request.method == "GET"
}

plan := input.pip.profile.plan

pip_keys := ks if {
	is_object(input.pip)
	ks := [k | some k, _ in input.pip]
}

exact if input.n == 12345678901234567890
`;

const OTHER = `package other

down := true

optional := ks if {
	is_object(input.pip)
	ks := [k | some k, _ in input.pip]
}

pip_keys := ks if {
	is_object(input.pip)
	ks := [k | some k, _ in input.pip]
}
`;

let privateKey: CryptoKey;
let publicPem: string;
let svc: FixtureService;

async function token(sub: string, key = privateKey): Promise<string> {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience('gateway')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
}

/** The pip config of these tests, as YAML in the config file, like a user writes it. */
function pipConfig(down: string): string {
  return `default_decision: /gateway/allow
status: { console: true }
pip:
  adapters:
    token:
      type: jwt
      settings:
        keys:
          - |
${publicPem.trim().split('\n').map((l) => `            ${l}`).join('\n')}
        issuer: ${ISSUER}
        audience: gateway
        algorithms: [ES256]
    profile:
      type: http
      timeout: 5s
      cache: { ttl: 10m }
      settings: { url: "${svc.url}/profiles/{user}" }
    down:
      type: http
      timeout: 5s
      settings: { url: "${down}/never" }
    optional:
      type: http
      timeout: 5s
      on_error: skip
      settings: { url: "${down}/never" }
  enrich:
    - { paths: [gateway], adapter: token, inputs: { token: input.headers.authorization } }
    - { paths: [gateway], adapter: profile, inputs: { user: input.pip.token.claims.sub } }
    - { paths: [other/down], adapter: down, inputs: { user: input.user } }
    - { paths: [other/optional], adapter: optional, inputs: { user: input.user } }
`;
}

before(async () => {
  const keys = await generateKeyPair('ES256', { extractable: true });
  privateKey = keys.privateKey;
  publicPem = await exportSPKI(keys.publicKey);
  svc = await startFixtureService();
  svc.route('GET', '/profiles/*', (req, res) => {
    const user = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    if (PLANS[user]) sendJson(res, 200, { plan: PLANS[user] });
    else res.writeHead(404).end();
  });
});

after(() => svc?.close());

describe('a server with pip configured', () => {
  let verdict: RunningServer;
  const events: DecisionEvent[] = [];
  const post = async (path: string, body: unknown) => {
    const res = await send(verdict.url, 'POST', path, typeof body === 'string' ? body : JSON.stringify(body));
    return { status: res.status, body: JSON.parse(res.body.toString()) };
  };
  const profileFetches = () => svc.seen.filter((s) => s.url.startsWith('/profiles/')).length;
  const metric = async (name: string, adapter: string) => {
    const text = (await send(verdict.url, 'GET', '/metrics')).body.toString();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{adapter="${adapter}"}`));
    assert.ok(line, `${name} for ${adapter} in /metrics`);
    return Number(line.split(' ').pop());
  };
  const healthPlugins = async (query = '') => (await send(verdict.url, 'GET', `/health?plugins${query}`)).status;

  before(async () => {
    const bundle = writeTree({
      '.manifest': JSON.stringify({ revision: 'pip-1', roots: ['gateway', 'other'] }),
      'gateway/policy.rego': POLICY,
      'other/policy.rego': OTHER,
    });
    verdict = await startVerdict(pipConfig(await closedPortUrl()), [bundle], (e) => events.push(e));
  });
  after(() => verdict?.close());

  it('is healthy with every adapter as a plugin before any lookup failed', async () => {
    assert.equal(await healthPlugins(), 200);
    const status = JSON.parse((await send(verdict.url, 'GET', '/v1/status')).body.toString()).result;
    assert.deepEqual(Object.keys(status.plugins).sort(), ['pip.down', 'pip.optional', 'pip.profile', 'pip.token', 'status']);
    assert.equal(status.plugins['pip.profile'].state, 'OK');
    assert.equal(status.pip.profile.type, 'http');
  });

  it('evaluates the policy on the enriched input: a verified token and the profile it leads to', async () => {
    const input = { request: { method: 'GET' }, headers: { authorization: `Bearer ${await token('alice')}` } };
    const res = await post('/v1/data/gateway/allow', { input });
    assert.equal(res.status, 200);
    assert.equal(res.body.result, true);
    const event = events.at(-1)!;
    assert.equal(event.decision_id, res.body.decision_id);
    const seen = event.input as { pip: { token: { valid: boolean; claims: { sub: string } }; profile: unknown }; request: unknown };
    assert.equal(seen.pip.token.valid, true);
    assert.equal(seen.pip.token.claims.sub, 'alice');
    assert.deepEqual(seen.pip.profile, { plan: 'gold' });
    assert.deepEqual(seen.request, input.request, 'the caller input is kept');
    assert.deepEqual(event.pip!.adapters.map((a) => [a.adapter, a.outcome]), [['token', 'ok'], ['profile', 'ok']]);
    assert.equal(event.pip!.path, 'gateway/allow');

    const bob = await post('/v1/data/gateway/allow', { input: { ...input, headers: { authorization: `Bearer ${await token('bob')}` } } });
    assert.equal(bob.body.result, false, 'bob has the free plan');
    const forger = (await generateKeyPair('ES256')).privateKey;
    const forged = await post('/v1/data/gateway/pip_keys', { input: { headers: { authorization: `Bearer ${await token('alice', forger)}` } } });
    assert.deepEqual(forged.body.result, ['token'], 'a forged token has no subject, so no profile lookup');
    assert.equal((events.at(-1)!.input as { pip: { token: { valid: boolean } } }).pip.token.valid, false);
  });

  it('enriches GET /v1/data, POST /v0/data, the default decision POST / and the Decide contract alike', async () => {
    const input = { request: { method: 'GET' }, headers: { authorization: `Bearer ${await token('alice')}` } };
    const get = await send(verdict.url, 'GET', `/v1/data/gateway/plan?input=${encodeURIComponent(JSON.stringify(input))}`);
    assert.deepEqual(JSON.parse(get.body.toString()).result, 'gold');
    assert.deepEqual((await post('/v0/data/gateway/plan', input)).body, 'gold');
    assert.deepEqual((await post('/', input)).body, true);
    assert.equal((events.at(-1)!.input as { pip: { profile: { plan: string } } }).pip.profile.plan, 'gold');
    const decided = await verdict.decide('gateway/allow', input);
    assert.equal(decided.result, true);
    assert.equal(events.at(-1)!.decision_id, decided.decisionId);
    assert.deepEqual(events.at(-1)!.pip!.adapters.map((a) => a.cache), ['hit', 'hit']);
  });

  it('caches lookups across requests and counts them in /metrics', async () => {
    const before = profileFetches();
    const calls = await metric('verdict_pip_calls_total', 'profile');
    const hits = await metric('verdict_pip_cache_hits_total', 'profile');
    const input = { request: { method: 'GET' }, headers: { authorization: `Bearer ${await token('alice')}` } };
    for (let i = 0; i < 3; i++) assert.equal((await post('/v1/data/gateway/allow', { input })).body.result, true);
    assert.equal(profileFetches(), before, 'alice profile came from the cache');
    assert.equal(await metric('verdict_pip_calls_total', 'profile'), calls + 3);
    assert.equal(await metric('verdict_pip_cache_hits_total', 'profile'), hits + 3);
    const text = (await send(verdict.url, 'GET', '/metrics')).body.toString();
    assert.match(text, /^verdict_pip_lookup_duration_seconds_count\{adapter="profile"\} [1-9]/m);
    assert.match(text, /^http_request_duration_seconds_bucket/m, 'the server metrics are still there');
  });

  it('keeps the caller input bytes exact when adding pip (integers beyond 2^53, empty objects)', async () => {
    const exact = await post('/v1/data/gateway/exact', '{"input": {"n": 12345678901234567890, "headers": {}}}');
    assert.equal(exact.body.result, true);
    assert.deepEqual(events.at(-1)!.pip!.adapters.map((a) => a.outcome), ['skipped', 'skipped']);
    assert.deepEqual((await post('/v1/data/gateway/pip_keys', '{"input":{}}')).body.result, []);
    assert.deepEqual((await post('/v0/data/gateway/pip_keys', ' { } \n')).body, []);
    assert.deepEqual((await post('/v1/data/gateway/pip_keys', '{"input": "not an object"}')).body, { decision_id: events.at(-1)!.decision_id });
  });

  it('answers a caller-supplied input.pip with 400 on every route and in Decide', async () => {
    const forged = { pip: { profile: { plan: 'gold' } }, request: { method: 'GET' } };
    const expected = { code: 'invalid_parameter', message: 'input.pip is reserved for policy information point results and must not be supplied' };
    const recorded = events.length;
    for (const res of [
      await post('/v1/data/gateway/allow', { input: forged }),
      await post('/v1/data/other/pip_keys', { input: forged }),
      await post('/v0/data/gateway/allow', forged),
      await post('/', forged),
      { status: 0, body: JSON.parse((await send(verdict.url, 'GET', `/v1/data/gateway/allow?input=${encodeURIComponent(JSON.stringify(forged))}`)).body.toString()) },
    ]) {
      assert.deepEqual(res.body, expected);
      if (res.status) assert.equal(res.status, 400);
    }
    await assert.rejects(verdict.decide('gateway/allow', forged), (err: unknown) => err instanceof ApiError && err.status === 400);
    assert.equal(events.length, recorded, 'a refused request is not a decision');
  });

  it('fails closed when an on_error: deny adapter is down: 500 naming the adapter, recorded, server still serving', async () => {
    const res = await post('/v1/data/other/down', { input: { user: 'alice' } });
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, {
      code: 'internal_error',
      message: 'policy information point "down" failed (unavailable); the decision fails closed (on_error: deny)',
    });
    assert.doesNotMatch(JSON.stringify(res.body), /127\.0\.0\.1/, 'no internal addresses in the answer');
    const event = events.at(-1)!;
    assert.equal(event.path, 'other/down');
    assert.equal(event.result, undefined);
    assert.equal(event.error?.code, 'pip_lookup_failed');
    assert.match(event.error!.message, /^policy information point "down" failed: unavailable: /);
    assert.equal(event.pip?.denied_by, 'down');
    assert.equal(typeof event.req_id, 'number', 'the event names the request, as every other decision event does');
    assert.equal((await post('/v0/data/other/down', { user: 'alice' })).status, 500);
    await assert.rejects(verdict.decide('other/down', { user: 'alice' }), (err: unknown) => err instanceof ApiError && err.status === 500 && /"down"/.test(err.message));
    assert.equal(events.at(-1)!.pip?.denied_by, 'down', 'Decide records the failed decision too');
    assert.equal((await post('/v1/data/other/down', { input: {} })).body.result, true, 'no input for the lookup: it does not run');
    assert.equal((await post('/v1/data/gateway/allow', { input: { headers: {} } })).status, 200, 'other paths are served');
    assert.equal(await metric('verdict_pip_errors_total', 'down'), 3);
  });

  it('with on_error: skip decides without the key', async () => {
    const res = await post('/v1/data/other/optional', { input: { user: 'alice' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.result, [], 'input.pip has no key');
    const event = events.at(-1)!;
    assert.deepEqual(event.input, { user: 'alice', pip: {} });
    assert.deepEqual(event.pip!.adapters.map((a) => [a.adapter, a.outcome, a.on_error]), [['optional', 'error', 'skip']]);
  });

  it('reports failing adapters in /health?plugins and /v1/status', async () => {
    assert.equal(await healthPlugins(), 500);
    assert.equal(await healthPlugins('&exclude-plugin=pip.down'), 500);
    assert.equal(await healthPlugins('&exclude-plugin=pip.down&exclude-plugin=pip.optional'), 200);
    const status = JSON.parse((await send(verdict.url, 'GET', '/v1/status')).body.toString()).result;
    assert.equal(status.plugins['pip.down'].state, 'ERROR');
    assert.match(status.plugins['pip.down'].message, /^last lookup failed: unavailable: /);
    assert.deepEqual(status.plugins['pip.profile'], { state: 'OK' });
    assert.ok(status.pip.profile.cache_entries >= 2);
    assert.equal(status.pip.down.failing, true);
    const ajv = new Ajv2020({ strict: false, allErrors: true }).addSchema(JSON.parse(readFileSync('schemas/openapi.json', 'utf8')), 'openapi.json');
    const validate = ajv.getSchema('openapi.json#/components/schemas/StatusResponse')!;
    assert.ok(validate({ result: status }), ajv.errorsText(validate.errors));
  });
});

test('a server without pip passes input.pip through untouched and shows no pip metrics', async () => {
  const bundle = writeTree({ '.manifest': JSON.stringify({ revision: 'r', roots: ['other'] }), 'other/policy.rego': OTHER });
  const verdict = await startVerdict('', [bundle]);
  try {
    const res = await send(verdict.url, 'POST', '/v1/data/other/pip_keys', '{"input":{"pip":{"x":1}}}');
    assert.deepEqual(JSON.parse(res.body.toString()), { result: ['x'] });
    assert.doesNotMatch((await send(verdict.url, 'GET', '/metrics')).body.toString(), /verdict_pip_/);
  } finally {
    await verdict.close();
  }
});

test('with caller_pip: strip the caller input.pip is dropped and the adapters results take its place', async () => {
  const bundle = writeTree({ '.manifest': JSON.stringify({ revision: 'r', roots: ['gateway'] }), 'gateway/policy.rego': POLICY });
  const config = `pip:
  caller_pip: strip
  adapters:
    profile: { type: http, timeout: 5s, settings: { url: "${svc.url}/profiles/{user}" } }
  enrich:
    - { paths: [gateway], adapter: profile, inputs: { user: input.user } }
`;
  const events: DecisionEvent[] = [];
  const verdict = await startVerdict(config, [bundle], (e) => events.push(e));
  try {
    const body = '{"input": {"user": "alice", "n": 1, "pip": {"token": {"valid": true}, "profile": {"plan": "free"}}}}';
    const res = await send(verdict.url, 'POST', '/v1/data/gateway/plan', body);
    assert.deepEqual(JSON.parse(res.body.toString()).result, 'gold');
    assert.deepEqual(events.at(-1)!.input, { user: 'alice', n: 1, pip: { profile: { plan: 'gold' } } });
    const other = await send(verdict.url, 'POST', '/v1/data/gateway/pip_keys', '{"input": {"user": "nobody", "pip": {"token": 1}}}');
    assert.deepEqual(JSON.parse(other.body.toString()).result, ['profile'], 'the caller token is gone');
    assert.deepEqual(events.at(-1)!.input, { user: 'nobody', pip: { profile: null } }, 'a 404 is "not found": null');
  } finally {
    await verdict.close();
  }
});

test('a pip config error stops start-up with the config path named', async () => {
  await assert.rejects(
    startVerdict('pip:\n  adapters: {}\n  enrich:\n    - { paths: [gateway], adapter: groups }\n', []),
    /pip\.enrich\[0\]: no adapter named "groups" in pip\.adapters/,
  );
  await assert.rejects(
    startVerdict('pip:\n  adapters:\n    token:\n      type: jwt\n      settings: { algorithms: [RS256], keys: ["not a key"] }\n', []),
    /pip\.adapters\.token\.settings\.keys\[0\]: not a PEM public key/,
  );
});

test('verdict run: the pip section works end to end, and a bad one exits 2 naming it', async () => {
  const dir = writeTree({
    'bundle/.manifest': JSON.stringify({ revision: 'r', roots: ['gateway', 'other'] }),
    'bundle/gateway/policy.rego': POLICY,
    'bundle/other/policy.rego': OTHER,
    'c.yaml': pipConfig(await closedPortUrl()),
    'bad.yaml': 'pip:\n  adapters:\n    profile:\n      type: http\n      settings: { url: "ftp://x/{user}" }\n',
  });
  // On a port of its own: the default (8181) may be taken by another server on the machine, which would be
  // reported first (the adapters' settings are checked by the server threads, after the primary binds).
  const bad = spawnSync(process.execPath, ['dist/src/main.js', 'run', '--addr', '127.0.0.1:0', '--config-file', `${dir}/bad.yaml`, '-b', `${dir}/bundle`], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /pip\.adapters\.profile\.settings\.url: only http and https URLs are supported/);

  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/main.js', 'run', '--addr', `127.0.0.1:${port}`, '--config-file', `${dir}/c.yaml`, '-b', `${dir}/bundle`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const url = `http://127.0.0.1:${port}`;
    await eventually('verdict run healthy', async () => {
      if (child.exitCode !== null) assert.fail(`verdict run exited: ${log}`);
      return send(url, 'GET', '/health').then((r) => r.status === 200, () => false);
    });
    const input = { request: { method: 'GET' }, headers: { authorization: `Bearer ${await token('alice')}` } };
    const res = await send(url, 'POST', '/v1/data/gateway/allow', JSON.stringify({ input }));
    const body = JSON.parse(res.body.toString());
    assert.equal(body.result, true);
    assert.match(body.decision_id, /^[0-9a-f-]{36}$/, 'verdict run logs decisions by default, so answers carry an id');
    assert.equal((await send(url, 'POST', '/v1/data/gateway/allow', JSON.stringify({ input: { pip: {} } }))).status, 400);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, log);
});
