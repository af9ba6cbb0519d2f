import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundlePersistence } from '../../src/bundle/persist.js';
import { RemoteBundleSource, type Activate } from '../../src/bundle/remote-source.js';
import { ServiceClient } from '../../src/bundle/service.js';
import { readBundleArchive, writeBundleArchive } from '../../src/bundle/files.js';
import { TestBundleServer } from './bundle-server.js';
import { tempDir } from './temp-dir.js';


async function revisionBundle(revision: string): Promise<Buffer> {
  return writeBundleArchive([{ path: '.manifest', data: Buffer.from(JSON.stringify({ revision })) }]);
}

/** An activator that reads the revision, refuses "bad" and remembers what is active, like the engine would. */
function fakeEngine() {
  const engine = { active: undefined as string | undefined, origins: [] as string[] };
  const activate: Activate = async (bundle, origin) => {
    const files = await readBundleArchive(bundle.bytes);
    if (files.some((f) => f.path === 'patch.json')) return { delta: true };
    const revision = (JSON.parse(files.find((f) => f.path === '.manifest')!.data.toString()) as { revision: string }).revision;
    if (revision === 'bad') throw new Error('bundle refused');
    engine.active = revision;
    engine.origins.push(origin);
  };
  return { engine, activate };
}

test('saves, loads and removes bundles; names never escape the persistence directory', async () => {
  const dir = tempDir('verdict-persist-');
  const store = new BundlePersistence(dir);
  assert.equal(await store.load('authz'), undefined);
  await store.save('authz', Buffer.from('one'), { etag: '"e1"', source: 'download' });
  await store.save('../../evil/x', Buffer.from('two'));
  const loaded = await store.load('authz');
  assert.equal(loaded?.bytes.toString(), 'one');
  assert.equal(loaded?.etag, '"e1"');
  assert.equal(loaded?.source, 'download');
  assert.deepEqual(readdirSync(dir), ['bundles']);
  assert.deepEqual(await store.names(), ['../../evil/x', 'authz']);
  assert.equal((await store.load('../../evil/x'))?.bytes.toString(), 'two');
  await store.save('authz', Buffer.from('three'));
  assert.equal((await store.load('authz'))?.bytes.toString(), 'three');
  assert.ok(readdirSync(join(dir, 'bundles', 'authz')).every((f) => !f.endsWith('.tmp')), 'no temporary files left');
  await store.remove('authz');
  assert.equal(await store.load('authz'), undefined);
});

test('restart with persist: the bundle server is down, the persisted bundle is activated before any download', async () => {
  const dir = tempDir('verdict-persist-');
  const srv = await TestBundleServer.start();
  srv.setBundle('authz', await revisionBundle('r1'));
  const first = fakeEngine();
  const config = { service: 'acme', persist: true, trigger: 'manual' as const };
  const source = new RemoteBundleSource('authz', config, new ServiceClient({ name: 'acme', url: srv.url }), first.activate, new BundlePersistence(dir));
  await source.start();
  await source.trigger();
  assert.equal(first.engine.active, 'r1');
  await source.stop();
  await srv.close();

  const second = fakeEngine();
  const restarted = new RemoteBundleSource('authz', config, new ServiceClient({ name: 'acme', url: srv.url }), second.activate, new BundlePersistence(dir));
  await restarted.start();
  assert.equal(second.engine.active, 'r1', 'served from disk');
  assert.deepEqual(second.engine.origins, ['persisted']);
  const status = await restarted.trigger();
  assert.match(status.lastError!, /ECONNREFUSED/);
  assert.ok(status.restoredFromDisk);
  assert.equal(second.engine.active, 'r1', 'still serving after the failed download');
  await restarted.stop();
});

test('the persisted ETag is sent first, so an unchanged bundle is not downloaded again', async () => {
  const dir = tempDir('verdict-persist-');
  const srv = await TestBundleServer.start();
  const etag = srv.setBundle('authz', await revisionBundle('r1'));
  await new BundlePersistence(dir).save('authz', await revisionBundle('r1'), { etag });
  const { engine, activate } = fakeEngine();
  const source = new RemoteBundleSource('authz', { service: 'acme', persist: true, trigger: 'manual' }, new ServiceClient({ name: 'acme', url: srv.url }), activate, new BundlePersistence(dir));
  await source.start();
  const status = await source.trigger();
  assert.equal(srv.requests[0]!.headers['if-none-match'], etag);
  assert.equal(status.downloads, 0);
  assert.deepEqual(engine.origins, ['persisted']);
  await source.stop();
  await srv.close();
});

test('a refused download is not persisted, a delta is never persisted, a broken persisted copy is reported', async () => {
  const dir = tempDir('verdict-persist-');
  const store = new BundlePersistence(dir);
  const srv = await TestBundleServer.start();
  const { engine, activate } = fakeEngine();
  const source = new RemoteBundleSource('authz', { service: 'acme', persist: true, trigger: 'manual' }, new ServiceClient({ name: 'acme', url: srv.url }), activate, store);
  await source.start();
  srv.setBundle('authz', await revisionBundle('r1'));
  await source.trigger();
  srv.setBundle('authz', await revisionBundle('bad'));
  assert.match((await source.trigger()).lastError!, /bundle refused/);
  srv.setBundle('authz', await writeBundleArchive([{ path: 'patch.json', data: Buffer.from('{"data":[{"op":"upsert","path":"/a","value":1}]}') }]));
  await source.trigger();
  const saved = await readBundleArchive((await store.load('authz'))!.bytes);
  assert.equal(saved[0]!.data.toString(), '{"revision":"r1"}');
  assert.equal(engine.active, 'r1');
  await source.stop();

  writeFileSync(join(dir, 'bundles', 'authz', 'bundle.tar.gz'), 'garbage');
  const again = new RemoteBundleSource('authz', { service: 'acme', persist: true, trigger: 'manual' }, new ServiceClient({ name: 'acme', url: srv.url }), fakeEngine().activate, store);
  await again.start();
  assert.match(again.status().persistError!, /persisted bundle authz could not be restored: bundle archive is not valid gzip/);
  assert.ok(existsSync(join(dir, 'bundles', 'authz')));
  await again.stop();
  await srv.close();
});
