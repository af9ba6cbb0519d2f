// An idle `verdict run` sleeps: no thread of it (server threads, decision-log writer, primary) wakes up on a
// short timer while no request comes. Wake-ups are counted from Linux's per-thread voluntary context switches
// (/proc/PID/task/TID/status): a thread that blocks and is woken again counts one each time, whatever woke it
// (a JavaScript timer, a native one such as an event-loop delay monitor, an Atomics.wait poll). A load on the
// machine delays wake-ups rather than adding to them, so the count is steady where CPU time would not be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { send } from './harness.js';
import { spawnServer, waitUntil } from './processes.js';
import { freePort } from '../free-port.js';

const WINDOW_MS = 3_000;
/**
 * The most wake-ups a second any one thread may have while idle. A 10 ms poll is about 100; a sleeping server's
 * threads have a few (the status of the libuv and V8 helper threads, a once-a-second event-loop sample).
 */
const MAX_WAKEUPS_PER_SECOND = 30;

/** Voluntary context switches so far, per thread id. */
function wakeups(pid: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      counts.set(tid, Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)![1]));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return counts;
}

async function busiestIdleThread(args: string[]): Promise<{ tid: string; perSecond: number }> {
  const port = await freePort();
  const server = spawnServer('verdict', ['--addr', `127.0.0.1:${port}`, '--log-level', 'error', ...args]);
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(server, async () => (await send(base, 'GET', '/health')).status === 200);
    // Start-up's own work (the threads' first requests, compile, the first decision-log commit) settles first.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = wakeups(server.child.pid!);
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const after = wakeups(server.child.pid!);
    let busiest = { tid: '', perSecond: 0 };
    for (const [tid, count] of after) {
      const perSecond = ((count - (before.get(tid) ?? 0)) * 1000) / WINDOW_MS;
      if (perSecond > busiest.perSecond) busiest = { tid, perSecond };
    }
    return busiest;
  } finally {
    await server.stop();
  }
}

test('an idle server with the default settings (two server threads, decision log on) does not wake on a short timer', async () => {
  const busiest = await busiestIdleThread([]);
  assert.ok(busiest.perSecond < MAX_WAKEUPS_PER_SECOND, `thread ${busiest.tid} woke ${busiest.perSecond.toFixed(1)} times a second while idle`);
});

test('an idle server with the decision log off does not wake on a short timer', async () => {
  const busiest = await busiestIdleThread(['--set', 'decision_logs.store.enabled=false']);
  assert.ok(busiest.perSecond < MAX_WAKEUPS_PER_SECOND, `thread ${busiest.tid} woke ${busiest.perSecond.toFixed(1)} times a second while idle`);
});
