// A bundle service with `s3_signing` credentials that redirects, against the real OPA: to another path of its
// own host and to a pre-signed URL on another host. The request is signed once, for the first URL (Go's
// http.Client resends the first request's headers on each hop); what each hop carries of the signature must be
// what OPA sends, but for one header: OPA sends the session token of temporary credentials
// (X-Amz-Security-Token) to the other host too, Verdict keeps it with the service's host as it keeps
// Authorization.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceOpa } from './reference-opa.js';
import { tempDir } from './temp-dir.js';
import { eventually } from '../eventually.js';
import { send, startOpa, startVerdict, writeTree } from '../server/harness.js';
import { startFixtureService, type FixtureService } from '../pip/fixtures/http-service.js';

const awsEnv = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_SESSION_TOKEN: 'session-token', AWS_REGION: 'eu-west-1' };

/** What a server saw of one request: which of the signature's headers it carried, and whether its Authorization is the first hop's. */
function seenAs(server: string, r: FixtureService['seen'][number], firstAuthorization: string | undefined): string {
  const h = r.headers;
  const auth = h.authorization === undefined ? '-' : h.authorization === firstAuthorization ? 'first-hop' : 'other';
  const signed = /SignedHeaders=([^,]+)/.exec(h.authorization ?? '')?.[1] ?? '-';
  return `${server} ${r.method} ${r.url} auth=${auth} signed=${signed} date=${h['x-amz-date'] !== undefined} sha256=${h['x-amz-content-sha256'] !== undefined} token=${h['x-amz-security-token'] ?? '-'} key=${h['x-key'] ?? '-'} referer=${h.referer ?? '-'}`;
}

test('s3_signing: a redirected bundle request carries the first URL\'s signature as OPA\'s does', { timeout: 120_000 }, async (t) => {
  const work = tempDir('verdict-s3-redirects-');
  const bundleFile = (root: string) => {
    const src = writeTree({ '.manifest': JSON.stringify({ roots: [root] }), 'data.json': JSON.stringify({ [root]: { v: 1 } }) });
    execFileSync(referenceOpa(), ['build', '-b', '-o', join(work, `${root}.tar.gz`), src]);
    return readFileSync(join(work, `${root}.tar.gz`));
  };
  const bundles = { same: bundleFile('same'), cross: bundleFile('cross') };
  const origin = await startFixtureService();
  const storage = await startFixtureService();
  t.after(() => Promise.all([origin.close(), storage.close()]));
  // Another name (localhost) for the same loopback address: the host changes.
  const presigned = `${storage.url.replace('127.0.0.1', 'localhost')}/store/cross.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc`;
  const tarball = (body: Buffer) => (_req: unknown, res: import('node:http').ServerResponse) => void res.writeHead(200, { 'content-type': 'application/gzip' }).end(body);
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
    await eventually('both bundles active', async () => {
      const answers = await Promise.all(['same', 'cross'].map(async (root) => JSON.parse((await send(base, 'GET', `/v1/data/${root}`)).body.toString()) as { result?: unknown }));
      return answers.every((a) => JSON.stringify(a.result) === '{"v":1}');
    });
    const first = (path: string) => origin.seen.find((r) => r.url === path)?.headers.authorization;
    const seen = [
      ...origin.seen.map((r) => seenAs('origin', r, first(r.url.startsWith('/store/same') ? '/bundles/same' : r.url))),
      ...storage.seen.map((r) => seenAs('storage', r, first('/bundles/cross'))),
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
