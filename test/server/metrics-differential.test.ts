// The metrics differential: `opa run --server` and `verdict run` (several workers, so /metrics is the merged
// view) get the same configuration (a bundle service with one bundle it serves and one it does not, decision
// logs uploaded to it, status.prometheus) and the same requests; then both /metrics are scraped. Shared metrics
// must have the same label names, http_request_duration_seconds the same code/handler/method series, the bundle
// metrics the same bundle names. What only one side has is listed here, so a new divergence fails the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { TestBundleServer } from '../bundle/bundle-server.js';
import { tempDir } from '../bundle/temp-dir.js';
import { freePort } from '../free-port.js';
import { send } from './harness.js';
import { spawnServer, waitUntil, type RunningProcess } from './processes.js';

/** Metric families only OPA has (besides Go's runtime metrics, go_*, which Node has no counterpart for). */
const onlyOpa: string[] = [];
/** Metric families only Verdict has (besides its own verdict_* and Node's process_* and nodejs_* metrics). */
const onlyVerdict: string[] = [];
/**
 * OPA's decision-log counters that OPA shows only once they are non-zero and Verdict always shows (from zero):
 * in this run nothing is dropped, so OPA does not list them.
 */
const zeroCountersOpaOmits = [
  'decision_logs_dropped_buffer_size_limit_bytes_exceeded_total',
  'decision_logs_dropped_rate_limit_exceeded_total',
  'decision_logs_encoding_failure_total',
  'decision_logs_nd_builtin_cache_dropped_total',
  'enc_log_exceeded_upload_size_limit_bytes_total',
  'decision_logs_chunks_upload_failed_total',
];
/**
 * Label values that differ, per metric and label: the values only OPA has, only Verdict has ('own': exactly one
 * value of its own), values OPA may have depending on timing, or `wording` for free text that differs.
 */
interface ValueDifference {
  opa?: string[];
  verdict?: string[] | 'own';
  opaMayHave?: string[];
  wording?: true;
}
const differingValues: Record<string, Record<string, ValueDifference>> = {
  // OPA times parsing and compiling separately; Verdict times the download and the whole activation.
  bundle_loading_duration_ns: { stage: { opa: ['timer_rego_module_compile_ns', 'timer_rego_module_parse_ns'] } },
  // OPA counts a status update that comes before a bundle's first activation as a failed load without a code
  // (here the served bundle, authz); Verdict counts failed requests and activations only.
  bundle_failed_load_counter: { code: { opaMayHave: [''] }, name: { opaMayHave: ['authz'] }, message: { wording: true } },
  // OPA's discovery plugin is always registered; Verdict lists it only when discovery is configured.
  plugin_status_gauge: { name: { opa: ['discovery'] } },
  // Each reports its own version.
  opa_info: { version: { opa: ['1.22.4'], verdict: 'own' } },
};

/** status.prometheus_config.collectors.bundle_loading_duration_ns.buckets, given to both. */
const bundleBuckets = [1000, 1000000, 1000000000];

const file = (path: string, body: string): BundleFile => ({ path, data: Buffer.from(body) });

let cp: TestBundleServer;
let opa: RunningProcess;
let verdict: RunningProcess;
let opaUrl: string;
let verdictUrl: string;

before(async () => {
  cp = await TestBundleServer.start();
  cp.setBundle(
    'authz',
    await writeBundleArchive([
      file('.manifest', JSON.stringify({ revision: 'm1', roots: ['authz'] })),
      file('authz/policy.rego', 'package authz\n\ndefault allow := false\n\nallow if input.user == "alice"\n'),
    ]),
  );
  const polling = '{ min_delay_seconds: 1, max_delay_seconds: 2 }';
  const configFile = join(tempDir('metrics-diff-'), 'config.yaml');
  writeFileSync(
    configFile,
    `services:\n  cp:\n    url: ${cp.url}\n` +
      `bundles:\n  authz: { service: cp, resource: bundles/authz, polling: ${polling} }\n  missing: { service: cp, resource: bundles/missing, polling: ${polling} }\n` +
      `decision_logs:\n  service: cp\n  reporting: { min_delay_seconds: 1, max_delay_seconds: 1 }\n` +
      `status:\n  prometheus: true\n  prometheus_config:\n    collectors:\n      bundle_loading_duration_ns:\n        buckets: [${bundleBuckets.join(', ')}]\n`,
  );
  const [opaPort, verdictPort] = await Promise.all([freePort(), freePort()]);
  opaUrl = `http://127.0.0.1:${opaPort}`;
  verdictUrl = `http://127.0.0.1:${verdictPort}`;
  opa = spawnServer('opa', ['--addr', `127.0.0.1:${opaPort}`, '--log-level', 'error', '-c', configFile]);
  verdict = spawnServer('verdict', ['--addr', `127.0.0.1:${verdictPort}`, '--log-level', 'error', '-c', configFile, '--workers', '2']);
  const activated = (url: string) => async () => (await send(url, 'POST', '/v1/data/authz/allow', '{"input":{"user":"alice"}}')).body.toString().includes('true');
  await Promise.all([waitUntil(opa, activated(opaUrl)), waitUntil(verdict, activated(verdictUrl))]);
});

