// Status and discovery against the reference OPA: one control plane per server (a bundle server on loopback
// that serves the discovery and policy bundles and takes status reports) and the very same config file, whose
// service URL comes from ${CP_URL}, given to `opa run --server` and to `verdict run`. The test compares what
// each sends (paths, methods, credentials, payload shape) and how each decides once discovery configured a
// bundle, then serves a broken discovery bundle, a discovered config that fails validation, and a new one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeBundleArchive } from '../../src/bundle/files.js';
import { TestBundleServer, type RecordedRequest } from '../bundle/bundle-server.js';
import { tempDir } from '../bundle/temp-dir.js';
import { freePort } from '../free-port.js';
import { eventually } from '../eventually.js';
import { send, startOpa } from './harness.js';

const configText = `
services:
  cp:
    url: \${CP_URL}
    credentials:
      bearer:
        token: s3cret
labels:
  app: shop
discovery:
  service: cp
  resource: /bundles/discovery
  polling: { min_delay_seconds: 1, max_delay_seconds: 1 }
`;

const policy = (users: string[]) => `package authz
default allow := false
allow if input.user in ${JSON.stringify(users)}
`;

async function policyBundle(revision: string, users: string[]): Promise<Buffer> {
  return writeBundleArchive([
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision, roots: ['authz'] })) },
    { path: 'authz/policy.rego', data: Buffer.from(policy(users)) },
  ]);
}

/** A discovery bundle whose `data` is the configuration, as OPA's default `decision` reads it. */
async function discoveryBundle(revision: string, config: unknown): Promise<Buffer> {
  return writeBundleArchive([
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision })) },
    { path: 'data.json', data: Buffer.from(JSON.stringify(config)) },
  ]);
}

const discovered = (resource: string) => ({
  bundles: { authz: { service: 'cp', resource, polling: { min_delay_seconds: 1, max_delay_seconds: 1 } } },
  status: { service: 'cp' },
  labels: { region: 'eu', app: 'ignored: the boot label wins' },
});

interface Peer {
  name: string;
  url: string;
  cp: TestBundleServer;
  stop(): Promise<void>;
}

const dir = tempDir('verdict-discovery-');
const configFile = join(dir, 'config.yaml');
writeFileSync(configFile, configText);
const peers: Peer[] = [];
after(async () => {
  for (const p of peers) {
    await p.stop();
    await p.cp.close();
  }
});

async function controlPlane(): Promise<TestBundleServer> {
  const cp = await TestBundleServer.start({ requireBearer: 's3cret' });
  cp.setBundle('authz', await policyBundle('r1', ['alice']));
  cp.setBundle('authz2', await policyBundle('r2', ['bob']));
  cp.setBundle('discovery', await discoveryBundle('d1', discovered('bundles/authz')));
  return cp;
}

