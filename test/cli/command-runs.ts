// Running the reference opa and verdict as child processes without blocking, so that a differential test's
// independent cases can run side by side: each case is mostly the start-up of two processes, and on a machine
// with few cores, cases one after another leave it idle while each process loads.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** How many cases of one file run at once: enough to keep two cores busy while processes start. */
export const sideBySide = { concurrency: 4 };

export interface RunOptions {
  /** The standard input (default: none). */
  stdin?: string;
  cwd?: string;
  /** Milliseconds after which the command is killed (SIGTERM), as spawnSync's timeout: its status is then null. */
  timeout?: number;
}

/** Runs `command` to its end. */
export function runCommand(command: string, args: string[], { stdin, cwd, timeout }: RunOptions = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, timeout });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    // As with spawnSync's `input`, a command may end without reading its input: the pipe then closes under the
    // write (EPIPE), which is not the command's failure.
    child.stdin.on('error', (err: NodeJS.ErrnoException) => err.code !== 'EPIPE' && reject(err));
    child.stdin.end(stdin ?? '');
  });
}

/** `verdict <args>` from the compiled tree. */
export function runVerdict(args: string[], options: RunOptions = {}): Promise<Outcome> {
  return runCommand(process.execPath, [resolve('dist/src/main.js'), ...args], options);
}
