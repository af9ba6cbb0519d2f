// `verdict run` under test with the thread control loaded (thread-control.ts): the test sees the server
// threads and their roles, and ends one as `kill -9` ends a worker process.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../bundle/temp-dir.js';
import { spawnServer, type RunningProcess } from './processes.js';

export interface Threads {
  server: RunningProcess;
  /** The live server threads, by thread id, with their roles. */
  live(): { id: number; role: string }[];
  /** The role of every server thread started so far, ended or not, in the order they started. */
  started(): string[];
  /** Ends threads: "terminate" as the primary would, "throw" by an uncaught exception inside the thread. */
  end(targets: { id: number; how: 'terminate' | 'throw' }[]): void;
}

/** `verdict run` with the test's thread control loaded (thread-control.ts). */
export function spawnWithThreads(args: string[]): Threads {
  const control = join(tempDir('verdict-threads-'), 'threads.json');
  const server = spawnServer('verdict', args, {
    node: ['--import', pathToFileURL(resolve('dist/test/server/thread-control.js')).href],
    env: { VERDICT_TEST_THREADS: control },
  });
  return {
    server,
    live: () => {
      try {
        return (JSON.parse(readFileSync(control, 'utf8')) as { id: number; role: string }[]).sort((a, b) => a.id - b.id);
      } catch {
        return [];
      }
    },
    started: () => {
      try {
        return readFileSync(`${control}.started`, 'utf8').split('\n').filter((role) => role !== '');
      } catch {
        return [];
      }
    },
    end: (targets) => {
      writeFileSync(`${control}.kill`, JSON.stringify(targets));
      server.child.kill('SIGUSR2');
    },
  };
}

