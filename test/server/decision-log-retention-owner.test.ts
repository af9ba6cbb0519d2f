// With several workers on one decision-log database, retention runs in the owner worker only: a replica's store
// deletes nothing, the owner's deletes the old decisions of every worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { formatTimestamp, nowNs } from '../../src/decisionlog/event.js';
import { storeOptionsFor } from '../../src/server/decision-log.js';
import { sampleEvent, tempDir } from '../decisionlog/helpers.js';

test('retention runs in the owner worker alone; a replica writes to the same file and prunes nothing', async () => {
  const file = join(tempDir(), 'decisions.db');
  const options = { file, retention: { maxAgeSeconds: 3600, intervalMs: 3_600_000 } };
  const replica = new DecisionLogStore(storeOptionsFor(options, true));
  const owner = new DecisionLogStore(storeOptionsFor(options, false));
  const old = formatTimestamp(nowNs() - 2n * 3_600_000_000_000n);
  for (let i = 0; i < 20; i++) await replica.record(sampleEvent({ decision_id: `replica-old-${i}`, timestamp: old }));
  await owner.record(sampleEvent({ decision_id: 'owner-new' }));
  await Promise.all([replica.flush(), owner.flush()]);
  assert.equal(await replica.prune(), 0, 'the replica has no retention');
  assert.equal(await owner.prune(), 20, "the owner deletes the replica's old decisions too");
  const left = owner.db.prepare('SELECT decision_id FROM decisions').all() as { decision_id: string }[];
  assert.deepEqual(left.map((r) => r.decision_id), ['owner-new']);
  assert.equal(storeOptionsFor(options), options, 'a single process (no cluster) keeps its retention');
  await Promise.all([replica.close(), owner.close()]);
});
