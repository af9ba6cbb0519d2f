// The status and discovery sections at start-up: OPA's defaults, and every key Verdict cannot honour refused
// with its name, before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/config.js';
import { discoverySettings } from '../../src/discovery/config.js';
import { bundleLoadingBuckets, statusSettings } from '../../src/status/config.js';

const services = `services:\n  a:\n    url: http://127.0.0.1:1\n  b:\n    url: http://127.0.0.1:2\n`;
const status = (yaml: string) => statusSettings(parseConfig(yaml, 'c.yaml'));
const discovery = (yaml: string) => discoverySettings(parseConfig(yaml, 'c.yaml'));

test('status: the first service by default unless console or prometheus say otherwise; nothing configured is off', () => {
  assert.equal(status(`${services}status: {}\n`)?.service?.name, 'a');
  assert.equal(status(`${services}status: { console: true }\n`)?.service, undefined);
  assert.equal(status(`${services}status: { service: b, partition_name: east }\n`)?.partitionName, 'east');
  assert.equal(status('status: {}\n'), undefined);
  assert.equal(status(`${services}\n`), undefined);
  assert.throws(() => status(`${services}status: { service: c }\n`), /invalid service name "c" in status/);
});

test('status.prometheus_config: the bundle_loading_duration_ns buckets, as OPA takes them', () => {
  const config = parseConfig('status:\n  prometheus: true\n  prometheus_config:\n    collectors:\n      bundle_loading_duration_ns:\n        buckets: [1000, 1000000, 1000000000]\n', 'c.yaml');
  assert.deepEqual(bundleLoadingBuckets(config), [1000, 1000000, 1000000000]);
  assert.equal(bundleLoadingBuckets(parseConfig('status: { prometheus: true }\n', 'c.yaml')), undefined);
});

test('status: keys Verdict cannot honour stop start-up, naming themselves', () => {
  assert.throws(() => status(`status: { plugin: custom }\n`), /status\.plugin/);
  // OPA's shape is prometheus_config.collectors.<name>; a collector without settings in OPA is refused.
  assert.throws(() => status(`status: { console: true, prometheus_config: { bundle_loading_duration_ns: { buckets: [1] } } }\n`), /status\.prometheus_config\.bundle_loading_duration_ns: unknown key/);
  assert.throws(() => status(`status: { prometheus: true, prometheus_config: { collectors: { http_request_duration_seconds: {} } } }\n`), /status\.prometheus_config\.collectors\.http_request_duration_seconds: unknown key/);
  assert.throws(() => status(`status: { prometheus: true, prometheus_config: { collectors: { bundle_loading_duration_ns: { buckets: "x" } } } }\n`), /buckets: must be a non-empty list of numbers/);
  assert.throws(() => status(`status: { prometheus: true, prometheus_config: { collectors: { bundle_loading_duration_ns: { buckets: [10, 5] } } } }\n`), /buckets: must be in increasing order/);
  assert.throws(() => status(`${services}status: { trigger: manual }\n`), /status\.trigger/);
  assert.throws(() => parseConfig('status: { consol: true }\n', 'c.yaml'), /at \/status: unknown key "consol"/);
});

test('discovery: resource or name/prefix, the only service or a named one, and refusals by name', () => {
  const one = `services:\n  a:\n    url: http://127.0.0.1:1\n`;
  assert.deepEqual(discovery(`${one}discovery: { resource: /d/x.tar.gz }\n`)?.download, { service: 'a', resource: '/d/x.tar.gz', polling: undefined, trigger: undefined });
  const named = discovery(`${one}discovery: { name: example/disco }\n`)!;
  assert.equal(named.download.resource, 'bundles/example/disco');
  assert.deepEqual(named.decision, ['example', 'disco']);
  assert.deepEqual(discovery(`${one}discovery: { resource: d }\n`)?.decision, []);
  assert.throws(() => discovery(`${one}discovery: { service: a }\n`), /missing required discovery.resource field/);
  assert.throws(() => discovery(`${services}discovery: { resource: d }\n`), /more than one service is defined/);
  assert.throws(() => discovery(`${services}discovery: { resource: d, service: z }\n`), /service name "z" not found/);
  assert.throws(() => discovery(`${one}discovery: { resource: d, persist: true }\n`), /discovery\.persist/);
  assert.throws(() => discovery(`${one}discovery: { resource: d, trigger: manual }\n`), /discovery\.trigger/);
  assert.throws(() => parseConfig(`${one}discovery: { resource: d, polling: { min_delay: 1 } }\n`, 'c.yaml'), /at \/discovery\/polling: unknown key "min_delay"/);
  // With keys configured and no signing block, the discovery bundle must be signed (as OPA).
  assert.ok(discovery(`${one}keys:\n  k:\n    key: s\n    algorithm: HS256\ndiscovery: { resource: d }\n`)?.signing);
  assert.equal(discovery(`${one}discovery: { resource: d }\n`)?.signing, undefined);
});
