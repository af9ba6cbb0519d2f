// Services of `type: oci`: bundles pulled from a real registry on loopback (crane registry serve), pushed as
// single-layer images; the layer digest as ETag; what is refused; and the reference OPA pulling the same image.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BundleDownloader, type DownloadedBundle } from '../../src/bundle/download.js';
import { ServiceClient } from '../../src/bundle/service.js';
import { parseReference } from '../../src/bundle/oci.js';
import { ConfigError } from '../../src/config/config.js';
import { referenceOpa } from '../engine/opa-fixture.js';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { startRegistry, type Registry } from './peers/crane.js';
import { tempDir } from './temp-dir.js';
import { startOpa, startVerdict } from '../server/harness.js';
import { decideOnceLoaded } from './decide.js';

const file = (path: string, body: string): BundleFile => ({ path, data: Buffer.from(body) });
const bundle = (revision: string, admins: string[], root = 'authz') =>
  writeBundleArchive([
    file('.manifest', JSON.stringify({ revision, roots: [root] })),
    file(`${root}/policy.rego`, `package ${root}\n\ndefault allow := false\n\nallow if input.user in data.${root}.admins\n`),
    file(`${root}/data.json`, JSON.stringify({ admins })),
  ]);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
let registry: Registry;
before(async () => {
  registry = await startRegistry();
});
after(() => registry?.close());

function downloader(resource: string, url = registry.url) {
  const received: DownloadedBundle[] = [];
  const client = new ServiceClient({ name: 'registry', url, type: 'oci' });
  const d = new BundleDownloader('authz', { service: 'registry', resource, trigger: 'manual' }, client, async (b) => void received.push(b));
  return { d, received };
}

/** Verdict pulling `resource` once (from the registry at `url`): the ETag (layer digest) it took, or why it failed. */
async function verdictPull(resource: string, url = registry.url): Promise<{ etag?: string; error?: string }> {
  const { d, received } = downloader(resource, url);
  const status = await d.trigger();
  return { etag: received[0]?.etag, error: status.lastError };
}

test('image references: registry host, nested repository, tag or digest; none without one', () => {
  assert.deepEqual(parseReference('ghcr.io/acme/policies/authz:1.2'), { repository: 'acme/policies/authz', reference: '1.2' });
  assert.deepEqual(parseReference('127.0.0.1:5000/authz:latest'), { repository: 'authz', reference: 'latest' });
  assert.throws(() => parseReference('127.0.0.1:5000/authz', 'bundle b'), (err: Error) => err instanceof ConfigError && err.message === 'bundle b: resource "127.0.0.1:5000/authz" names no tag or digest; OPA pulls nothing for such a reference (it asks for an empty one), so name the image in full, e.g. "127.0.0.1:5000/authz:latest"');
  assert.deepEqual(parseReference(`localhost/a/b@sha256:${'a'.repeat(64)}`), { repository: 'a/b', reference: `sha256:${'a'.repeat(64)}` });
  assert.deepEqual(parseReference(`localhost/a/b:1@sha256:${'a'.repeat(64)}`), { repository: 'a/b', reference: `sha256:${'a'.repeat(64)}` });
  assert.throws(() => parseReference('ghcr.io/Acme/x:1'), (err: Error) => err instanceof ConfigError && /"ghcr.io\/Acme\/x:1" is not an image reference: repository "Acme\/x"/.test(err.message));
  assert.throws(() => parseReference('ghcr.io/acme/x:bad tag'), /tag "bad tag" is not a tag/);
});

/**
 * What the reference OPA makes of each bundle of `config`: the first outcome it logs for it, "Bundle loaded and
 * activated successfully. Etag updated to <layer digest>." or "Bundle load failed: <why>".
 */