after(async () => {
  await Promise.all([opa?.stop(), verdict?.stop()]);
  await cp?.close();
});

/** The same requests, in the same order, to one server; returns the status codes. */
async function exercise(url: string): Promise<number[]> {
  const requests: Array<[string, string, string?]> = [
    ['POST', '/v1/data/authz/allow', '{"input":{"user":"alice"}}'],
    ['GET', '/v1/data/authz/allow'],
    ['PUT', '/v1/data/extra', '{"a":1}'],
    ['PATCH', '/v1/data/extra', '[]'],
    ['DELETE', '/v1/data/extra'],
    ['DELETE', '/v1/data'],
    ['HEAD', '/v1/data'],
    ['POST', '/v0/data/authz/allow', '{"user":"alice"}'],
    ['POST', '/', '{}'],
    ['GET', '/'],
    ['GET', '/v1/query?q=x%20%3A%3D%201'],
    ['POST', '/v1/query', '{"query":"x := 1"}'],
    ['PUT', '/v1/query', '{}'],
    ['POST', '/v1/compile', '{"query":"data.authz.allow == true","unknowns":["input"]}'],
    ['PUT', '/v1/policies/p1', 'package p1\n\np := 1\n'],
    ['GET', '/v1/policies'],
    ['GET', '/v1/policies/p1'],
    ['DELETE', '/v1/policies/p1'],
    ['POST', '/v1/policies', '{}'],
    ['GET', '/health'],
    ['GET', '/health?bundles'],
    ['GET', '/v1/config'],
    ['GET', '/v1/status'],
    ['GET', '/no/such/path'],
  ];
  const codes: number[] = [];
  for (const [method, path, body] of requests) codes.push((await send(url, method, path, body)).status);
  return codes;
}

interface Family {
  /** Every series' label names, sorted and joined ("code,handler,method"); `le` left out. */
  labelSets: Set<string>;
  /** Every value each label takes. */
  values: Map<string, Set<string>>;
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

/** Prometheus text exposition, grouped by family (a histogram's _bucket/_sum/_count under its name). */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const histograms = new Set<string>();
  const family = (name: string): Family => {
    if (!families.has(name)) families.set(name, { labelSets: new Set(), values: new Map(), samples: [] });
    return families.get(name)!;
  };
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (type[2] === 'histogram' || type[2] === 'summary') histograms.add(type[1]);
      family(type[1]);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(sample, `an exposition line: ${line}`);
    let name = sample[1];
    const base = name.replace(/_(bucket|sum|count)$/, '');
    if (base !== name && histograms.has(base)) name = base;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) if (key !== 'le' && key !== 'quantile') labels[key] = value;
    const f = family(name);
    f.labelSets.add(Object.keys(labels).sort().join(','));
    for (const [key, value] of Object.entries(labels)) {
      if (!f.values.has(key)) f.values.set(key, new Set());
      f.values.get(key)!.add(value);
    }
    f.samples.push({ labels, value: Number(sample[3]) });
  }
  return families;
}

const ownPrefixes = { opa: ['go_'], verdict: ['verdict_', 'process_', 'nodejs_'] };
const isOwn = (side: 'opa' | 'verdict', name: string) => ownPrefixes[side].some((p) => name.startsWith(p));
const sorted = (xs: Iterable<string>) => [...xs].sort();

