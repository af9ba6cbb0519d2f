// What `verdict run` can only find by opening something (a corrupt or locked decision-log database, a SQLite PIP
// query that does not compile against its database, a TLS file that holds no certificate) stops start-up with the same exit code and message whether
// the server is one thread or several, and whether its port is free or taken: found before a port is bound or a
// thread started, never reported as the busy port. A good SQLite adapter still serves from every thread.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../bundle/temp-dir.js';
import { freePort, holdPort } from '../free-port.js';
import { send } from './harness.js';
import { waitUntil } from './processes.js';
import { spawnWithThreads } from './threads.js';

const work = tempDir('verdict-startup-open-');
let busy: Awaited<ReturnType<typeof holdPort>>;

before(async () => {
  busy = await holdPort();
});

after(async () => {
  await busy.release();
});

let files = 0;
function configFile(config: unknown): string {
  const file = join(work, `config-${files++}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

const users = join(work, 'users.db');
{
  const db = new Database(users);
  db.exec(`CREATE TABLE users (id TEXT PRIMARY KEY, role TEXT); INSERT INTO users VALUES ('alice', 'admin')`);
  db.close();
}
const sqlPip = (query: string) => ({
  adapters: { users: { type: 'sql', settings: { driver: 'sqlite', database: users, query, params: ['user'], result: 'row' } } },
  enrich: [{ paths: ['authz'], adapter: 'users', inputs: { user: 'input.user' } }],
});
/** A decision log of its own for each run, so that no two servers share one. */
const logFile = () => join(work, `log-${files++}.db`);

interface Outcome {
  code: number | null;
  output: string;
  /** The roles of the server threads started before it exited. */
  threads: string[];
}

/** `verdict run` that must refuse to start, on a free port or the busy one; its exit code, output and threads. */
async function startFailure(config: unknown, workers: 1 | 2, port: 'free' | 'taken', args: string[]): Promise<Outcome> {
  const addr = port === 'taken' ? busy.addr : `127.0.0.1:${await freePort()}`;
  const threads = spawnWithThreads(['--addr', addr, '--workers', String(workers), '--config-file', configFile(config), ...args]);
  const { child } = threads.server;
  // The locked case waits for the lock (10 s) before it gives up; a server that starts instead fails here.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = child.exitCode ?? (await new Promise<number | null>((resolve) => child.once('exit', resolve)));
  clearTimeout(timer);
  return { code, output: threads.server.output(), threads: threads.started() };
}

const runs = [
  { workers: 1, port: 'free' },
  { workers: 1, port: 'taken' },
  { workers: 2, port: 'free' },
  { workers: 2, port: 'taken' },
] as const;

/** Every run of `runs` at once (the locked case waits its lock timeout in each), each checked the same way. */
async function expectEverywhere(config: () => unknown, code: number, message: RegExp, args: string[] = []): Promise<void> {
  const outcomes = await Promise.all(runs.map((r) => startFailure(config(), r.workers, r.port, args)));
  outcomes.forEach((o, i) => {
    const where = `--workers ${runs[i].workers}, port ${runs[i].port}:\n${o.output}`;
    assert.equal(o.code, code, where);
    assert.match(o.output, message, where);
    assert.doesNotMatch(o.output, /EADDRINUSE|already in use/, where);
    assert.deepEqual(o.threads, [], where);
  });
}

describe('verdict run, one thread or several, port free or taken', () => {
  it('a corrupt decision-log database: exit 3 naming the file', async () => {
    const corrupt = join(work, 'corrupt.db');
    writeFileSync(corrupt, Buffer.alloc(8192, 7));
    await expectEverywhere(() => ({ decision_logs: { store: { file: corrupt } } }), 3, /verdict: decision log .*corrupt\.db is corrupt or not a SQLite database/);
  });

  it('a decision-log database another process holds locked: exit 4 naming the file', { timeout: 120_000 }, async () => {
    const locked = join(work, 'locked.db');
    const holder = new Database(locked);
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');
    try {
      await expectEverywhere(() => ({ decision_logs: { store: { file: locked } } }), 4, /verdict: decision log .*locked\.db is locked by another process/);
    } finally {
      holder.exec('COMMIT');
      holder.close();
    }
  });

  it('a TLS certificate file that holds no certificate: exit 2 naming the flag and the file', async () => {
    const key = join(work, 'key.pem');
    writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const cert = join(work, 'cert.pem');
    writeFileSync(cert, 'not a certificate\n');
    await expectEverywhere(() => ({ decision_logs: { store: { file: logFile() } } }), 2, /verdict: --tls-cert-file .*cert\.pem: not a PEM certificate/, ['--tls-cert-file', cert, '--tls-private-key-file', key]);
  });

  it('a SQLite PIP query that does not compile against its database: exit 2 naming the adapter and the error', async () => {
    await expectEverywhere(() => ({ decision_logs: { store: { file: logFile() } }, pip: sqlPip('SELECT role FROM no_such_table WHERE id = ?') }), 2, /verdict: pip\.adapters\.users\.settings: no such table: no_such_table/);
  });
});

it('a SQLite PIP adapter that opens serves its rows from every thread of a server of two', async () => {
  const policy = join(work, 'authz.rego');
  writeFileSync(policy, 'package authz\n\nrole := input.pip.users.role\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const threads = spawnWithThreads(['--addr', `127.0.0.1:${port}`, '--workers', '2', '--config-file', configFile({ decision_logs: { store: { file: logFile() } }, pip: sqlPip('SELECT role FROM users WHERE id = ?') }), policy]);
  try {
    await waitUntil(threads.server, async () => (await send(url, 'GET', '/health')).status === 200);
    assert.deepEqual(threads.started().sort(), ['owner', 'replica']);
    // Fresh connections, so that both threads answer some.
    for (let i = 0; i < 8; i++) {
      const res = await send(url, 'POST', '/v1/data/authz/role', JSON.stringify({ input: { user: 'alice' } }), { Connection: 'close' });
      assert.equal((JSON.parse(res.body.toString()) as { result: unknown }).result, 'admin');
    }
  } finally {
    assert.equal(await threads.server.stop(), 0, threads.server.output());
  }
});