async function opaBundleOutcomes(config: string, names: string[]): Promise<Map<string, string>> {
  const dir = tempDir('verdict-oci-opa-');
  writeFileSync(join(dir, 'config.yaml'), config);
  const opa = spawn(referenceOpa(), ['run', '--server', '--addr', '127.0.0.1:0', '--log-level', 'info', '-c', join(dir, 'config.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const first = new Map<string, string>();
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`opa logged an outcome for ${[...first.keys()].join(', ') || 'no bundle'} of ${names.join(', ')} in 30 s`)), 30_000);
      opa.on('exit', (code) => reject(new Error(`opa exited (${code}) with ${first.size} of ${names.length} bundles logged`)));
      opa.stderr.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          const entry = JSON.parse(line) as { name?: string; msg?: string };
          if (entry.name && names.includes(entry.name) && entry.msg?.startsWith('Bundle load') && !first.has(entry.name)) first.set(entry.name, entry.msg);
        }
        if (first.size === names.length) resolve();
      });
    });
  } finally {
    clearTimeout(timer);
    opa.kill();
  }
  return first;
}

/** Which resources the reference OPA cannot parse as image references. */
async function opaRefusedReferences(resources: string[]): Promise<boolean[]> {
  // Port 9 (discard) refuses connections: a reference that parses fails on the connection instead.
  const bundles = resources.map((r, i) => `  b${i}: {service: reg, resource: ${JSON.stringify(r)}}`).join('\n');
  const outcomes = await opaBundleOutcomes(`services:\n  reg: {url: "http://127.0.0.1:9", type: oci}\nbundles:\n${bundles}\n`, resources.map((_r, i) => `b${i}`));
  return resources.map((_r, i) => outcomes.get(`b${i}`)!.includes('failed to parse reference'));
}

test('a resource that is not an image reference is refused when the configuration is read, where the reference OPA cannot parse it', async () => {
  const sha256 = `sha256:${'a'.repeat(64)}`;
  const resources = ['ghcr.io/acme/x:1', 'acme/x:1', `localhost/a/b@${sha256}`, 'ghcr.io/acme/x:v1.2-rc_3', 'ghcr.io/a__b/x:1', 'ghcr.io/a--b/x:1',
    `ghcr.io/acme/x:1@${sha256}`, `ghcr.io/acme/x@sha512:${'b'.repeat(128)}`,
    'x:1', 'x', '/acme/x:1', 'ghcr.io/Acme/x:1', 'ghcr.io/acme/x:bad tag', 'ghcr.io/acme//x', 'ghcr.io/acme/x@sha256:abc', 'ghcr.io/-x:1', 'ghcr.io/a___b/x:1',
    'ghcr.io/acme/x:.1', 'ghcr.io/acme/x:1:2', `ghcr.io/acme/x@sha256:${'A'.repeat(64)}`, 'oci://ghcr.io/acme/x:1'];
  const opaRefused = await opaRefusedReferences(resources);
  assert.ok(opaRefused.includes(true) && opaRefused.includes(false), 'the cases must split');
  const client = new ServiceClient({ name: 'registry', url: 'http://127.0.0.1:9', type: 'oci' });
  resources.forEach((resource, i) => {
    let refused: unknown;
    try {
      new BundleDownloader('authz', { service: 'registry', resource, trigger: 'manual' }, client, async () => undefined);
    } catch (err) {
      refused = err;
    }
    assert.equal(refused !== undefined, opaRefused[i], `${resource}: ${String(refused)}`);
    if (refused) assert.ok(refused instanceof ConfigError && (refused as Error).message.startsWith(`bundle authz: resource ${JSON.stringify(resource)} is not an image reference`), String(refused));
  });
  // The server does not start with one.
  const config = `services:\n  reg: {url: "http://127.0.0.1:9", type: oci}\nbundles:\n  authz: {service: reg, resource: "ghcr.io/Acme/x:1"}\n`;
  await assert.rejects(startVerdict(config, []), (err: Error) => err instanceof ConfigError && err.message.includes('"ghcr.io/Acme/x:1" is not an image reference'));
});