async function startVerdictCli(cp: TestBundleServer): Promise<Peer> {
  const port = await freePort();
  const child = spawn(process.execPath, [resolve('dist/src/main.js'), 'run', '--addr', `127.0.0.1:${port}`, '-c', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: tempDir('verdict-discovery-run-'),
    env: { ...process.env, CP_URL: cp.url },
  });
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  // One worker per core start together: a loaded machine can take a while. A server that never gets healthy is
  // stopped, so a failure cannot hang the file.
  await eventually('verdict run listening', async () => (await send(url, 'GET', '/health').catch(() => undefined))?.status === 200, 30_000).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}: ${log}`);
  });
  return {
    name: 'verdict',
    url,
    cp,
    stop: () => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', () => done()), child.kill('SIGTERM')))),
  };
}


async function allowed(peer: Peer, user: string): Promise<unknown> {
  const res = await send(peer.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user } }), { 'content-type': 'application/json' });
  return JSON.parse(res.body.toString()).result;
}

async function status(peer: Peer): Promise<Record<string, any>> {
  return JSON.parse((await send(peer.url, 'GET', '/v1/status')).body.toString()).result;
}

const sorted = (o: object | undefined) => Object.keys(o ?? {}).sort();
const requestLines = (requests: RecordedRequest[]) => [...new Set(requests.map((r) => `${r.method} ${r.path}`))].sort();

test('opa run and verdict run: the same discovery config downloads the same bundles, sends the same status reports and decides alike', async () => {
  const [opaCp, verdictCp] = [await controlPlane(), await controlPlane()];
  const opaServer = await startOpa(configFile, [], { CP_URL: opaCp.url });
  peers.push({ name: 'opa', url: opaServer.url, cp: opaCp, stop: opaServer.stop });
  peers.push(await startVerdictCli(verdictCp));
  const [opa, verdict] = peers as [Peer, Peer];

  for (const peer of peers) {
    await eventually(`${peer.name} decides with the discovered bundle`, async () => (await allowed(peer, 'alice')) === true, 20_000);
    assert.equal(await allowed(peer, 'bob'), false, peer.name);
    // A report sent after discovery configured the bundle and it activated.
    await eventually(`${peer.name} reports the bundle`, async () => peer.cp.statusReports().some((r) => r.bundles?.authz?.active_revision === 'r1'));
  }

  // What each sent: the same requests, all with the service's credentials; status reports as JSON.
  assert.deepEqual(requestLines(verdict.cp.requests), requestLines(opa.cp.requests));
  assert.deepEqual(requestLines(opa.cp.requests), ['GET /bundles/authz', 'GET /bundles/discovery', 'POST /status']);
  for (const peer of peers) {
    for (const r of peer.cp.requests) assert.equal(r.headers.authorization, 'Bearer s3cret', `${peer.name} ${r.method} ${r.path}`);
    for (const r of peer.cp.requests.filter((q) => q.method === 'POST')) assert.match(String(r.headers['content-type']), /^application\/json/, peer.name);
    const polls = peer.cp.requests.filter((q) => q.path === '/bundles/discovery');
    assert.match(String(polls[0]!.headers.prefer), /^modes=snapshot,delta/, peer.name);
  }

  // The report's shape: same top-level keys, OPA's fields in each bundle and in discovery, same labels and
  // plugin states. Verdict's own decision log (on by default in `verdict run`) is one more plugin.
  const last = (peer: Peer) => peer.cp.statusReports().filter((r) => r.bundles?.authz?.active_revision === 'r1').at(-1)!;
  const [o, v] = [last(opa), last(verdict)];
  assert.deepEqual(sorted(v), sorted(o));
  for (const field of sorted(o.bundles.authz).filter((f) => f !== 'metrics')) assert.ok(field in v.bundles.authz, `bundle field ${field}: ${JSON.stringify(v.bundles.authz)}`);
  for (const field of sorted(o.discovery)) assert.ok(field in v.discovery, `discovery field ${field}: ${JSON.stringify(v.discovery)}`);
  assert.equal(v.discovery.active_revision, 'd1');
  // Both name the discovered key the boot configuration overrode, in the report after applying it.
  const overridden = 'Keys in the discovered configuration overridden by boot configuration: labels.app';
  for (const peer of peers) assert.ok(peer.cp.statusReports().some((r) => r.discovery?.message === overridden), peer.name);
  assert.deepEqual(sorted(v.labels), sorted(o.labels));
  assert.equal(v.labels.region, 'eu');
  assert.equal(o.labels.app, 'shop');
  assert.equal(v.labels.app, 'shop');
  const { decision_logs: _local, ...verdictPlugins } = v.plugins;
  assert.deepEqual(verdictPlugins, o.plugins);
  // A pushed report may predate the first request served; the live report comes after the decisions above.
  const [liveO, liveV] = [await status(opa), await status(verdict)];
  assert.ok(liveO.metrics.prometheus.http_request_duration_seconds && liveV.metrics.prometheus.http_request_duration_seconds);
  // GET /v1/status is the same report.
  assert.deepEqual(sorted(await status(verdict)), sorted(await status(opa)));

  // A discovery bundle that is not a bundle, then one whose configuration fails validation: each server keeps
  // its working configuration, and says why in the discovery status.
  for (const [what, bytes] of [
    ['garbage', Buffer.from('not a gzipped tarball')],
    ['a bundle naming an unknown service', await discoveryBundle('d-bad', { bundles: { authz: { service: 'nowhere', resource: 'bundles/authz2' } } })],
  ] as const) {
    for (const peer of peers) peer.cp.setBundle('discovery', bytes);
    for (const peer of peers) {
      await eventually(`${peer.name} refuses ${what}`, async () => (await status(peer)).discovery?.code !== undefined);
      assert.equal(await allowed(peer, 'alice'), true, `${peer.name} after ${what}`);
      assert.equal(await allowed(peer, 'bob'), false, `${peer.name} after ${what}`);
    }
    const [od, vd] = [(await status(opa)).discovery, (await status(verdict)).discovery];
    assert.equal(vd.active_revision, 'd1');
    assert.equal(od.active_revision, 'd1');
    assert.match(od.message, what === 'garbage' ? /gzip/ : /service name "nowhere" not found/);
    assert.match(vd.message, what === 'garbage' ? /gzip/ : /service "nowhere" is not configured/);
    // Until the control plane serves a good bundle again, which also clears the error.
    for (const peer of peers) peer.cp.setBundle('discovery', await discoveryBundle('d1', discovered('bundles/authz')));
    for (const peer of peers) await eventually(`${peer.name} recovers from ${what}`, async () => (await status(peer)).discovery?.code === undefined);
  }

  // A new discovery bundle points the bundle elsewhere: both re-apply it and decide with the new policy.
  for (const peer of peers) peer.cp.setBundle('discovery', await discoveryBundle('d2', discovered('bundles/authz2')));
  for (const peer of peers) {
    await eventually(`${peer.name} applies d2`, async () => (await allowed(peer, 'bob')) === true);
    assert.equal(await allowed(peer, 'alice'), false, peer.name);
    // OPA updates its status report just after the activation it describes.
    await eventually(`${peer.name} reports d2`, async () => (await status(peer)).discovery?.active_revision === 'd2');
    const s = await status(peer);
    assert.equal(s.discovery.active_revision, 'd2', peer.name);
    assert.equal(s.discovery.code, undefined, peer.name);
    assert.equal(s.bundles.authz.active_revision, 'r2', peer.name);
  }
});
