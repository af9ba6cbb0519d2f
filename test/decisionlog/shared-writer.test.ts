// One writer thread for a server whose workers are threads of one process: real worker_threads, each with a store
// on a handle from SharedDecisionWriter, all committing to one file through the one writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DecisionLogStore, type DecisionLogStatus } from '../../src/decisionlog/store.js';
import { SharedDecisionWriter, writerHandleTransfer } from '../../src/decisionlog/shared-writer.js';
import { eventually } from '../eventually.js';
import { linesOf, sampleEvent, tempDir } from './helpers.js';

const threadScript = new URL('./shared-writer-thread.js', import.meta.url);
const crashChild = fileURLToPath(new URL('./shared-crash-child.js', import.meta.url));

/** A server thread with a store on the shared writer, and a way to ask it things. */
function serverThread(writer: SharedDecisionWriter, name: string) {
  const handle = writer.handle();
  const worker = new Worker(threadScript, { workerData: { handle, name }, transferList: writerHandleTransfer(handle) });
  const ask = (command: Record<string, unknown>) =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', (reply: { ok: boolean; value?: unknown; error?: string }) => (reply.ok ? resolve(reply.value) : reject(new Error(reply.error))));
      worker.postMessage(command);
    });
  return {
    ask,
    status: () => ask({ cmd: 'status' }) as Promise<DecisionLogStatus>,
    stop: async () => {
      await ask({ cmd: 'close' });
      await worker.terminate();
    },
  };
}

function storedIds(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT decision_id FROM decisions ORDER BY decision_id').all() as { decision_id: string }[]).map((r) => r.decision_id);
  } finally {
    db.close();
  }
}