test('pulls the bundle layer, skips an unchanged digest, and takes a new push', async () => {
  const v1 = await bundle('v1', ['alice']);
  registry.push(v1, 'policies/authz', '1.0');
  const { d, received } = downloader(`${registry.host}/policies/authz:1.0`);
  let status = await d.trigger();
  assert.equal(status.lastError, undefined);
  assert.deepEqual(received.map((b) => b.bytes), [v1]);
  assert.equal(received[0]!.etag, createHash('sha256').update(v1).digest('hex'), 'the ETag is the layer digest');
  status = await d.trigger();
  assert.equal(status.downloads, 1, 'an unchanged digest is not downloaded again');
  const v2 = await bundle('v2', ['alice', 'bob']);
  registry.push(v2, 'policies/authz', '1.0');
  status = await d.trigger();
  assert.equal(status.downloads, 2);
  assert.deepEqual(received.at(-1)!.bytes, v2);
});

test('a missing tag, an image without an OCI bundle layer and a missing resource are errors naming the problem', async () => {
  assert.match((await downloader(`${registry.host}/policies/authz:nope`).d.trigger()).lastError!, /registry answered HTTP 404 for the manifest of .*:nope/);
  registry.push(await bundle('d', []), 'policies/docker', '1', { oci: false });
  assert.match((await downloader(`${registry.host}/policies/docker:1`).d.trigger()).lastError!, /has no layer of media type application\/vnd.oci.image.layer.v1.tar\+gzip/);
  const client = new ServiceClient({ name: 'registry', url: registry.url, type: 'oci' });
  assert.throws(() => new BundleDownloader('authz', { service: 'registry' }, client, async () => undefined), /resource \(the image reference.*\) is required with an OCI service/);
  assert.throws(() => new ServiceClient({ name: 'r', url: registry.url, type: 'oci', credentials: { azure_managed_identity: {} } }), /service r: credentials.azure_managed_identity: .*cannot be used with service type "oci"/);
  assert.throws(() => new ServiceClient({ name: 'r', url: registry.url, type: 'oci', credentials: { s3_signing: { environment_credentials: {} } } }), /ECR.*not supported/);
});

test('a registry answering 401 with a Bearer challenge: token from the realm with the service credential, then the pull', async () => {
  registry.push(await bundle('private', ['erin']), 'private/authz', '1');
  // A gatekeeper in front of the real registry, as registries with token auth behave.
  const seen: Array<{ path: string; authorization?: string }> = [];
  const gate = createServer((req, res) => {
    seen.push({ path: req.url!, authorization: req.headers.authorization });
    if (req.url!.startsWith('/token?')) {
      const ok = req.headers.authorization === `Bearer ${Buffer.from('registry-pat').toString('base64')}`;
      return void res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { token: 'pull-token' } : {}));
    }
    if (req.headers.authorization !== 'Bearer pull-token') {
      const realm = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/token`;
      return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="test-registry",scope="repository:private/authz:pull"` }).end();
    }
    const upstream = httpRequest(`${registry.url}${req.url}`, { headers: { accept: req.headers.accept ?? '*/*' } }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.end();
  });
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;
    const pull = (token: string) => {
      const client = new ServiceClient({ name: 'registry', url, type: 'oci', credentials: { bearer: { token } } });
      return new BundleDownloader('authz', { service: 'registry', resource: `${registry.host}/private/authz:1`, trigger: 'manual' }, client, async () => undefined).trigger();
    };
    assert.equal((await pull('registry-pat')).lastError, undefined);
    const token = seen.find((r) => r.path.startsWith('/token?'))!;
    assert.match(token.path, /^\/token\?service=test-registry&scope=repository%3Aprivate%2Fauthz%3Apull$/);
    assert.ok(seen.filter((r) => r.path.startsWith('/v2/')).some((r) => r.authorization === 'Bearer pull-token'));
    assert.match((await pull('wrong')).lastError!, /registry token request to .*\/token answered HTTP 401/);
  } finally {
    await new Promise((r) => gate.close(r));
  }
});

