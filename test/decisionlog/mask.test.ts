import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMask, parseMaskRules, shouldDrop } from '../../src/decisionlog/mask.js';
import { sampleEvent } from './helpers.js';

test('an undefined or empty mask leaves the event as it is', () => {
  const event = sampleEvent();
  assert.equal(applyMask(event, undefined), event);
  assert.equal(applyMask(event, []), event);
});

test('masking copies: the original input and result are not changed', () => {
  const event = sampleEvent({ input: { a: { b: 1 } }, result: { c: 2 } });
  const masked = applyMask(event, ['/input/a/b', { op: 'upsert', path: '/result/c', value: 0 }]);
  assert.deepEqual(event.input, { a: { b: 1 } });
  assert.deepEqual(event.result, { c: 2 });
  assert.deepEqual(masked.input, { a: {} });
  assert.deepEqual(masked.result, { c: 0 });
});

test('erased and masked extend what is already recorded', () => {
  const event = sampleEvent({ input: { a: 1, b: 2 }, erased: ['/input/z'] });
  assert.deepEqual(applyMask(event, ['/input/a']).erased, ['/input/z', '/input/a']);
});

test('nd_builtin_cache can be masked like input and result', () => {
  const event = sampleEvent({ nd_builtin_cache: { 'time.now_ns': { '[]': 1 } } });
  assert.deepEqual(applyMask(event, ['/nd_builtin_cache']).nd_builtin_cache, undefined);
});

test('malformed mask results name what is wrong', () => {
  assert.throws(() => parseMaskRules('/input/a'), /must return a set of rules, got a string$/);
  // The message names the kind of value, never the value: it is shown in /v1/status.
  assert.throws(() => parseMaskRules([{ op: 'remove', path: { authorization: 'Bearer s3cr3t' } }]), (e: Error) => !e.message.includes('s3cr3t') && /got an object/.test(e.message));
  assert.throws(() => parseMaskRules(['']), /must be non-empty/);
  assert.throws(() => parseMaskRules([{ op: 'upsert', path: 3 }]), /path must be a string, got a number$/);
  assert.throws(() => parseMaskRules([{ op: 'delete', path: '/input/a' }]), /op must be "remove" or "upsert", got a string$/);
  assert.throws(() => parseMaskRules([null]), /must be a path string or an \{op, path, value\} object, got null/);
});

test('only a true drop result drops', () => {
  assert.equal(shouldDrop(true), true);
  for (const v of [undefined, false, 'true', 1, {}, [true]]) assert.equal(shouldDrop(v), false);
});
