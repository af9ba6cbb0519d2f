// From a discovery bundle to a configuration: the document evaluated (data, or a rule with `decision`), the
// boot configuration winning every key both set, and what a discovered configuration may not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBundle } from '../../src/bundle/bundle.js';
import { parseConfig } from '../../src/config/config.js';
import { discoverySettings } from '../../src/discovery/config.js';
import { configFromBundle } from '../../src/discovery/configure.js';
import { defaultCompiler } from '../../src/engine/opa-compiler.js';

const boot = parseConfig(
  `services:
  cp:
    url: http://127.0.0.1:1
labels:
  team: payments
keys:
  k1:
    key: secret
    algorithm: HS256
discovery:
  resource: bundles/discovery
`,
  'boot.yaml',
);

function bundle(files: Record<string, unknown>) {
  return parseBundle(
    'discovery',
    Object.entries(files).map(([path, body]) => ({ path, data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) })),
  );
}

const discover = (files: Record<string, unknown>, config = boot) => configFromBundle(bundle(files), discoverySettings(config)!, config, defaultCompiler());

test('the whole data document is the configuration by default; the boot configuration wins and its overrides are listed', async () => {
  const { config, overridden } = await discover({
    'data.json': { bundles: { authz: { service: 'cp' } }, labels: { team: 'other', region: 'eu' }, status: { console: true } },
  });
  assert.deepEqual(config.bundles, { authz: { service: 'cp' } });
  assert.deepEqual(config.labels, { team: 'payments', region: 'eu' });
  assert.deepEqual(config.status, { console: true });
  assert.deepEqual(config.discovery, boot.discovery);
  assert.deepEqual(overridden, ['labels.team']);
});

test('`decision` names a rule of the bundle, evaluated with its data; ${ENV} references are substituted', async () => {
  process.env.VERDICT_TEST_REGION = 'us';
  const withDecision = parseConfig(`services:\n  cp:\n    url: http://127.0.0.1:1\ndiscovery:\n  resource: d\n  decision: config/main\n`, 'boot.yaml');
  const { config } = await discover(
    {
      'config/main.rego': 'package config\nmain := {"bundles": {b: {"service": "cp"} | some b in data.config.names}, "labels": {"region": "${VERDICT_TEST_REGION}"}}\n',
      'config/data.json': { names: ['a', 'b'] },
    },
    withDecision,
  );
  assert.deepEqual(config.bundles, { a: { service: 'cp' }, b: { service: 'cp' } });
  assert.deepEqual(config.labels, { region: 'us' });
});

test('a discovered configuration is refused when it is undefined, not an object, fails the schema or changes what it may not', async () => {
  const withDecision = parseConfig(`services:\n  cp:\n    url: http://127.0.0.1:1\ndiscovery:\n  resource: d\n  decision: nothing/here\n`, 'boot.yaml');
  await assert.rejects(discover({ 'data.json': {} }, withDecision), /undefined configuration/);
  const toScalar = parseConfig(`services:\n  cp:\n    url: http://127.0.0.1:1\ndiscovery:\n  resource: d\n  decision: x\n`, 'boot.yaml');
  await assert.rejects(discover({ 'data.json': { x: 42 } }, toScalar), /not an object: 42/);
  await assert.rejects(discover({ 'data.json': { status: { consol: true } } }), /discovered configuration: invalid configuration:\n  at \/status: unknown key "consol"/);
  await assert.rejects(discover({ 'data.json': { services: { cp: { url: 'http://127.0.0.1:1', headers: { 'x-evil': '1' } } } } }), /updates to the discovery service are not allowed/);
  await assert.rejects(discover({ 'data.json': { keys: { k1: { scope: 'write' } } } }), /updates to keys specified in the boot configuration are not allowed/);
  await assert.rejects(discover({ 'data.json': { caching: { inter_query_builtin_cache: { max_size_bytes: 1 } }, server: { decoding: { max_length: 1 } } } }), /sets caching, server, which Verdict reads only at start-up/);
  // decision_logs and default_decision are applied by the running server (test/server/discovery-decision-logs.test.ts).
  const logs = await discover({ 'data.json': { default_decision: '/other', decision_logs: { console: true } } });
  assert.deepEqual([logs.config.default_decision, logs.config.decision_logs], ['/other', { console: true }]);
  // New services and keys are fine: discovered bundles may use them.
  const { config } = await discover({ 'data.json': { services: { other: { url: 'http://127.0.0.1:2' } }, keys: { k2: { key: 'x', algorithm: 'HS256' } } } });
  assert.deepEqual(Object.keys(config.services as object).sort(), ['cp', 'other']);
});

test('a number a double cannot hold keeps its text: taken where it fits its setting as OPA decodes it, refused or named as written otherwise', async () => {
  const raw = (text: string) => configFromBundle(parseBundle('discovery', [{ path: 'data.json', data: Buffer.from(text) }]), discoverySettings(boot)!, boot, defaultCompiler());
  const withDelay = (n: string) => raw(`{"bundles": {"authz": {"service": "cp", "polling": {"max_delay_seconds": ${n}}}}}`);
  // 9007199254740993 is 2^53 + 1: an int64 setting takes it (as the nearest double), as OPA's int64 does.
  const { config } = await withDelay('9007199254740993');
  assert.equal((config.bundles!.authz!.polling as { max_delay_seconds: unknown }).max_delay_seconds, 9007199254740992);
  for (const n of ['9223372036854775808', '5.0', '1e3']) await assert.rejects(withDelay(n), /at \/bundles\/authz\/polling\/max_delay_seconds: must be integer/, n);
  // A number setting takes any finite number.
  const rate = await raw('{"decision_logs": {"reporting": {"max_decisions_per_second": 5.0}}}');
  assert.equal((rate.config.decision_logs!.reporting as { max_decisions_per_second: unknown }).max_decisions_per_second, 5);
  await assert.rejects(raw('{"decision_logs": {"reporting": {"max_decisions_per_second": 1e400}}}'), /max_decisions_per_second: must be number/);
  const toScalar = parseConfig(`services:\n  cp:\n    url: http://127.0.0.1:1\ndiscovery:\n  resource: d\n  decision: x\n`, 'boot.yaml');
  await assert.rejects(
    configFromBundle(parseBundle('discovery', [{ path: 'data.json', data: Buffer.from('{"x": 12345678901234567890}') }]), discoverySettings(toScalar)!, toScalar, defaultCompiler()),
    /not an object: 12345678901234567890$/,
  );
});
