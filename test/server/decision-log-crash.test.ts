// The audit promise of sync durability, end to end: `verdict run` with decision_logs.store.durability sync
// under concurrent load is killed with SIGKILL; after a restart, every decision whose answer reached a client
// is in the database (compared by decision id), and the restarted server opens the log and keeps logging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { send, writeTree } from './harness.js';
import { freePort } from '../free-port.js';
import { eventually } from '../eventually.js';

const bundleDir = writeTree({
  '.manifest': JSON.stringify({ revision: 'crash-1', roots: ['authz'] }),
  'authz/policy.rego': 'package authz\n\ndefault allow := false\n\nallow if input.user == "alice"\n',
});

async function run(dir: string): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [resolve('dist/src/main.js'), 'run', '--addr', `127.0.0.1:${port}`, '--config-file', join(dir, 'config.yaml'), '-b', bundleDir], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  await eventually('verdict run healthy', async () => {
    if (child.exitCode !== null) assert.fail(`verdict run exited: ${log}`);
    return send(url, 'GET', '/health').then((r) => r.status === 200, () => false);
  }).catch((err: Error) => assert.fail(`${err.message}: ${log}`));
  return { child, url, exited };
}

/** Answered decisions before the kill: enough for the test to mean something. */
const LOADED = 300;
/** How long the load may take to get there before the test fails. */
const LOAD_LIMIT_MS = 60_000;

test('sync mode: kill -9 under load loses no answered decision', async () => {
  const dir = writeTree({});
  writeFileSync(join(dir, 'config.yaml'), `decision_logs:\n  store:\n    file: ${dir}/decisions.db\n    durability: sync\n`);
  const first = await run(dir);
  const answered: string[] = [];
  let killed = false;
  const worker = async (n: number) => {
    for (let i = 0; !killed; i++) {
      try {
        const res = await send(first.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user: i % 2 ? 'alice' : `user-${n}-${i}` } }));
        if (res.status === 200) answered.push(JSON.parse(res.body.toString()).decision_id);
      } catch {
        return; // the connection died with the server
      }
    }
  };
  const load = Promise.all(Array.from({ length: 16 }, (_, n) => worker(n)));
  // Killed once enough decisions were answered, however long that takes on a loaded machine (a fixed time
  // gave fewer than 100 answers when the CPUs were busy elsewhere); the 16 clients are still sending then.
  for (const started = Date.now(); answered.length <= LOADED && Date.now() - started < LOAD_LIMIT_MS; ) await new Promise((r) => setTimeout(r, 20));
  first.child.kill('SIGKILL');
  killed = true;
  await load;
  await first.exited;
  assert.ok(answered.length > LOADED, `enough load to mean something (${answered.length} answers in ${LOAD_LIMIT_MS} ms)`);

  // The restarted server opens the same file and keeps logging on top of it.
  const second = await run(dir);
  const after = JSON.parse((await send(second.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user: 'alice' } }))).body.toString());
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);

  const db = openDecisionDatabase(join(dir, 'decisions.db'), { readonly: true });
  try {
    const has = db.prepare('SELECT 1 FROM decisions WHERE decision_id = ?');
    const missing = answered.filter((id) => has.get(id) === undefined);
    assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered decisions are missing`);
    assert.ok(has.get(after.decision_id), 'the restarted server logs too');
  } finally {
    db.close();
  }
});
