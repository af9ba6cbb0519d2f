// Service redirects against the real OPA: a bundle server that answers 302 to storage on the same host and on
// another host, a status endpoint that answers 307 and a decision-log collector that answers 308. OPA (Go's
// http.Client) follows them all, keeps the bearer token on its own host and drops it on the other host and
// resends a POST with its body after 307 and 308; Verdict must be seen doing the same. (A 302 to an upload, which
// Go turns into a GET without the events, Verdict refuses: see test/decisionlog/upload.test.ts.)
// Then a service with `s3_signing` that redirects to another path of its own host and to a pre-signed URL on
// another host: both sign once, for the first URL (Go's client resends the first request's headers on each hop),
// and each hop must carry what OPA's carries of the signature, but for one header: OPA sends the session token of
// temporary credentials (X-Amz-Security-Token) to the other host too, Verdict keeps it with the service's host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { referenceOpa } from './reference-opa.js';
import { tempDir } from './temp-dir.js';
import { eventually } from '../eventually.js';
import { send, startOpa, startVerdict, writeTree } from '../server/harness.js';
import { startFixtureService, type FixtureService } from '../pip/fixtures/http-service.js';

/** A bundle built by OPA into `work` whose manifest claims `root`, with data {<root>: {v: 1}}. */
function bundleFile(work: string, root: string): Buffer {
  const src = writeTree({ '.manifest': JSON.stringify({ roots: [root] }), 'data.json': JSON.stringify({ [root]: { v: 1 } }) });
  execFileSync(referenceOpa(), ['build', '-b', '-o', join(work, `${root}.tar.gz`), src]);
  return readFileSync(join(work, `${root}.tar.gz`));
}

const tarball = (body: Buffer) => (_req: unknown, res: ServerResponse) => void res.writeHead(200, { 'content-type': 'application/gzip' }).end(body);

/** Waits until the server at `base` has each bundle of `roots` active. */
async function bundlesActive(base: string, roots: string[]): Promise<void> {
  await eventually(`bundles ${roots.join(', ')} active`, async () => {
    const answers = await Promise.all(roots.map(async (root) => JSON.parse((await send(base, 'GET', `/v1/data/${root}`)).body.toString()) as { result?: unknown }));
    return answers.every((a) => JSON.stringify(a.result) === '{"v":1}');
  });
}

/** What a server saw of one request, minus what differs between runs. */
function seenAs(server: string, r: FixtureService['seen'][number]): string {
  const h = r.headers;
  return `${server} ${r.method} ${r.url} auth=${h.authorization ?? '-'} cookie=${h.cookie ?? '-'} key=${h['x-key'] ?? '-'} body=${r.body.length > 0} type=${h['content-type'] ?? '-'} referer=${h.referer ?? '-'}`;
}

test('bundle, status and decision-log redirects are followed as OPA follows them, credentials only to the same host', { timeout: 120_000 }, async (t) => {
  const work = tempDir('verdict-redirects-');
  const bundles = { same: bundleFile(work, 'same'), cross: bundleFile(work, 'cross') };
  const origin = await startFixtureService();
  const storage = await startFixtureService();
  t.after(() => Promise.all([origin.close(), storage.close()]));
  // The storage host is reached by another name (localhost) for the same loopback address, so the host changes.
  const storageUrl = storage.url.replace('127.0.0.1', 'localhost');
  origin.route('GET', '/bundles/same', (_req, res) => void res.writeHead(302, { location: '/store/same.tar.gz' }).end());
  origin.route('GET', '/store/same.tar.gz', tarball(bundles.same));
  origin.route('GET', '/bundles/cross', (_req, res) => void res.writeHead(302, { location: `${storageUrl}/store/cross.tar.gz` }).end());
  storage.route('GET', '/store/cross.tar.gz', tarball(bundles.cross));
  origin.route('POST', '/status', (_req, res) => void res.writeHead(307, { location: '/status-moved' }).end());
  origin.route('POST', '/status-moved', (_req, res) => void res.writeHead(200).end());
  origin.route('POST', '/logs', (_req, res) => void res.writeHead(308, { location: '/logs-moved' }).end());
  origin.route('POST', '/logs-moved', (_req, res) => void res.writeHead(200).end());

  const config = (extra: string[]) =>
    [
      'services:',
      '  origin:',
      `    url: ${origin.url}`,
      '    headers: {x-key: plain, cookie: session=1}',
      '    credentials: {bearer: {token: s3cret}}',
      'bundles:',
      '  same: {service: origin, resource: bundles/same, polling: {min_delay_seconds: 60, max_delay_seconds: 120}}',
      '  cross: {service: origin, resource: bundles/cross, polling: {min_delay_seconds: 60, max_delay_seconds: 120}}',
      'status: {service: origin}',
      'decision_logs:',
      '  service: origin',
      '  resource: /logs',
      '  reporting: {min_delay_seconds: 1, max_delay_seconds: 1}',
      ...extra,
      '',
    ].join('\n');

  const observe = async (base: string): Promise<string[]> => {
    await bundlesActive(base, ['same', 'cross']);
    assert.equal((await send(base, 'POST', '/v1/data/same', '{"input":{}}')).status, 200);
    await eventually('a status report and a decision-log upload past their redirects', () => ['/status-moved', '/logs-moved'].every((p) => origin.seen.some((r) => r.url === p)));
    const seen = [...origin.seen.map((r) => seenAs('origin', r)), ...storage.seen.map((r) => seenAs('storage', r))];
    origin.seen.length = 0;
    storage.seen.length = 0;
    return [...new Set(seen)].sort();
  };

  const opaConfig = join(work, 'opa.yaml');
  writeFileSync(opaConfig, config([]));
  const opa = await startOpa(opaConfig, []);
  let theirs: string[];
  try {
    theirs = await observe(opa.url);
  } finally {
    await opa.stop();
  }
  // OPA's status reports may still be landing; Verdict's run starts from nothing.
  origin.seen.length = 0;
  storage.seen.length = 0;

  const verdict = await startVerdict(config([`  store: {file: ${JSON.stringify(join(work, 'decisions.db'))}}`]), []);
  let ours: string[];
  try {
    ours = await observe(verdict.url);
  } finally {
    await verdict.close();
  }

  const token = 'auth=Bearer s3cret cookie=session=1';
  assert.ok(theirs.some((l) => l.startsWith('storage GET /store/cross.tar.gz auth=- cookie=- key=plain')), `OPA drops credentials across hosts: ${theirs.join('\n')}`);
  assert.ok(theirs.some((l) => l.startsWith(`origin GET /store/same.tar.gz ${token}`)), 'OPA keeps them on its own host');
  const hopsAfterRedirect = (lines: string[]) => lines.filter((l) => /(\/store\/|-moved)/.test(l));
  assert.deepEqual(hopsAfterRedirect(ours), hopsAfterRedirect(theirs));
});

