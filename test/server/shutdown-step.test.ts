// Shutdown steps (src/server/shutdown-step.ts): each bounded in time, and one that runs out of time or fails is
// logged with what it was still waiting for, instead of holding up the exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { boundedStep } from '../../src/server/shutdown-step.js';

function capturedLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  let text = '';
  const logger = pino({ level: 'info' }, { write: (chunk: string) => void (text += chunk) });
  return { logger, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('a step that finishes in time is done, and logs nothing', async () => {
  const { logger, lines } = capturedLogger();
  assert.equal(await boundedStep(logger, 'closing the decision log', 1000, Promise.resolve(), () => 'unused'), 'done');
  assert.deepEqual(lines(), []);
});

test('a step still unfinished when its time is up is logged with what it waits for, read at that moment', async () => {
  const { logger, lines } = capturedLogger();
  const threads = [{ thread: 2, role: 'owner', ready: true }];
  const never = new Promise(() => {});
  const started = Date.now();
  const outcome = boundedStep(logger, 'worker threads shutting down', 100, never, () => threads);
  threads.push({ thread: 3, role: 'replica', ready: false });
  assert.equal(await outcome, 'timed out');
  assert.ok(Date.now() - started >= 95, 'waited its time');
  const [line] = lines();
  assert.equal(line!.level, 50, 'at error level');
  assert.equal(line!.msg, 'Shutdown: worker threads shutting down did not finish in time; going on without it.');
  assert.equal(line!.step, 'worker threads shutting down');
  assert.equal(line!.waited_ms, 100);
  assert.deepEqual(line!.pending, threads);
});

test('a step that fails is logged with its error and does not reject', async () => {
  const { logger, lines } = capturedLogger();
  assert.equal(await boundedStep(logger, 'closing the decision log', 50, Promise.reject(new Error('disk I/O error')), () => 'unused'), 'failed');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const [line, ...more] = lines();
  assert.equal(line!.msg, 'Shutdown: closing the decision log failed.');
  assert.equal(line!.err, 'disk I/O error');
  assert.deepEqual(more, [], 'its timer was cleared: no time-out message after');
});
