// The list of OPA's configuration keys (src/config/opa-keys.ts) against what start-up really does: each key
// that works passes start-up's checks, each refused key stops it naming the key, every key the schema accepts
// is on the list, and the docs table is the list's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { opaConfigKeys, opaKeysTable, refusalReason, type OpaConfigKey } from '../../src/config/opa-keys.js';

const schema = JSON.parse(readFileSync(new URL('../../../schemas/config.schema.json', import.meta.url), 'utf8')) as Schema;

interface Schema {
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  oneOf?: Schema[];
}

function sampleValue(key: OpaConfigKey): unknown {
  if ('example' in key) return key.example;
  return { string: 'v', boolean: true, integer: 1, number: 1, object: {}, 'string[]': ['v'], 'number[]': [1] }[key.type];
}

/** A config that sets just `key` (map entries are named "x"; a service gets the url it needs). */
function configWith(path: string, value: unknown, siblings: Record<string, unknown> = {}): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  let node = config;
  const segments = path.split('.').flatMap((s) => (s.endsWith('[_]') ? [s.slice(0, -3), 'x'] : [s]));
  segments.forEach((segment, i) => {
    if (i === segments.length - 1) Object.assign(node, siblings, { [segment]: value });
    else node = (node[segment] ??= {}) as Record<string, unknown>;
    if (segments[0] === 'services' && i === 1 && segments[2] !== 'url') node.url = 'http://127.0.0.1:8282';
  });
  return config;
}

const yaml = (config: unknown) => JSON.stringify(config);

test('every key that works passes start-up\'s checks; every refused key stops start-up naming it and why', () => {
  for (const key of opaConfigKeys) {
    const value = sampleValue(key);
    const config = configWith(key.path, value, key.siblings);
    const reason = refusalReason(key);
    const refused = reason !== undefined && (key.refusedWhen?.(value) ?? true);
    if (!refused) {
      assert.doesNotThrow(() => parseConfig(yaml(config), 'c.json'), `${key.path} = ${JSON.stringify(value)}`);
      continue;
    }
    const concrete = key.path.replace(/\[_\]/g, '.x');
    assert.throws(
      () => parseConfig(yaml(config), 'c.json'),
      (err: unknown) => err instanceof ConfigError && err.message.includes(`${concrete}: ${reason}`),
      `${key.path} must be refused`,
    );
  }
});

test('values a working key refuses are refused by name', () => {
  const cases: [string, unknown, RegExp][] = [
    ['decision_logs.reporting.trigger', 'manual', /decision_logs\.reporting\.trigger: "manual" is refused/],
    ['status.trigger', 'manual', /status\.trigger: "manual" is refused/],
    ['discovery.persist', true, /discovery\.persist: true is refused/],
  ];
  for (const [path, value, message] of cases) assert.throws(() => parseConfig(yaml(configWith(path, value)), 'c.json'), message);
  assert.doesNotThrow(() => parseConfig(yaml({ decision_logs: { reporting: { trigger: 'periodic' } } }), 'c.json'));
});

test('unknown keys are refused at any depth with their JSON path', () => {
  const cases: [unknown, string][] = [
    [{ decision_logs: { reporting: { min_delay: 1 } } }, '/decision_logs/reporting: unknown key "min_delay"'],
    [{ decision_logs: { request_context: { http: { header: ['a'] } } } }, '/decision_logs/request_context/http: unknown key "header"'],
    [{ bundles: { b: { polling: { min_delay: 1 } } } }, '/bundles/b/polling: unknown key "min_delay"'],
    [{ bundles: { b: { servce: 's' } } }, '/bundles/b: unknown key "servce"'],
    [{ caching: { inter_query_builtin_cache: { max_size: 1 } } }, '/caching/inter_query_builtin_cache: unknown key "max_size"'],
    [{ server: { encoding: { gzip: { level: 1 } } } }, '/server/encoding/gzip: unknown key "level"'],
    [{ keys: { k: { kid: 'x' } } }, '/keys/k: unknown key "kid"'],
    [{ plugins: { my_plugin: {} } }, '/plugins: unknown key "my_plugin"'],
    [{ storage: { disk: { dir: '/x' } } }, '/storage/disk: unknown key "dir"'],
  ];
  for (const [config, message] of cases) {
    assert.throws(() => parseConfig(yaml(config), 'c.json'), (err: unknown) => err instanceof ConfigError && err.message.includes(message), message);
  }
});

/** Paths the schema accepts, down to the first listed key on each branch; Verdict's own sections are left out. */
function schemaPaths(node: Schema, prefix: string, listed: Set<string>, out: string[]): void {
  if (prefix && listed.has(prefix)) return void out.push(prefix);
  const verdictOnly = ['verdict', 'pip', 'admin_api', 'decision_logs.store', 'services', 'status', 'discovery'];
  if (verdictOnly.includes(prefix)) return;
  if (node.properties) {
    for (const [name, child] of Object.entries(node.properties)) schemaPaths(child, prefix ? `${prefix}.${name}` : name, listed, out);
  } else if (typeof node.additionalProperties === 'object' && node.additionalProperties.properties) {
    schemaPaths(node.additionalProperties, `${prefix}[_]`, listed, out);
  } else out.push(prefix);
}

test('every OPA key the schema accepts is on the list (so it is either implemented or refused)', () => {
  const listed = new Set(opaConfigKeys.map((k) => k.path));
  const accepted: string[] = [];
  schemaPaths(schema, '', listed, accepted);
  assert.deepEqual(accepted.filter((p) => !listed.has(p)), []);
  assert.equal(listed.size, opaConfigKeys.length, 'no key listed twice');
});

test('docs/configuration.md shows the list as it is', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const start = doc.indexOf('<!-- opa-keys:start -->');
  const end = doc.indexOf('<!-- opa-keys:end -->');
  assert.ok(start >= 0 && end > start, 'the table markers are in docs/configuration.md');
  assert.equal(doc.slice(start + '<!-- opa-keys:start -->'.length, end).trim(), opaKeysTable(), 'regenerate with: npm run docs:config-keys');
});