const awsEnv = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_SESSION_TOKEN: 'session-token', AWS_REGION: 'eu-west-1' };

/** What a server saw of one request: which of the signature's headers it carried, and whether its Authorization is the first hop's. */
function signatureSeenAs(server: string, r: FixtureService['seen'][number], firstAuthorization: string | undefined): string {
  const h = r.headers;
  const auth = h.authorization === undefined ? '-' : h.authorization === firstAuthorization ? 'first-hop' : 'other';
  const signed = /SignedHeaders=([^,]+)/.exec(h.authorization ?? '')?.[1] ?? '-';
  return `${server} ${r.method} ${r.url} auth=${auth} signed=${signed} date=${h['x-amz-date'] !== undefined} sha256=${h['x-amz-content-sha256'] !== undefined} token=${h['x-amz-security-token'] ?? '-'} key=${h['x-key'] ?? '-'} referer=${h.referer ?? '-'}`;
}

test('s3_signing: a redirected bundle request carries the first URL\'s signature as OPA\'s does', { timeout: 120_000 }, async (t) => {
  const work = tempDir('verdict-s3-redirects-');
  const bundles = { same: bundleFile(work, 'same'), cross: bundleFile(work, 'cross') };
  const origin = await startFixtureService();
  const storage = await startFixtureService();
  t.after(() => Promise.all([origin.close(), storage.close()]));
  // Another name (localhost) for the same loopback address: the host changes.
  const presigned = `${storage.url.replace('127.0.0.1', 'localhost')}/store/cross.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc`;
  origin.route('GET', '/bundles/same', (_req, res) => void res.writeHead(302, { location: '/store/same.tar.gz' }).end());
  origin.route('GET', '/store/same.tar.gz', tarball(bundles.same));
  origin.route('GET', '/bundles/cross', (_req, res) => void res.writeHead(307, { location: presigned }).end());
  storage.route('GET', '/store/cross.tar.gz', tarball(bundles.cross));

  const config = [
    'services:',
    '  origin:',
    `    url: ${origin.url}`,
    '    headers: {x-key: plain}',
    '    credentials: {s3_signing: {environment_credentials: {}}}',
    'bundles:',
    '  same: {service: origin, resource: bundles/same, polling: {min_delay_seconds: 60, max_delay_seconds: 120}}',
    '  cross: {service: origin, resource: bundles/cross, polling: {min_delay_seconds: 60, max_delay_seconds: 120}}',
    '',
  ].join('\n');

  const observe = async (base: string): Promise<string[]> => {
    await bundlesActive(base, ['same', 'cross']);
    const first = (path: string) => origin.seen.find((r) => r.url === path)?.headers.authorization;
    const seen = [
      ...origin.seen.map((r) => signatureSeenAs('origin', r, first(r.url.startsWith('/store/same') ? '/bundles/same' : r.url))),
      ...storage.seen.map((r) => signatureSeenAs('storage', r, first('/bundles/cross'))),
    ];
    origin.seen.length = 0;
    storage.seen.length = 0;
    return [...new Set(seen)].sort();
  };

  const opaConfig = join(work, 'opa.yaml');
  writeFileSync(opaConfig, config);
  const opa = await startOpa(opaConfig, [], awsEnv);
  let theirs: string[];
  try {
    theirs = await observe(opa.url);
  } finally {
    await opa.stop();
  }

  const saved = Object.fromEntries(Object.keys(awsEnv).map((k) => [k, process.env[k]]));
  Object.assign(process.env, awsEnv);
  let ours: string[];
  try {
    const verdict = await startVerdict(config, []);
    try {
      ours = await observe(verdict.url);
    } finally {
      await verdict.close();
    }
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const otherHost = (lines: string[]) => lines.filter((l) => l.startsWith('storage '));
  assert.equal(otherHost(theirs).length, 1, theirs.join('\n'));
  assert.match(otherHost(theirs)[0], / auth=- .* token=session-token /, 'OPA sends the session token to the other host');
  assert.deepEqual(ours, theirs.map((l) => (l.startsWith('storage ') ? l.replace(' token=session-token ', ' token=- ') : l)));
});
