import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegoModule } from '../../src/bundle/bundle.js';
import { RegoCompileError } from '../../src/engine/compiler.js';
import { CompileThread } from '../../src/engine/compile-thread.js';
import { eventually } from '../eventually.js';

const module = (path: string, source: string): RegoModule => ({ path, packagePath: ['t'], source });
const v1 = { regoVersion: 1 as const };

test('compiles on a thread that ends when idle, and starts a new one for the next compile', async () => {
  const compiler = new CompileThread(100);
  assert.equal(compiler.running, false);
  const compiled = await compiler.compile([module('t.rego', 'package t\n\nallow if input.x == 1\n')], v1);
  assert.ok(WebAssembly.validate(new Uint8Array(compiled.wasm)));
  assert.deepEqual(compiled.entrypoints, ['t/allow']);
  assert.equal(compiler.running, true);
  await eventually('the idle compile thread to end', () => !compiler.running);
  const again = await compiler.compile([module('t.rego', 'package t\n\ndeny if input.x == 2\n')], v1);
  assert.deepEqual(again.entrypoints, ['t/deny']);
  await eventually('the idle compile thread to end', () => !compiler.running);
});

test('answers compiles sent together, and keeps a refusal a RegoCompileError with its details', async () => {
  const compiler = new CompileThread(100);
  const [good, bad] = await Promise.allSettled([
    compiler.compile([module('a.rego', 'package t\n\na := 1\n')], v1),
    compiler.compile([module('broken.rego', 'package t\n\nb := \n')], v1),
  ]);
  assert.equal(good.status, 'fulfilled');
  assert.deepEqual(good.value.entrypoints, ['t/a']);
  assert.equal(bad.status, 'rejected');
  const err = bad.reason as RegoCompileError;
  assert.ok(err instanceof RegoCompileError, String(err));
  assert.ok(err.errors.length > 0);
  assert.equal(err.errors[0]!.location?.file, 'broken.rego');
  await eventually('the idle compile thread to end', () => !compiler.running);
});

test('a thread is forgotten the moment it retires: a compile asked for while it ends gets a new thread and its answer', async () => {
  const idleMs = 50;
  const compiler = new CompileThread(idleMs);
  await compiler.compile([module('a.rego', 'package t\n\na := 1\n')], v1);
  // The thread's idle timer was set as it answered, just before this one: it fires first, in the same turn of
  // the event loop, and this runs before the loop hears that the thread has exited (a later phase).
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  assert.equal(compiler.running, false, 'forgotten as it retires, not when it has exited');
  const during = compiler.compile([module('b.rego', 'package t\n\nb := 2\n')], v1);
  assert.equal(compiler.running, true, 'a new thread started at once');
  assert.deepEqual((await during).entrypoints, ['t/b'], 'answered by the new thread, not failed with the old one');
  // The old thread's exit neither fails nor forgets the new one: it still answers, then retires in its turn.
  assert.deepEqual((await compiler.compile([module('c.rego', 'package t\n\nc := 3\n')], v1)).entrypoints, ['t/c']);
  await eventually('the idle compile thread to end', () => !compiler.running);
});

test('close ends the thread at once and fails the compiles it had not answered', async () => {
  const compiler = new CompileThread(60_000);
  await compiler.compile([module('a.rego', 'package t\n\na := 1\n')], v1);
  const unanswered = compiler.compile([module('b.rego', 'package t\n\nb := 2\n')], v1);
  const refused = assert.rejects(unanswered, /compile thread was closed/);
  assert.equal(compiler.pendingCompiles, 1);
  await compiler.close();
  assert.equal(compiler.running, false);
  assert.equal(compiler.pendingCompiles, 0);
  await refused;
  // A compile after close starts a thread again (close is for shutdown, but the compiler stays usable).
  assert.deepEqual((await compiler.compile([module('c.rego', 'package t\n\nc := 3\n')], v1)).entrypoints, ['t/c']);
  await compiler.close();
});
