import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { DecisionLogger } from '../../src/decisionlog/logger.js';
import { DecisionLogUploader } from '../../src/decisionlog/upload.js';
import { DecisionLogPlugin } from '../../src/decisionlog/plugin.js';
import { eventually } from '../eventually.js';
import { sampleEvent, tempDir } from './helpers.js';
import { collectorService, startCollector } from './collector.js';

test('the plugin logs through onDecision, reports ERROR/WARN, and on stop ships and writes everything', async (t) => {
  const collector = await startCollector();
  t.after(() => collector.close());
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), retryDelayMs: { initial: 10, max: 20 } });
  const uploader = new DecisionLogUploader(store, { service: collectorService(collector.url), minDelaySeconds: 3600, retryDelayMs: { initial: 10, max: 20 } });
  const plugin = new DecisionLogPlugin(store, new DecisionLogger(store), uploader);
  collector.down = true;
  assert.equal(await plugin.onDecision(sampleEvent({ decision_id: 'p-1' })), 'queued');
  await store.flush();
  await plugin.start();
  await eventually('state WARN', () => plugin.status().state === 'WARN');
  assert.equal(plugin.status().upload?.last_error?.http_code, 500);

  await store.writerPragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
  await plugin.onDecision(sampleEvent({ decision_id: 'p-2', input: { blob: 'z'.repeat(100_000) } }));
  await eventually('state ERROR', () => plugin.status().state === 'ERROR');
  assert.equal(plugin.status().store.last_error?.sqlite_code, 'SQLITE_FULL');
  await store.writerPragma('max_page_count = 1000000');

  collector.down = false;
  await plugin.stop();
  assert.equal(plugin.status().state, 'NOT_READY');
  assert.deepEqual(collector.chunks.flatMap((c) => c.events.map((e) => e.decision_id)), ['p-1', 'p-2']);
});

test('onDecision never rejects: refused events are counted with the reason', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  const logger = new DecisionLogger(store);
  const plugin = new DecisionLogPlugin(store, logger);
  assert.equal(await plugin.onDecision(sampleEvent({ timestamp: 'soon' })), 'refused');
  await plugin.stop();
  assert.equal(await plugin.onDecision(sampleEvent()), 'refused');
  assert.equal(logger.status().refused, 2);
  assert.match(logger.status().last_refusal ?? '', /decision log is closed/);
});