const ids = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}-${i}`);

test('two server threads log through one writer thread into one file', async () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file });
  const a = serverThread(writer, 'a');
  const b = serverThread(writer, 'b');
  await Promise.all([a.ask({ cmd: 'record', count: 700 }), b.ask({ cmd: 'record', count: 500 })]);
  await Promise.all([a.ask({ cmd: 'flush' }), b.ask({ cmd: 'flush' })]);
  const [sa, sb] = await Promise.all([a.status(), b.status()]);
  assert.equal(sa.written, 700);
  assert.equal(sb.written, 500);
  assert.equal(sa.file, file);
  assert.equal(sa.write_failures + sb.write_failures, 0);
  await Promise.all([a.stop(), b.stop()]);
  await writer.close();
  assert.deepEqual(storedIds(file), [...ids('a', 700), ...ids('b', 500)].sort());
  assert.equal(writer.restarts, 0);
});

test('sync durability: each thread hears "committed" only for events in the database', async () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file, durability: 'sync' });
  const a = serverThread(writer, 'a');
  const b = serverThread(writer, 'b');
  const [ra, rb] = (await Promise.all([a.ask({ cmd: 'record', count: 300 }), b.ask({ cmd: 'record', count: 300 })])) as string[][];
  assert.ok([...ra, ...rb].every((r) => r === 'committed'));
  // Read before anything is closed: what was acknowledged is committed already.
  assert.equal(storedIds(file).length, 600);
  assert.equal((await a.status()).durability, 'sync');
  await Promise.all([a.stop(), b.stop()]);
  await writer.close();
});

test('a failed write is counted and shown in every thread, the events kept, and written once the disk has room', async () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file });
  const a = serverThread(writer, 'a');
  const b = serverThread(writer, 'b');
  await a.ask({ cmd: 'record', count: 1 });
  await a.ask({ cmd: 'flush' });
  const [{ page_count: pages }] = (await a.ask({ cmd: 'pragma', statement: 'page_count' })) as { page_count: number }[];
  // The writer's one connection: a limit set through one thread applies to every thread's writes.
  await b.ask({ cmd: 'pragma', statement: `max_page_count = ${pages}` });
  await Promise.all([a.ask({ cmd: 'record', count: 20, blob: 20_000 }), b.ask({ cmd: 'record', count: 20, blob: 20_000 })]);
  await eventually('both threads to count a failure', async () => (await a.status()).write_failures > 0 && (await b.status()).write_failures > 0);
  for (const s of [await a.status(), await b.status()]) {
    assert.equal(s.state, 'ERROR');
    assert.equal(s.last_error?.sqlite_code, 'SQLITE_FULL');
    assert.ok(s.queue_length > 0, 'the events are kept queued');
  }
  await a.ask({ cmd: 'pragma', statement: 'max_page_count = 1000000' });
  await eventually('the queues to drain', async () => (await a.status()).queue_length === 0 && (await b.status()).queue_length === 0);
  assert.equal((await a.status()).state, 'OK');
  assert.equal((await b.status()).state, 'OK');
  await Promise.all([a.stop(), b.stop()]);
  await writer.close();
  // a-0 twice: the first record and the first of the twenty share an id; the table does not require them unique.
  assert.equal(storedIds(file).length, 41);
});

test('a store on the shared writer takes its file and durability from it and leaves retention to it', () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file, durability: 'sync' });
  const handle = writer.handle();
  assert.throws(() => new DecisionLogStore({ writer: handle, durability: 'default' }), /durability default differs from the shared writer's sync/);
  assert.throws(() => new DecisionLogStore({ writer: handle, file: join(tempDir(), 'other.db') }), /differs from the shared writer's/);
  assert.throws(() => new DecisionLogStore({ writer: handle, retention: { maxAgeSeconds: 60 } }), /retention runs in the shared writer/);
  handle.port.close();
  handle.control.close();
  return writer.close();
});

test('sync durability, kill -9 of the whole process: every decision either thread acknowledged is in the database', { timeout: 60_000 }, async () => {
  const file = join(tempDir(), 'd.db');
  const proc = spawn(process.execPath, [crashChild, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acknowledged = linesOf(proc.stdout);
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const deadline = Date.now() + 30_000;
  const from = (name: string) => acknowledged.filter((id) => id.startsWith(`${name}-`)).length;
  while ((from('a') < 1000 || from('b') < 1000) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  proc.kill('SIGKILL');
  await exited;
  assert.ok(from('a') >= 1000 && from('b') >= 1000, `acknowledged before the kill: ${from('a')} from a, ${from('b')} from b`);
  const stored = new Set(storedIds(file));
  assert.deepEqual(acknowledged.filter((id) => !stored.has(id)), []);
});

test('when the writer thread dies, every thread counts the failed writes, the owner starts a new one, and nothing is lost', async () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file });
  const a = serverThread(writer, 'a');
  const b = serverThread(writer, 'b');
  await Promise.all([a.ask({ cmd: 'record', count: 10 }), b.ask({ cmd: 'record', count: 10 })]);
  await Promise.all([a.ask({ cmd: 'flush' }), b.ask({ cmd: 'flush' })]);
  // The writer thread itself, as a crash would end it (nothing in the API stops it short of close()).
  const thread = (writer as unknown as { writer: { endpoint: Worker } }).writer.endpoint;
  await thread.terminate();
  await Promise.all([a.ask({ cmd: 'record', count: 30 }), b.ask({ cmd: 'record', count: 30 })]);
  await eventually('the queues to drain through a new writer', async () => (await a.status()).queue_length === 0 && (await b.status()).queue_length === 0);
  const [sa, sb] = [await a.status(), await b.status()];
  assert.ok(sa.write_failures > 0 && sb.write_failures > 0, `failures counted: a ${sa.write_failures}, b ${sb.write_failures}`);
  assert.equal(sa.state, 'OK');
  assert.equal(sa.written + sb.written, 80);
  assert.ok(writer.restarts >= 1);
  await Promise.all([a.stop(), b.stop()]);
  await writer.close();
  assert.equal(storedIds(file).length, 80);
});

test("a store's onCommit hears every thread's commits, and again after the writer thread is started anew", async () => {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file });
  // The uploading thread's store, which itself logs nothing here.
  const owner = new DecisionLogStore({ writer: writer.handle() });
  let heard = 0;
  owner.onCommit(() => heard++);
  const b = serverThread(writer, 'b');
  await b.ask({ cmd: 'record', count: 10 });
  await b.ask({ cmd: 'flush' });
  await eventually("the other thread's commit heard", () => heard > 0, 5_000);

  const thread = (writer as unknown as { writer: { endpoint: Worker } }).writer.endpoint;
  await thread.terminate();
  await b.ask({ cmd: 'record', count: 10 });
  await eventually('the queue to drain through a new writer', async () => (await b.status()).queue_length === 0);
  // The owner's store attaches to the new writer on its own (it writes nothing that would make it).
  const ownerWriter = (owner as unknown as { writer: { running: boolean } }).writer;
  await eventually('the owner attached to the new writer', () => ownerWriter.running, 5_000);
  await new Promise((r) => setTimeout(r, 200));
  const before = heard;
  await b.ask({ cmd: 'record', count: 10 });
  await b.ask({ cmd: 'flush' });
  await eventually("the other thread's commit heard through the new writer", () => heard > before, 5_000);
  assert.equal((await owner.status()).written, 0);
  await owner.close();
  await b.stop();
  await writer.close();
  assert.equal(storedIds(file).length, 30);
});

/**
 * Two server threads record steadily for 2 s, b starting 45 ms after a: about half a flush delay (100 ms) apart, so
 * each store's batch would come at its own moment. Counts the writer's commits of decisions.
 */
async function pacedApart(groupWaitMs: number | undefined): Promise<{ commits: number; rows: number }> {
  const file = join(tempDir(), 'd.db');
  const writer = new SharedDecisionWriter({ file, ...(groupWaitMs !== undefined ? { groupWaitMs } : {}) });
  // Hears one notice per commit of decisions, whichever thread's; it logs nothing itself.
  const listener = new DecisionLogStore({ writer: writer.handle() });
  const a = serverThread(writer, 'a');
  const b = serverThread(writer, 'b');
  try {
    let commits = 0;
    listener.onCommit(() => commits++);
    await eventually('the listener attached', () => (listener as unknown as { writer: { running: boolean } }).writer.running, 5_000);
    await new Promise((r) => setTimeout(r, 100));
    commits = 0;
    const pace = { cmd: 'pace', perTick: 2, tickMs: 5, ticks: 400 };
    const paced = a.ask(pace);
    await new Promise((r) => setTimeout(r, 45));
    await Promise.all([paced, b.ask(pace)]);
    await Promise.all([a.ask({ cmd: 'flush' }), b.ask({ cmd: 'flush' })]);
    await new Promise((r) => setTimeout(r, 100));
    return { commits, rows: storedIds(file).length };
  } finally {
    await listener.close();
    await Promise.all([a.stop(), b.stop()]);
    await writer.close();
  }
}

test('default durability: threads whose batches come apart are brought to share one commit', { timeout: 60_000 }, async () => {
  // The same traffic against a writer that never waits for another store's batch: each thread's batch makes its
  // own commit, about two per flush delay. Measured in the same run, so a loaded machine slows both alike.
  const apart = await pacedApart(0);
  const grouped = await pacedApart(undefined);
  assert.equal(apart.rows, 1600);
  assert.equal(grouped.rows, 1600);
  assert.ok(apart.commits >= 25, `${apart.commits} commits without waiting: the threads' batches should come apart`);
  assert.ok(
    grouped.commits <= apart.commits * 0.75,
    `${grouped.commits} commits when batches wait for each other, ${apart.commits} when they do not: most commits should hold both threads' batches`,
  );
});

test("a server's config opens the shared writer, and each thread's store options point at it without retention", async () => {
  const { storeOptionsFor } = await import('../../src/server/decision-log.js');
  const { openServerDecisionWriter } = await import('../../src/decisionlog/server-writer.js');
  const file = join(tempDir(), 'd.db');
  assert.equal(openServerDecisionWriter({ decision_logs: { store: { enabled: false } } } as never, true), undefined);
  assert.equal(openServerDecisionWriter({} as never, false), undefined, 'off unless on by default or configured');
  const writer = openServerDecisionWriter({ decision_logs: { store: { file, durability: 'sync' } } } as never, true)!;
  assert.equal(writer.file, file);
  assert.equal(writer.durability, 'sync');
  const handle = writer.handle();
  const options = storeOptionsFor({ file, durability: 'sync', retention: { maxAgeSeconds: 60 }, queueLimit: 5 }, false, handle);
  assert.deepEqual({ ...options, writer: undefined }, { queueLimit: 5, writer: undefined });
  const store = new DecisionLogStore(options);
  assert.equal(await store.record(sampleEvent()), 'committed');
  await store.close();
  await writer.close();
  assert.equal(storedIds(file).length, 1);
});
