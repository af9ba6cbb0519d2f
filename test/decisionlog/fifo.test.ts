// The queue of callers waiting for room in the decision log (`when_full: block`): first in, first out, across
// the points where it drops the part already taken.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fifo } from '../../src/decisionlog/fifo.js';

test('items come out in the order they went in, interleaved pushes and shifts included', () => {
  const fifo = new Fifo<number>();
  assert.equal(fifo.shift(), undefined);
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++) fifo.push(next++);
    for (let i = 0; i < 250; i++) assert.equal(fifo.shift(), expected++);
    assert.equal(fifo.length, next - expected);
  }
  while (fifo.length > 0) assert.equal(fifo.shift(), expected++);
  assert.equal(expected, next);
  assert.equal(fifo.shift(), undefined);
  assert.equal(fifo.length, 0);
});