test('the same requests give the same status codes, metric names and label sets as OPA', async () => {
  const [opaCodes, verdictCodes] = [await exercise(opaUrl), await exercise(verdictUrl)];
  assert.deepEqual(verdictCodes, opaCodes, 'the requests are answered alike, so the histograms can be compared');

  // Both have uploaded a chunk of decision events and seen the missing bundle fail.
  const scrape = async (url: string) => parseExposition((await send(url, 'GET', '/metrics')).body.toString());
  const settled = async (url: string) => {
    const m = await scrape(url);
    return (m.get('decision_logs_chunks_uploaded_total')?.samples[0]?.value ?? 0) >= 1 && (m.get('bundle_failed_load_counter')?.samples.length ?? 0) > 0;
  };
  await Promise.all([waitUntil(opa, () => settled(opaUrl)), waitUntil(verdict, () => settled(verdictUrl))]);
  const [o, v] = [await scrape(opaUrl), await scrape(verdictUrl)];

  assert.ok([...o.keys()].some((n) => n.startsWith('go_')), 'OPA has Go runtime metrics');
  assert.ok(!v.has('go_goroutines') && v.has('process_cpu_seconds_total') && v.has('process_resident_memory_bytes'), 'Verdict has process_* instead');

  const opaNames = sorted([...o.keys()].filter((n) => !isOwn('opa', n)));
  const verdictNames = sorted([...v.keys()].filter((n) => !isOwn('verdict', n)));
  assert.deepEqual(opaNames.filter((n) => !v.has(n)), sorted(onlyOpa), 'metrics only OPA has');
  assert.deepEqual(
    verdictNames.filter((n) => !o.has(n)),
    sorted([...onlyVerdict, ...zeroCountersOpaOmits]),
    'metrics only Verdict has',
  );
  for (const name of zeroCountersOpaOmits) assert.ok(v.get(name)!.samples.every((s) => s.value === 0), `${name} is zero in Verdict too`);

  for (const name of opaNames.filter((n) => v.has(n))) {
    const [of, vf] = [o.get(name)!, v.get(name)!];
    assert.deepEqual(sorted(vf.labelSets), sorted(of.labelSets), `${name}: label names`);
    for (const [label, opaValues] of of.values) {
      const difference = differingValues[name]?.[label] ?? {};
      if (difference.wording) continue;
      const verdictValues = vf.values.get(label) ?? new Set();
      const opaOnly = sorted([...opaValues].filter((x) => !verdictValues.has(x) && !difference.opaMayHave?.includes(x)));
      assert.deepEqual(opaOnly, sorted(difference.opa ?? []), `${name}{${label}}: values only OPA has`);
      const verdictOnly = sorted([...verdictValues].filter((x) => !opaValues.has(x)));
      if (difference.verdict === 'own') assert.equal(verdictOnly.length, 1, `${name}{${label}}: Verdict's own value`);
      else assert.deepEqual(verdictOnly, sorted(difference.verdict ?? []), `${name}{${label}}: values only Verdict has`);
    }
  }

  // Two workers, one view: the gauges that say what the server is are not summed over the workers.
  assert.deepEqual(v.get('opa_info')!.samples.map((s) => s.value), [1]);
  assert.ok(v.get('plugin_status_gauge')!.samples.every((s) => s.value === 1), 'plugin_status_gauge is 1 per plugin and state');

  // status.prometheus_config: both use the configured bundle_loading_duration_ns buckets.
  const bucketBounds = async (url: string) => {
    const text = (await send(url, 'GET', '/metrics')).body.toString();
    return sorted([...new Set([...text.matchAll(/^bundle_loading_duration_ns_bucket\{[^}]*le="([^"]+)"/gm)].map((m) => m[1]))]);
  };
  const opaBounds = await bucketBounds(opaUrl);
  assert.deepEqual(opaBounds.length, bundleBuckets.length + 1, `OPA took the configured buckets: ${opaBounds}`);
  assert.deepEqual(sorted((await bucketBounds(verdictUrl)).map(Number).map(String)), sorted(opaBounds.map(Number).map(String)));

  // The request histogram: every code/handler/method series, lowercase methods, nothing for /metrics or 404s.
  const series = (f: Family) => sorted(f.samples.map((s) => `${s.labels.code} ${s.labels.handler} ${s.labels.method}`).filter((x, i, all) => all.indexOf(x) === i));
  assert.deepEqual(series(v.get('http_request_duration_seconds')!), series(o.get('http_request_duration_seconds')!));
});
