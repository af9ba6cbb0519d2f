// A private MariaDB for the data-filter tests: a temp datadir made by mariadb-install-db, mariadbd on a random
// loopback port with its socket in the same temp dir, removed on stop. scripts/mariadb-test-deps.sh installs
// the Debian packages when they are missing (a failed install fails the test: it never skips). Queries go
// through the `mariadb` command-line client over the socket, so no npm client is needed.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../free-port.js';

export interface RunningMariadb {
  /** Runs SQL in database `verdict`; answers the rows, tab-separated columns, without a header. */
  query(sql: string): string[][];
  stop(): Promise<void>;
}

export async function startMariadb(): Promise<RunningMariadb> {
  execFileSync('bash', ['scripts/mariadb-test-deps.sh'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'verdict-mariadb-'));
  // As root the server runs as the package's system user, as the PostgreSQL fixture does.
  const user = userInfo().uid === 0 ? 'mysql' : userInfo().username;
  if (userInfo().uid === 0) {
    chownSync(dir, Number(execFileSync('id', ['-u', user]).toString()), Number(execFileSync('id', ['-g', user]).toString()));
  }
  const data = join(dir, 'data');
  const socket = join(dir, 'sock');
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, `--user=${user}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  const port = await freePort();
  let log = '';
  const child = spawn('/usr/sbin/mariadbd', ['--no-defaults', `--datadir=${data}`, `--user=${user}`, '--bind-address=127.0.0.1', `--port=${port}`, `--socket=${socket}`, '--skip-log-bin', '--innodb-buffer-pool-size=16M', '--innodb-flush-log-at-trx-commit=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}:\n${log}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), resolve(true))).on('error', () => resolve(false));
    });
    if (open) break;
    if (Date.now() > deadline) throw new Error(`mariadbd did not listen on ${port}:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const client = (sql: string, database: string[]) =>
    execFileSync('mariadb', ['--no-defaults', `--socket=${socket}`, '-u', 'root', '--batch', '--skip-column-names', ...database], { input: sql, encoding: 'utf8' });
  client('CREATE DATABASE verdict', []);
  return {
    query: (sql) => client(sql, ['verdict']).split('\n').filter((line) => line !== '').map((line) => line.split('\t')),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
