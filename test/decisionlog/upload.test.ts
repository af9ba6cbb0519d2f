import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { DecisionLogUploader } from '../../src/decisionlog/upload.js';
import { formatTimestamp, nowNs } from '../../src/decisionlog/event.js';
import { eventually } from '../eventually.js';
import { sampleEvent, tempDir } from './helpers.js';
import { collectorService, decodeUpload, startCollector } from './collector.js';
import { startOpa } from './opa.js';

const schema = JSON.parse(readFileSync(new URL('../../../schemas/decision-event.schema.json', import.meta.url), 'utf8'));

function noisyEvent(i: number) {
  return sampleEvent({ decision_id: `up-${i}`, input: { subject: { id: 'alice' }, noise: randomBytes(300).toString('hex') } });
}

test('a collector outage loses nothing: chunks are resent until a 2xx, each within the size limit, none twice', { timeout: 30_000 }, async (t) => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  const uploader = new DecisionLogUploader(store, {
    service: collectorService(collector.url),
    uploadSizeLimitBytes: 4096,
    minDelaySeconds: 0.02,
    maxDelaySeconds: 0.05,
    retryDelayMs: { initial: 10, max: 40 },
  });
  collector.down = true;
  for (let i = 0; i < 150; i++) await store.record(noisyEvent(i));
  uploader.start();
  await eventually('four refused uploads', () => collector.refused >= 4);
  assert.equal(collector.chunks.length, 0);
  assert.equal(uploader.shippedSeq(), 0);
  assert.equal(uploader.status().state, 'ERROR');
  assert.equal(uploader.status().last_error?.http_code, 500);

  collector.down = false;
  const received = () => collector.chunks.flatMap((c) => c.events.map((e) => e.decision_id as string));
  await eventually('150 events received', () => received().length >= 150);

  // A second outage with new decisions arriving during it.
  collector.down = true;
  const refusedBefore = collector.refused;
  for (let i = 150; i < 200; i++) await store.record(noisyEvent(i));
  await eventually('more refused uploads', () => collector.refused > refusedBefore + 2);
  collector.down = false;
  await eventually('200 events received', () => received().length >= 200);
  await uploader.stop();

  assert.deepEqual(received(), Array.from({ length: 200 }, (_, i) => `up-${i}`));
  assert.ok(collector.chunks.length > 10, `split into ${collector.chunks.length} chunks`);
  for (const chunk of collector.chunks) {
    assert.ok(chunk.compressedBytes <= 4096, `chunk of ${chunk.compressedBytes} B`);
    assert.equal(chunk.path, '/logs');
    assert.equal(chunk.contentEncoding, 'gzip');
    assert.equal(chunk.contentType, 'application/json');
  }
  const status = uploader.status();
  assert.equal(status.events_shipped, 200);
  assert.ok(status.failed_attempts >= 6);
  assert.equal(status.shipped_seq, (store.db.prepare('SELECT max(seq) AS m FROM decisions').get() as { m: number }).m);
  await store.close();
});