test('the reference OPA and Verdict pull the same image and answer the same decisions', async () => {
  registry.push(await bundle('shared', ['carol']), 'policies/shared', 'stable');
  const config = `services:\n  registry:\n    url: ${registry.url}\n    type: oci\nbundles:\n  authz:\n    service: registry\n    resource: ${registry.host}/policies/shared:stable\n`;
  const dir = tempDir('verdict-oci-opa-');
  writeFileSync(join(dir, 'config.yaml'), `${config}persistence_directory: ${join(dir, 'opa-store')}\n`);
  const opa = await startOpa(join(dir, 'config.yaml'), []);
  const verdict = await startVerdict(config, []);
  try {
    for (const user of ['carol', 'dave']) assert.deepEqual(await decideOnceLoaded(verdict.url, user), await decideOnceLoaded(opa.url, user), user);
    assert.deepEqual(await decideOnceLoaded(verdict.url, 'carol'), { result: true });
  } finally {
    await opa.stop();
    await verdict.close(1000);
  }
});

/** Passes a request on to the registry as it came (with its Accept header only), and its answer back. */
function forwardToRegistry(req: IncomingMessage, res: ServerResponse): void {
  httpRequest(`${registry.url}${req.url}`, { method: req.method, headers: { accept: req.headers.accept ?? '*/*' } }, (up) => {
    res.writeHead(up.statusCode!, up.headers);
    up.pipe(res);
  }).end();
}

const registryConfig = (bundles: Record<string, string>) =>
  `services:\n  reg: {url: "${registry.url}", type: oci}\nbundles:\n${Object.entries(bundles).map(([name, resource]) => `  ${name}: {service: reg, resource: "${resource}"}\n`).join('')}`;

test('a resource without a tag or digest: the reference OPA asks for an empty reference and never pulls latest; Verdict refuses it at start-up', async () => {
  registry.push(await bundle('untagged', ['alice'], 'untagged'), 'policies/untagged', 'latest');
  const resource = `${registry.host}/policies/untagged`;
  const outcomes = await opaBundleOutcomes(registryConfig({ bare: resource, latest: `${resource}:latest` }), ['bare', 'latest']);
  assert.ok(outcomes.get('bare')!.startsWith('Bundle load failed: ') && outcomes.get('bare')!.includes(`HEAD ${registry.url}/v2/policies/untagged/manifests/: 404`), outcomes.get('bare'));
  assert.match(outcomes.get('latest')!, /^Bundle loaded and activated successfully/, 'the image is there under latest');
  const refusal = (err: Error) => err instanceof ConfigError && err.message.startsWith(`bundle authz: resource ${JSON.stringify(resource)} names no tag or digest`) && err.message.includes(JSON.stringify(`${resource}:latest`));
  assert.throws(() => downloader(resource), refusal);
  await assert.rejects(startVerdict(registryConfig({ authz: resource }), []), refusal);
  // The discovery bundle comes through the same OCI downloader in OPA.
  await assert.rejects(startVerdict(`services:\n  reg: {url: "${registry.url}", type: oci}\ndiscovery: {service: reg, resource: "${resource}"}\n`, []), (err: Error) =>
    err instanceof ConfigError && err.message.startsWith(`bundle discovery: resource ${JSON.stringify(resource)} names no tag or digest`));
});

