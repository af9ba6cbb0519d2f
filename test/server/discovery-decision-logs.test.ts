// Discovery changing `decision_logs` and `default_decision` in a running server, as OPA applies them to its
// decision-log plugin: the console turned on, then the upload moved to another partition, in one process and
// in every worker of a multi-process server; a section that cannot apply changes nothing and says why.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { parseConfig } from '../../src/config/config.js';
import { startServer } from '../../src/server/start.js';
import { TestBundleServer } from '../bundle/bundle-server.js';
import { tempDir } from '../bundle/temp-dir.js';
import { startCollector } from '../decisionlog/collector.js';
import { freePort } from '../free-port.js';
import { eventually } from '../eventually.js';
import { send } from './harness.js';
import { waitUntil, type RunningProcess } from './processes.js';
import { spawnWithThreads } from './threads.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const discoveryBundle = (config: unknown, revision: string) =>
  writeBundleArchive([
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision })) },
    { path: 'data.json', data: Buffer.from(JSON.stringify(config)) },
  ] satisfies BundleFile[]);
const policy = writeBundleArchive([
  { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: 'p1', roots: ['authz'] })) },
  { path: 'authz/policy.rego', data: Buffer.from('package authz\nallow := input.user == "ana"\n') },
]);
const bundles = { authz: { service: 'cp', resource: 'bundles/authz' } };
const reporting = { min_delay_seconds: 1, max_delay_seconds: 1 };

async function peers() {
  const cp = await TestBundleServer.start();
  cleanups.push(() => cp.close());
  cp.setBundle('authz', await policy);
  const collector = await startCollector();
  cleanups.push(() => collector.close());
  const boot = (store: string) =>
    `services:\n  cp:\n    url: ${cp.url}\n  logs:\n    url: ${collector.url}\n` +
    `discovery:\n  service: cp\n  resource: bundles/discovery\n  polling: { min_delay_seconds: 1, max_delay_seconds: 1 }\n` +
    `decision_logs:\n  store:\n    file: ${store}\n`;
  return { cp, collector, boot };
}

const decisionId = (body: Buffer) => (JSON.parse(body.toString()) as { decision_id: string }).decision_id;

test('a discovered decision_logs section turns the console on, then moves the upload; one that cannot apply changes nothing', async () => {
  const { cp, collector, boot } = await peers();
  const lines: Record<string, any>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const dir = tempDir('verdict-discovery-logs-');
  const server = await startServer({ addr: '127.0.0.1:0', config: parseConfig(boot(join(dir, 'decisions.db')), 'boot'), bundlePaths: [], decisionLogByDefault: true, logger: pino({ level: 'info' }, out) });
  cleanups.push(() => server.close());
  const decide = async (user: string) => decisionId((await send(server.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user } }))).body);
  const discovery = async () => (await server.ctx.status.report()).discovery as { active_revision?: string; code?: string; message?: string };
  const printed = (id: string) => lines.some((l) => l.msg === 'Decision Log' && l.decision_id === id);

  // The console on, and POST / answered from the discovered default decision.
  cp.setBundle('discovery', await discoveryBundle({ bundles, decision_logs: { console: true }, default_decision: '/authz/allow' }, 'd1'));
  await eventually('d1 applied', async () => (await discovery())?.active_revision === 'd1' && server.ctx.engine.bundles.length === 1);
  const first = await decide('ana');
  await eventually('the event on the console', () => printed(first));
  assert.equal((await send(server.url, 'POST', '/', JSON.stringify({ user: 'ana' }))).body.toString().trim(), 'true');

  // The console off, uploads to partition p2 of the `logs` service.
  cp.setBundle('discovery', await discoveryBundle({ bundles, decision_logs: { service: 'logs', partition_name: 'p2', reporting }, labels: { zone: 'z1' } }, 'd2'));
  await eventually('d2 applied', async () => (await discovery())?.active_revision === 'd2');
  const second = await decide('bo');
  const shipped = () => collector.chunks.flatMap((c) => c.events.map((e) => ({ path: c.path, event: e as { decision_id: string; labels: Record<string, string> } })));
  await eventually('the event uploaded to /logs/p2', () => shipped().some((s) => s.event.decision_id === second));
  assert.deepEqual([...new Set(shipped().map((s) => s.path))], ['/logs/p2']);
  assert.equal(shipped().find((s) => s.event.decision_id === second)!.event.labels.zone, 'z1');
  assert.equal(printed(second), false, 'the console is off again');
  assert.equal(server.ctx.defaultDecision, '/system/main', 'the default decision is the boot one again once discovery stops setting it');

  // A service that does not exist, and a change to the local store: refused, nothing changes (labels included).
  for (const [revision, section, reason] of [
    ['bad1', { service: 'nope', console: true }, /decision_logs.service "nope" names no service/],
    ['bad2', { service: 'logs', partition_name: 'p2', reporting, store: { durability: 'sync' } }, /decision_logs.store.durability: the local store is opened with it at start-up/],
  ] as const) {
    cp.setBundle('discovery', await discoveryBundle({ bundles, decision_logs: section, labels: { zone: 'bad' } }, revision));
    await eventually(`${revision} refused`, async () => reason.test((await discovery())?.message ?? ''));
    assert.equal((await discovery()).active_revision, 'd2');
    const id = await decide('cy');
    await eventually('the event still uploaded to /logs/p2', () => shipped().some((s) => s.event.decision_id === id));
    const event = shipped().find((s) => s.event.decision_id === id)!;
    assert.deepEqual([event.path, event.event.labels.zone, printed(id)], ['/logs/p2', 'z1', false]);
  }
  assert.equal(server.ctx.labels.zone, 'z1');
});