test('a collector that answers 302 to an upload is not counted as having received it: nothing ships until it takes the POST', { timeout: 30_000 }, async (t) => {
  // Go's client would follow the 302 as a GET without the events and count a 2xx there as delivered.
  let moved = true;
  let followedAsGet = 0;
  const received: string[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      if (req.method === 'GET') {
        followedAsGet++;
        res.writeHead(200).end();
      } else if (moved) res.writeHead(302, { location: '/moved' }).end();
      else {
        received.push(...decodeUpload(Buffer.concat(parts)).map((e) => e.decision_id as string));
        res.writeHead(200).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  const uploader = new DecisionLogUploader(store, {
    service: collectorService(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    minDelaySeconds: 0.02,
    maxDelaySeconds: 0.05,
    retryDelayMs: { initial: 10, max: 40 },
  });
  for (let i = 0; i < 5; i++) await store.record(noisyEvent(i));
  uploader.start();
  await eventually('a refused redirect', () => uploader.status().last_error);
  assert.equal(uploader.shippedSeq(), 0);
  assert.equal(uploader.status().last_error?.http_code, 302);
  assert.match(uploader.status().last_error?.message ?? '', /answered 302 with Location http:\/\/127\.0\.0\.1:\d+\/moved: an upload is not sent on as a GET without its body/);
  assert.equal(followedAsGet, 0);
  moved = false;
  await eventually('5 events received', () => received.length >= 5);
  await uploader.stop();
  assert.deepEqual(received, Array.from({ length: 5 }, (_, i) => `up-${i}`));
  await store.close();
});

test('a new uploader (a restart) resumes from the watermark in the database', async (t) => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const file = join(tempDir(), 'd.db');
  let store = new DecisionLogStore({ file, durability: 'sync' });
  for (let i = 0; i < 5; i++) await store.record(noisyEvent(i));
  assert.equal(await new DecisionLogUploader(store, { service: collectorService(collector.url), resource: '/v1/ingest' }).uploadPending(), 5);
  await store.close();
  store = new DecisionLogStore({ file, durability: 'sync' });
  for (let i = 5; i < 8; i++) await store.record(noisyEvent(i));
  assert.equal(await new DecisionLogUploader(store, { service: collectorService(collector.url + '/'), resource: 'v1/ingest' }).uploadPending(), 3);
  assert.deepEqual(collector.chunks.map((c) => [c.path, c.events.length]), [['/v1/ingest', 5], ['/v1/ingest', 3]]);
  await store.close();
});

test('an event too big for one chunk loses nd_builtin_cache first, and is skipped (not deleted) if still too big', async (t) => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  await store.record(sampleEvent({ decision_id: 'big-cache', nd_builtin_cache: { 'http.send': randomBytes(2000).toString('hex') } }));
  await store.record(sampleEvent({ decision_id: 'big-input', input: { blob: randomBytes(2000).toString('hex') } }));
  await store.record(sampleEvent({ decision_id: 'small' }));
  const uploader = new DecisionLogUploader(store, { service: collectorService(collector.url), uploadSizeLimitBytes: 1024 });
  assert.equal(await uploader.uploadPending(), 2);
  const events = collector.chunks.flatMap((c) => c.events);
  assert.deepEqual(events.map((e) => e.decision_id), ['big-cache', 'small']);
  assert.equal(events[0].nd_builtin_cache, undefined);
  assert.equal(uploader.status().oversized_skipped, 1);
  assert.equal(uploader.status().nd_builtin_cache_dropped, 1);
  assert.equal((store.db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n, 3);
  await store.close();
});

test('with keepUnshipped, age retention spares decisions the collector has not acknowledged', async (t) => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync', retention: { maxAgeSeconds: 60, keepUnshipped: true, intervalMs: 3_600_000 } });
  const old = formatTimestamp(nowNs() - 3_600_000_000_000n);
  for (let i = 0; i < 4; i++) await store.record(sampleEvent({ timestamp: old }));
  assert.equal(await store.prune(), 0);
  await new DecisionLogUploader(store, { service: collectorService(collector.url) }).uploadPending();
  assert.equal(await store.prune(), 4);
  await store.close();
});

test('bad collector settings are refused', () => {
  assert.throws(() => collectorService('not a url'), /is not http\(s\)/);
  assert.throws(() => collectorService('ftp://x'), /is not http\(s\)/);
});

test('the same collector reads the reference OPA\'s uploads and ours, both valid against the event schema', { timeout: 60_000 }, async (t) => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const dir = tempDir();
  mkdirSync(join(dir, 'policy'));
  writeFileSync(join(dir, 'policy', 'p.rego'), 'package test\n\nallow if input.user == "alice"\n');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    labels: { app: 'verdict-test' },
    services: { collector: { url: collector.url } },
    decision_logs: { service: 'collector', reporting: { min_delay_seconds: 1, max_delay_seconds: 1 } },
  }));
  const opa = await startOpa(['--config-file', join(dir, 'config.json'), join(dir, 'policy')]);
  const response = await fetch(`${opa.url}/v1/data/test/allow`, { method: 'POST', body: JSON.stringify({ input: { user: 'alice' } }) });
  const { decision_id: opaId } = (await response.json()) as { decision_id: string };
  const fromOpa = await eventually("OPA's upload", () => collector.chunks.flatMap((c) => c.events).find((e) => e.decision_id === opaId));

  const store = new DecisionLogStore({ file: join(dir, 'd.db'), durability: 'sync' });
  await store.record(sampleEvent({ decision_id: 'ours', path: 'test/allow', input: { user: 'alice' }, result: true }));
  await new DecisionLogUploader(store, { service: collectorService(collector.url) }).uploadPending();
  const ours = collector.chunks.flatMap((c) => c.events).find((e) => e.decision_id === 'ours')!;

  const ajv = new Ajv();
  assert.ok(ajv.validate(schema, fromOpa), `OPA's event: ${JSON.stringify(ajv.errors)}`);
  assert.ok(ajv.validate(schema, ours), `our event: ${JSON.stringify(ajv.errors)}`);
  assert.equal(fromOpa.path, ours.path);
  assert.deepEqual(fromOpa.input, ours.input);
  assert.deepEqual(fromOpa.result, ours.result);
  assert.deepEqual(Object.keys(fromOpa.labels as object).sort(), ['app', 'id', 'version']);
  await store.close();
  const exited = new Promise((resolve) => opa.process.once('exit', resolve));
  opa.process.kill('SIGKILL');
  await exited;
});