test('a digest reference pins the image whatever its tag moves to, as in the reference OPA; a manifest not matching it is refused', async () => {
  const pinned = await bundle('pinned', ['alice'], 'pinned');
  registry.push(pinned, 'policies/pinned', '1');
  const { digest } = await registry.descriptor('policies/pinned', '1');
  const moved = await bundle('moved', ['bob'], 'pinned');
  registry.push(moved, 'policies/pinned', '1');
  const resources = { digest: `${registry.host}/policies/pinned@${digest}`, tagged: `${registry.host}/policies/pinned:1@${digest}` };
  const outcomes = await opaBundleOutcomes(registryConfig({ digest: resources.digest }), ['digest']);
  assert.equal(outcomes.get('digest'), `Bundle loaded and activated successfully. Etag updated to ${sha256(pinned)}.`);
  assert.deepEqual(await verdictPull(resources.digest), { etag: sha256(pinned), error: undefined });
  assert.deepEqual(await verdictPull(resources.tagged), { etag: sha256(pinned), error: undefined }, 'the tag beside a digest is left out');
  // A registry answering a digest with another manifest (the tag's current one).
  const liar = createServer((req, res) => {
    const path = req.url!.replace(/\/manifests\/sha256:[0-9a-f]{64}$/, '/manifests/1');
    const upstream = httpRequest(`${registry.url}${path}`, { headers: { accept: req.headers.accept ?? '*/*' } }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.end();
  });
  await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
  try {
    const client = new ServiceClient({ name: 'registry', url: `http://127.0.0.1:${(liar.address() as AddressInfo).port}`, type: 'oci' });
    const received: DownloadedBundle[] = [];
    const status = await new BundleDownloader('authz', { service: 'registry', resource: resources.digest, trigger: 'manual' }, client, async (b) => void received.push(b)).trigger();
    assert.equal(status.lastError, `manifest of ${resources.digest} does not match its digest ${digest}`);
    assert.equal(received.length, 0);
  } finally {
    await new Promise((r) => liar.close(r));
  }
});

test('an image index: the first manifest with a bundle layer, passing over attestations, up to four indexes deep, as the reference OPA chooses', async () => {
  const image = async (repository: string, tag: string, bytes: Buffer, options?: { oci?: boolean }) => {
    registry.push(bytes, repository, tag, options);
    return registry.descriptor(repository, tag);
  };
  // Attestations (platform unknown/unknown) are passed over even with a bundle layer; so is an image without one.
  const chosen = await bundle('chosen', ['alice'], 'multi');
  await registry.putIndex('idx/multi', 'multi', [
    { ...(await image('idx/multi', 'attestation', await bundle('attestation', ['mallory'], 'multi'))), platform: { os: 'unknown', architecture: 'unknown' } },
    { ...(await image('idx/multi', 'docker', await bundle('docker', ['mallory'], 'multi'), { oci: false })), platform: { os: 'linux', architecture: 'amd64' } },
    { ...(await image('idx/multi', 'chosen', chosen)), platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  // Indexes of one entry each, nested 1 to 5 deep over one bundle image.
  const inner = await bundle('inner', ['alice'], 'deep');
  let level = await image('idx/deep', 'inner', inner);
  const levels: string[] = [];
  for (let i = 1; i <= 5; i++) {
    level = await registry.putIndex('idx/deep', `level${i}`, [level]);
    levels.push(level.digest);
  }
  const none = await registry.putIndex('idx/none', 'none', [await image('idx/none', 'docker', await bundle('none', [], 'none'), { oci: false })]);
  const resources = { multi: `${registry.host}/idx/multi:multi`, deep4: `${registry.host}/idx/deep:level4`, deep5: `${registry.host}/idx/deep:level5`, none: `${registry.host}/idx/none:none` };
  const opa = await opaBundleOutcomes(registryConfig(resources), Object.keys(resources));
  const loaded = (bytes: Buffer) => `Bundle loaded and activated successfully. Etag updated to ${sha256(bytes)}.`;
  assert.equal(opa.get('multi'), loaded(chosen));
  assert.equal(opa.get('deep4'), loaded(inner));
  assert.match(opa.get('deep5')!, new RegExp(`image index "${levels[0]}" is nested more than 4 levels deep`));
  assert.match(opa.get('none')!, new RegExp(`no manifest in image index "${none.digest}" contains a application/vnd.oci.image.layer.v1.tar\\+gzip layer`));

  assert.deepEqual(await verdictPull(resources.multi), { etag: sha256(chosen), error: undefined }, 'the bundle OPA chose');
  assert.deepEqual(await verdictPull(resources.deep4), { etag: sha256(inner), error: undefined });
  const deep5 = await verdictPull(resources.deep5);
  assert.equal(deep5.etag, undefined);
  assert.match(deep5.error!, new RegExp(`image index ${levels[0]} of .* is nested more than 4 levels deep`));
  const noBundle = await verdictPull(resources.none);
  assert.equal(noBundle.etag, undefined);
  assert.match(noBundle.error!, new RegExp(`no manifest in image index ${none.digest} of .* has a layer of media type application/vnd.oci.image.layer.v1.tar\\+gzip`));
});

test("a service's headers: the reference OPA leaves them out of every registry request; Verdict refuses them on an OCI service", async () => {
  const pushed = await bundle('headers', ['alice'], 'headers');
  registry.push(pushed, 'policies/headers', '1');
  const seen: Array<{ path: string; custom?: string | string[] }> = [];
  const recorder = createServer((req, res) => {
    seen.push({ path: req.url!, custom: req.headers['x-custom'] });
    forwardToRegistry(req, res);
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
    const config = `services:\n  reg: {url: "${url}", type: oci, headers: {X-Custom: "yes"}}\nbundles:\n  b: {service: reg, resource: "${registry.host}/policies/headers:1"}\n`;
    assert.equal((await opaBundleOutcomes(config, ['b'])).get('b'), `Bundle loaded and activated successfully. Etag updated to ${sha256(pushed)}.`);
    assert.ok(seen.some((r) => r.path.includes(`/blobs/sha256:${sha256(pushed)}`)), 'OPA pulled through the recorder');
    assert.deepEqual(seen.filter((r) => r.custom !== undefined), [], 'OPA sent the header to the registry');
    const refusal = (err: Error) => err instanceof ConfigError && /^service reg: headers \(X-Custom\) are not sent to an OCI registry, as OPA does not send them/.test(err.message);
    assert.throws(() => new ServiceClient({ name: 'reg', url, type: 'oci', headers: { 'X-Custom': 'yes' } }), refusal);
    await assert.rejects(startVerdict(config, []), refusal);
    // Headers stay a bundle server's setting.
    assert.doesNotThrow(() => new ServiceClient({ name: 'reg', url, headers: { 'X-Custom': 'yes' } }));
  } finally {
    await new Promise((r) => recorder.close(r));
  }
});

test('the Bearer realm: not on a loopback (or metadata) host other than the registry, and access_token before token, as the reference OPA', async () => {
  const near = await bundle('near', ['erin'], 'near');
  registry.push(near, 'gated/near', '1');
  registry.push(await bundle('far', ['erin'], 'far'), 'gated/far', '1');
  // A token gate in front of the real registry. gated/near names a realm on the registry's own host; gated/far one
  // on "localhost", another name for this loopback host, where the service's token must not be sent.
  const tokenRequests: string[] = [];
  const gate = createServer((req, res) => {
    const { port } = gate.address() as AddressInfo;
    if (req.url!.startsWith('/token?')) {
      tokenRequests.push(`${req.headers.host}${req.url}`);
      // Two tokens that differ: only access_token lets the pull through.
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'stale-token', access_token: 'pull-token' }));
    }
    if (req.headers.authorization !== 'Bearer pull-token') {
      const realm = `http://${req.url!.startsWith('/v2/gated/far/') ? 'localhost' : '127.0.0.1'}:${port}/token`;
      return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="gate"` }).end();
    }
    forwardToRegistry(req, res);
  });
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;
    const resources = { near: `${registry.host}/gated/near:1`, far: `${registry.host}/gated/far:1` };
    const config = `services:\n  gate: {url: "${url}", type: oci, credentials: {bearer: {token: "pat"}}}\nbundles:\n${Object.entries(resources).map(([n, r]) => `  ${n}: {service: gate, resource: "${r}"}\n`).join('')}`;
    const opa = await opaBundleOutcomes(config, ['near', 'far']);
    assert.equal(opa.get('near'), `Bundle loaded and activated successfully. Etag updated to ${sha256(near)}.`);
    assert.match(opa.get('far')!, /bearer realm host "localhost" resolves to (127\.0\.0\.1|::1), in blocked prefix/);
    // The challenge names no scope, and OPA asks for none.
    assert.ok(tokenRequests.length > 0 && tokenRequests.every((r) => /^127\.0\.0\.1:\d+\/token\?service=gate$/.test(r)), `OPA asked ${tokenRequests.join(', ')}`);
    tokenRequests.length = 0;

    const client = new ServiceClient({ name: 'gate', url, type: 'oci', credentials: { bearer: { token: 'pat' } } });
    const pull = async (resource: string) => {
      const received: DownloadedBundle[] = [];
      const status = await new BundleDownloader('authz', { service: 'gate', resource, trigger: 'manual' }, client, async (b) => void received.push(b)).trigger();
      return { etag: received[0]?.etag, error: status.lastError };
    };
    assert.deepEqual(await pull(resources.near), { etag: sha256(near), error: undefined });
    const far = await pull(resources.far);
    assert.equal(far.etag, undefined);
    assert.match(far.error!, /registry Bearer realm "http:\/\/localhost:\d+\/token" is on (127\.0\.0\.1|::1), a loopback, link-local or cloud metadata address/);
    assert.deepEqual(tokenRequests.map((r) => r.replace(/:\d+\//, ':port/')), ['127.0.0.1:port/token?service=gate'], 'no token request to localhost, and no scope the challenge did not name');
  } finally {
    await new Promise((r) => gate.close(r));
  }
});

test("the registry's manifest answer and the config blob: what fails in the reference OPA is refused by Verdict, naming it", async () => {
  // One image per case, each behind a proxy that spoils one thing about the real registry's answers.
  const cases = ['nodigest', 'ctype', 'noconfig', 'digestref'] as const;
  const images = new Map<string, { layer: string; manifest: string; config: string }>();
  for (const name of cases) {
    const pushed = await bundle(name, ['alice'], name);
    registry.push(pushed, `answers/${name}`, '1');
    const { digest } = await registry.descriptor(`answers/${name}`, '1');
    const manifest = (await (await fetch(`${registry.url}/v2/answers/${name}/manifests/1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { config: { digest: string } };
    images.set(name, { layer: sha256(pushed), manifest: digest, config: manifest.config.digest });
  }
  const spoiler = createServer((req, res) => {
    const name = /^\/v2\/answers\/(\w+)\//.exec(req.url!)?.[1] ?? '';
    const image = images.get(name);
    if (name === 'noconfig' && req.url!.endsWith(`/blobs/${image!.config}`)) return void res.writeHead(404).end();
    httpRequest(`${registry.url}${req.url}`, { method: req.method, headers: { accept: req.headers.accept ?? '*/*' } }, (up) => {
      const headers = { ...up.headers };
      if (req.url!.includes('/manifests/')) {
        if (name === 'nodigest' || name === 'digestref') delete headers['docker-content-digest'];
        if (name === 'ctype') headers['content-type'] = 'application/json';
      }
      res.writeHead(up.statusCode!, headers);
      up.pipe(res);
    }).end();
  });
  await new Promise<void>((r) => spoiler.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(spoiler.address() as AddressInfo).port}`;
    const resources = Object.fromEntries(cases.map((name) => [name, name === 'digestref' ? `${registry.host}/answers/${name}@${images.get(name)!.manifest}` : `${registry.host}/answers/${name}:1`]));
    const config = `services:\n  reg: {url: "${url}", type: oci}\nbundles:\n${cases.map((name) => `  ${name}: {service: reg, resource: "${resources[name]}"}\n`).join('')}`;
    const opa = await opaBundleOutcomes(config, [...cases]);
    assert.match(opa.get('nodigest')!, /^Bundle load failed: .*missing Docker-Content-Digest header/);
    assert.ok(opa.get('ctype')!.includes(`GET ${url}/v2/answers/ctype/blobs/${images.get('ctype')!.manifest}: 404`), opa.get('ctype'));
    assert.ok(opa.get('noconfig')!.includes(`GET ${url}/v2/answers/noconfig/blobs/${images.get('noconfig')!.config}: 404`), opa.get('noconfig'));
    assert.match(opa.get('digestref')!, /^Bundle load failed: .*missing Docker-Content-Digest header/, 'a digest reference too');

    const verdict = Object.fromEntries(await Promise.all(cases.map(async (name) => [name, await verdictPull(resources[name]!, url)] as const)));
    for (const name of ['nodigest', 'digestref']) assert.deepEqual(verdict[name], { etag: undefined, error: `registry answered the manifest of ${resources[name]} without a Docker-Content-Digest header` });
    assert.equal(verdict.ctype!.etag, undefined);
    assert.match(verdict.ctype!.error!, /^registry answered the manifest of .*:1 with Content-Type "application\/json", not a manifest's \(application\/vnd\.oci\.image\.manifest\.v1\+json, /);
    assert.deepEqual(verdict.noconfig, { etag: undefined, error: `registry answered HTTP 404 for the config blob ${images.get('noconfig')!.config} of ${resources.noconfig}` });
  } finally {
    await new Promise((r) => spoiler.close(r));
  }
});

test('size_limit_bytes bounds each file of the bundle, not the archive, for OCI and HTTP bundles, with the reference OPA\'s message', async () => {
  const limit = 1000;
  // "over": one file larger than the limit in a small archive; "under": every file within it in a larger archive.
  const over = (root: string) => bundle(`over-${root}`, Array.from({ length: 300 }, () => 'alice'), root);
  const under = (root: string) => writeBundleArchive([file('.manifest', JSON.stringify({ revision: 'under', roots: [root] })),
    ...Array.from({ length: 4 }, (_x, i) => file(`${root}/f${i}/data.json`, JSON.stringify({ noise: randomBytes(300).toString('base64') })))]);
  const archives = { over_oci: await over('over_oci'), under_oci: await under('under_oci'), over_http: await over('over_http'), under_http: await under('under_http') };
  assert.ok(archives.over_oci.length < limit && archives.under_oci.length > limit, 'the archives straddle the limit the other way round');
  for (const name of ['over_oci', 'under_oci'] as const) registry.push(archives[name], `limits/${name.replace('_', '-')}`, '1');
  const web = createServer((req, res) => {
    const archive = archives[req.url!.slice(1) as keyof typeof archives];
    if (!archive) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' }).end(archive);
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const dir = tempDir('verdict-oci-limits-');
  let verdict: Awaited<ReturnType<typeof startVerdict>> | undefined;
  try {
    const names = Object.keys(archives);
    const config = `services:\n  reg: {url: "${registry.url}", type: oci}\n  web: {url: "http://127.0.0.1:${(web.address() as AddressInfo).port}"}\nbundles:\n` +
      names.map((name) => name.endsWith('oci')
        ? `  ${name}: {service: reg, resource: "${registry.host}/limits/${name.replace('_', '-')}:1", size_limit_bytes: ${limit}}\n`
        : `  ${name}: {service: web, resource: "${name}", size_limit_bytes: ${limit}}\n`).join('');
    writeFileSync(join(dir, 'config.yaml'), config);
    const opa = await opaBundleOutcomes(config, names);
    const tooLarge = (root: string) => `bundle file ${root}/data.json size (${Buffer.byteLength(JSON.stringify({ admins: Array.from({ length: 300 }, () => 'alice') }))} bytes) exceeds configured size_limit_bytes (${limit} bytes)`;
    assert.equal(opa.get('over_oci'), `Bundle load failed: unexpected error bundle read failed: ${tooLarge('over_oci')}`);
    assert.equal(opa.get('over_http'), `Bundle load failed: bundle read failed: ${tooLarge('over_http')}`);
    for (const name of ['under_oci', 'under_http']) assert.match(opa.get(name)!, /^Bundle loaded and activated successfully/, name);

    verdict = await startVerdict(config, []);
    const settled = async (name: string) => {
      for (let i = 0; i < 400; i++) {
        const info = verdict!.bundles.get(name);
        if (info?.lastError || info?.activatedAt) return info;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`${name} neither loaded nor failed`);
    };
    for (const name of ['over_oci', 'over_http']) {
      const info = await settled(name);
      assert.equal(info.activatedAt, undefined, name);
      assert.ok(info.lastError!.endsWith(`: ${tooLarge(name)}`), info.lastError);
    }
    for (const name of ['under_oci', 'under_http']) assert.equal((await settled(name)).lastError, undefined, name);
  } finally {
    await verdict?.close(1000);
    await new Promise((r) => web.close(r));
  }
});