test('with 2 workers, a discovered decision_logs section, labels and default decision apply in every worker', { timeout: 120_000 }, async () => {
  const { cp, collector, boot } = await peers();
  const dir = tempDir('verdict-discovery-logs-workers-');
  writeFileSync(join(dir, 'config.yaml'), boot(join(dir, 'decisions.db')));
  const port = await freePort();
  const threads = spawnWithThreads(['--addr', `127.0.0.1:${port}`, '--workers', '2', '-c', join(dir, 'config.yaml')]);
  const server: RunningProcess = threads.server;
  cleanups.push(() => server.stop());
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(server, async () => (await send(url, 'GET', '/health')).status === 200);
  cp.setBundle('discovery', await discoveryBundle({ bundles, decision_logs: { service: 'logs', partition_name: 'w', reporting }, labels: { zone: 'z2' }, default_decision: '/authz/allow' }, 'd1'));
  await eventually('d1 applied', async () => (await send(url, 'GET', '/health?bundles')).status === 200, 30_000);

  // Fresh connections, so both workers answer some of them.
  const fresh = (method: string, path: string, body: string) => send(url, method, path, body, { Connection: 'close' });
  const shipped = () => new Map(collector.chunks.flatMap((c) => c.events.map((e) => [e.decision_id as string, { path: c.path, zone: (e.labels as Record<string, string>).zone }])));
  const checkEveryWorker = async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      assert.equal((await fresh('POST', '/', JSON.stringify({ user: 'ana' }))).body.toString().trim(), 'true');
      ids.push(decisionId((await fresh('POST', '/v1/data/authz/allow', JSON.stringify({ input: { user: 'ana' } }))).body));
    }
    await eventually('every event uploaded', () => ids.every((id) => shipped().has(id)), 30_000);
    for (const id of ids) assert.deepEqual(shipped().get(id), { path: '/logs/w', zone: 'z2' });
  };
  await checkEveryWorker();

  // A replica ended comes back with the discovered settings, taken from another worker's state.
  const workers = () => threads.live().map((t) => t.id);
  const victim = threads.live().find((t) => t.role === 'replica')!.id;
  threads.end([{ id: victim, how: 'terminate' }]);
  await eventually('the worker replaced', async () => !workers().includes(victim) && workers().length === 2 && (await send(url, 'GET', '/health?bundles')).status === 200, 30_000);
  await checkEveryWorker();
});
