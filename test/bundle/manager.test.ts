import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BundleManager, BundleRequestError, type ManagedBundle } from '../../src/bundle/manager.js';
import { BundleError, writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { TestBundleServer } from './bundle-server.js';
import { maliciousBundles } from './malicious/catalogue.js';
import { tempDir } from './temp-dir.js';
import { eventually } from '../eventually.js';

// A stand-in for bundle.ts's parseBundle (owned by the server branch): manifest and data.json files by directory.
function parse(name: string, files: BundleFile[]): ManagedBundle {
  const manifestFile = files.find((f) => f.path === '.manifest');
  const manifest = manifestFile ? JSON.parse(manifestFile.data.toString()) : { revision: '', roots: [''] };
  const data: Record<string, unknown> = {};
  for (const f of files.filter((f) => f.path.endsWith('data.json'))) {
    let node = data;
    for (const key of f.path.split('/').slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    try {
      Object.assign(node, JSON.parse(f.data.toString()));
    } catch {
      throw new BundleError(`${f.path}: invalid JSON`);
    }
  }
  return { name, manifest: { roots: [''], ...manifest }, data };
}

/** A stand-in engine: keeps the last activated set, refuses sets whose roots overlap (as OPA does). */
function fakeEngine() {
  const engine = { active: [] as ManagedBundle[], activations: 0 };
  const activate = async (bundles: ManagedBundle[]) => {
    const roots = bundles.flatMap((b) => b.manifest.roots.map((r) => ({ r, b: b.name })));
    for (const x of roots) for (const y of roots) {
      if (x.b !== y.b && (x.r === '' || y.r === '' || x.r === y.r || x.r.startsWith(y.r + '/'))) throw new BundleError(`detected overlapping roots in manifests for these bundles: [${[x.b, y.b].sort().join(', ')}]`);
    }
    engine.active = bundles;
    engine.activations++;
  };
  return { engine, activate };
}

const manifest = (revision: string, roots: string[]) => ({ path: '.manifest', data: Buffer.from(JSON.stringify({ revision, roots })) });
const dataFile = (path: string, value: unknown) => ({ path, data: Buffer.from(JSON.stringify(value)) });
const snapshot = (revision: string, root: string, value: unknown) => writeBundleArchive([manifest(revision, [root]), dataFile(`${root}/data.json`, value)]);

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function bundleServer() {
  const srv = await TestBundleServer.start();
  cleanups.push(() => srv.close());
  return srv;
}

test('downloaded, local and uploaded bundles live side by side; ready once every configured one is active', async () => {
  const srv = await bundleServer();
  srv.setBundle('authz', await snapshot('d1', 'authz', { allow: ['ana'] }));
  const dir = tempDir('verdict-manager-local-');
  mkdirSync(join(dir, 'local'));
  writeFileSync(join(dir, '.manifest'), JSON.stringify({ revision: 'l1', roots: ['local'] }));
  writeFileSync(join(dir, 'local', 'data.json'), '{"x":1}');
  const { engine, activate } = fakeEngine();
  const manager = new BundleManager({
    parse, activate,
    services: { acme: { url: srv.url } },
    bundles: { authz: { service: 'acme', trigger: 'manual' } },
    localPaths: { local: dir },
  });
  await manager.start();
  assert.equal(manager.ready(), false, 'authz not downloaded yet');
  await manager.trigger('authz');
  assert.equal(manager.ready(), true);
  await manager.upload('extra', await snapshot('u1', 'extra', { y: 2 }));
  assert.deepEqual(manager.list().map((b) => [b.name, b.source, b.revision]), [['authz', 'download', 'd1'], ['extra', 'upload', 'u1'], ['local', 'file', 'l1']]);
  assert.deepEqual(engine.active.map((b) => b.name).sort(), ['authz', 'extra', 'local']);
  assert.equal(manager.get('authz')!.location, `${srv.url}/bundles/authz`);
  assert.ok(manager.get('authz')!.download?.lastSuccessfulDownload);
  await manager.stop();
});

test('uploads: persisted across restarts, refused when they clash, removable; configured bundles are not', async () => {
  const persist = tempDir('verdict-manager-persist-');
  const srv = await bundleServer();
  srv.setBundle('authz', await snapshot('d1', 'authz', {}));
  const options = { parse, services: { acme: { url: srv.url } }, bundles: { authz: { service: 'acme', trigger: 'manual' as const } }, persistenceDirectory: persist };
  const first = fakeEngine();
  const manager = new BundleManager({ ...options, activate: first.activate });
  await manager.start();
  await manager.upload('team', await snapshot('t1', 'team', { a: 1 }));
  await assert.rejects(manager.upload('authz', await snapshot('x', 'other', {})), (err: unknown) => err instanceof BundleRequestError && err.status === 409);
  await assert.rejects(manager.upload('a/b', await snapshot('x', 'other', {})), (err: unknown) => err instanceof BundleRequestError && err.status === 400);
  await assert.rejects(manager.upload('clash', await snapshot('c', 'team', {})), /overlapping roots in manifests for these bundles: \[clash, team\]/);
  assert.equal(manager.get('clash'), undefined, 'a refused first upload leaves no record');
  await assert.rejects(manager.remove('authz'), (err: unknown) => err instanceof BundleRequestError && err.status === 409);
  await assert.rejects(manager.remove('nope'), (err: unknown) => err instanceof BundleRequestError && err.status === 404);
  await assert.rejects(manager.trigger('team'), (err: unknown) => err instanceof BundleRequestError && err.status === 409);
  await manager.stop();

  const second = fakeEngine();
  const restarted = new BundleManager({ ...options, activate: second.activate });
  await restarted.start();
  assert.deepEqual(second.engine.active.map((b) => [b.name, b.manifest.revision]), [['team', 't1']]);
  await restarted.remove('team');
  assert.deepEqual(second.engine.active, []);
  assert.equal(existsSync(join(persist, 'bundles', 'team')), false);
  await restarted.stop();
});

test('a delta bundle patches the active snapshot; a failing delta changes nothing and is recorded', async () => {
  const srv = await bundleServer();
  srv.setBundle('authz', await snapshot('s1', 'authz', { users: ['ana'], max: 1 }));
  const { engine, activate } = fakeEngine();
  const manager = new BundleManager({ parse, activate, services: { acme: { url: srv.url } }, bundles: { authz: { service: 'acme', trigger: 'manual' } } });
  await manager.start();
  await manager.trigger('authz');
  srv.setBundle('authz', await writeBundleArchive([manifest('s2', ['authz']), dataFile('patch.json', { data: [{ op: 'upsert', path: '/authz/users/-', value: 'bo' }, { op: 'replace', path: '/authz/max', value: 5 }] })]));
  await manager.trigger('authz');
  assert.deepEqual(engine.active[0]!.data, { authz: { users: ['ana', 'bo'], max: 5 } });
  assert.equal(manager.get('authz')!.revision, 's2');
  srv.setBundle('authz', await writeBundleArchive([dataFile('patch.json', { data: [{ op: 'remove', path: '/authz/missing' }] })]));
  const info = await manager.trigger('authz');
  assert.match(info.lastError!, /operation 0 \(remove \/authz\/missing\): document missing/);
  assert.deepEqual(engine.active[0]!.data, { authz: { users: ['ana', 'bo'], max: 5 } });
  assert.equal(info.failures, 1);
  await manager.stop();
});

test('every hostile bundle of the catalogue is refused by upload and by download alike, and decisions are unchanged', async () => {
  const srv = await bundleServer();
  const { engine, activate } = fakeEngine();
  const cases = maliciousBundles.filter((b) => b.stage === 'archive' || b.stage === 'signature');
  const bundles = Object.fromEntries(cases.map((b, i) => [`dl${i}`, { service: 'acme', trigger: 'manual' as const }]));
  const manager = new BundleManager({ parse, activate, services: { acme: { url: srv.url } }, bundles });
  await manager.start();
  await manager.upload('good', await snapshot('g1', 'good', { ok: true }));
  const before = engine.active;
  for (const [i, bundle] of cases.entries()) {
    const { bytes, options } = await bundle.build();
    // Each case's limits and signing config differ; a manager per case applies them to uploads.
    const uploader = new BundleManager({ parse, activate, limits: options.limits, keys: options.signing?.keys, uploadSigning: options.signing && { keyid: options.signing.keyId, scope: options.signing.scope } });
    await assert.rejects(uploader.upload(`up${i}`, bytes), bundle.expect, `upload: ${bundle.name}`);
    if (options.limits || options.signing) continue; // the download config below has neither
    srv.setBundle(`dl${i}`, bytes);
    const info = await manager.trigger(`dl${i}`);
    assert.match(info.lastError!, bundle.expect, `download: ${bundle.name}`);
  }
  assert.equal(engine.active, before, 'the active set was never replaced');
  await manager.stop();
});

test('reconfigure (discovery): an unchanged download keeps running, a removed one leaves the active set, a new one starts, a bad config changes nothing', async () => {
  const srv = await bundleServer();
  srv.setBundle('a', await snapshot('a1', 'a', { x: 1 }));
  srv.setBundle('b', await snapshot('b1', 'b', { y: 2 }));
  const { engine, activate } = fakeEngine();
  const polling = { min_delay_seconds: 60, max_delay_seconds: 60 };
  const services = { cp: { url: srv.url } };
  const manager = new BundleManager({ parse, activate, services, bundles: { a: { service: 'cp', polling } } });
  cleanups.push(() => manager.stop());
  await manager.start();
  await eventually('1 bundle(s) active', () => engine.active.length === 1);
  const requestsForA = () => srv.bundleRequests().filter((r) => r.path === '/bundles/a').length;

  await manager.reconfigure({ services, bundles: { a: { service: 'cp', polling }, b: { service: 'cp', polling } } });
  await eventually('2 bundle(s) active', () => engine.active.length === 2);
  assert.equal(requestsForA(), 1, 'a was not downloaded again');

  await assert.rejects(manager.reconfigure({ services, bundles: { c: { service: 'nowhere' } } }), /service "nowhere" is not configured/);
  assert.deepEqual(manager.list().map((b) => b.name), ['a', 'b']);
  assert.deepEqual(engine.active.map((b) => b.name).sort(), ['a', 'b']);

  await manager.reconfigure({ services, bundles: { b: { service: 'cp', polling } } });
  assert.deepEqual(engine.active.map((b) => b.name), ['b']);
  assert.deepEqual(manager.list().map((b) => b.name), ['b']);
});