test('buffer limits skip the oldest unshipped events (kept in the store); trigger immediate ships without waiting for the schedule', { timeout: 20_000 }, async (t) => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  for (let i = 0; i < 10; i++) await store.record(noisyEvent(i));
  const byCount = new DecisionLogUploader(store, { service: collectorService(collector.url), bufferSizeLimitEvents: 4 });
  assert.equal(await byCount.uploadPending(), 4);
  assert.equal(byCount.status().buffer_skipped, 6);
  assert.deepEqual(collector.chunks.flatMap((c) => c.events.map((e) => e.decision_id)), ['up-6', 'up-7', 'up-8', 'up-9']);
  assert.equal((store.db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n, 10, 'skipped events stay in the store');

  for (let i = 10; i < 20; i++) await store.record(noisyEvent(i));
  const oneEvent = JSON.stringify(noisyEvent(0)).length;
  const byBytes = new DecisionLogUploader(store, { service: collectorService(collector.url), bufferSizeLimitBytes: oneEvent * 2 + 10 });
  assert.equal(await byBytes.uploadPending(), 2);
  assert.deepEqual(collector.chunks.flatMap((c) => c.events.map((e) => e.decision_id)).slice(-2), ['up-18', 'up-19']);

  const immediate = new DecisionLogUploader(store, { service: collectorService(collector.url), minDelaySeconds: 3600, maxDelaySeconds: 3600, immediate: true });
  immediate.start();
  t.after(() => immediate.stop());
  // The first round ships up-20; the watermark reaches it only as that round ends (see lastSeqOf), so up-21 is
  // committed while no round runs and only the trigger can send it before the hour-long schedule.
  await store.record(noisyEvent(20));
  await eventually('the first round to end', () => immediate.shippedSeq() === lastSeqOf(store));
  await store.record(noisyEvent(21));
  await eventually('up-21 shipped', () => collector.chunks.some((c) => c.events.some((e) => e.decision_id === 'up-21')), 3_000);
  await immediate.stop();
  await store.close();
});

/**
 * The newest seq in the store. An uploader's watermark reaches it only at the end of a round: the read that
 * follows the watermark's write finds nothing and the round ends in the same turn of the event loop, so a test
 * that sees it from a timer knows no round is running.
 */
function lastSeqOf(store: DecisionLogStore): number {
  return (store.db.prepare('SELECT max(seq) AS seq FROM decisions').get() as { seq: number }).seq;
}

test('trigger immediate: a decision committed while an upload waits for its answer goes out in that round, one committed between rounds starts one; each once', { timeout: 20_000 }, async (t) => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  // The schedule alone would wait an hour: what arrives within seconds was sent because of a commit.
  const uploader = new DecisionLogUploader(store, { service: collectorService(collector.url), minDelaySeconds: 3600, maxDelaySeconds: 3600, immediate: true });
  t.after(() => uploader.stop());
  const received = () => collector.chunks.flatMap((c) => c.events.map((e) => e.decision_id as string));
  let answer!: () => void;
  collector.hold = new Promise((resolve) => (answer = resolve));
  await store.record(noisyEvent(0));
  uploader.start();
  await eventually('the first upload', () => received().includes('up-0'));
  // Committed, and its commit announced, while the round that sent up-0 waits for the collector's answer.
  await store.record(noisyEvent(1));
  collector.hold = undefined;
  answer();
  await eventually('up-1 sent without waiting for the schedule', () => received().includes('up-1'), 3_000);
  await eventually('the round to end', () => uploader.shippedSeq() === lastSeqOf(store));

  await store.record(noisyEvent(2));
  await eventually('up-2 sent without waiting for the schedule', () => received().includes('up-2'), 3_000);
  await eventually('the round to end', () => uploader.shippedSeq() === lastSeqOf(store));
  await uploader.stop();
  assert.deepEqual(received(), ['up-0', 'up-1', 'up-2']);
  await store.close();
});

test('pending() tallies the events waiting for upload and their bytes, and drops them as they ship or are skipped', async (t) => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  const uploader = new DecisionLogUploader(store, { service: collectorService(collector.url), bufferSizeLimitEvents: 3 });
  const bytesOf = (from: number) => (store.db.prepare('SELECT sum(length(CAST(event AS BLOB))) AS b FROM decisions WHERE seq > ?').get(from) as { b: number }).b;
  assert.deepEqual(uploader.pending(), { events: 0, bytes: 0 });
  for (let i = 0; i < 5; i++) await store.record(noisyEvent(i));
  assert.deepEqual(uploader.pending(), { events: 5, bytes: bytesOf(0) });
  for (let i = 5; i < 7; i++) await store.record(noisyEvent(i));
  assert.deepEqual(uploader.pending(), { events: 7, bytes: bytesOf(0) }, 'only the new rows are read, added to the tally');
  // Four skipped over the buffer limit, three shipped.
  assert.equal(await uploader.uploadPending(), 3);
  assert.deepEqual(uploader.pending(), { events: 0, bytes: 0 });
  await store.record(noisyEvent(7));
  assert.deepEqual(uploader.pending(), { events: 1, bytes: bytesOf(uploader.shippedSeq()) });
  await store.close();
});
