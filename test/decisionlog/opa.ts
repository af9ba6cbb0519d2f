// Starts the reference OPA (`opa run --server`, loopback, a free port) for differential tests and
// collects the JSON log lines it writes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { freePort } from '../free-port.js';
import { eventually } from '../eventually.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function opaBinary(): string {
  return execFileSync('bash', [`${repoRoot}scripts/install-opa.sh`], { encoding: 'utf8' }).trim().split('\n').pop()!;
}

export interface RunningOpa {
  url: string;
  logLines: Record<string, unknown>[];
  process: ChildProcess;
}

export async function startOpa(args: string[]): Promise<RunningOpa> {
  return startServer([opaBinary()], args);
}

/** `command run --server` on a free port: the reference OPA, or Verdict (`[process.execPath, 'dist/src/main.js']`). */
export async function startServer(command: string[], args: string[]): Promise<RunningOpa> {
  const port = await freePort();
  const child = spawn(command[0]!, [...command.slice(1), 'run', '--server', '--addr', `127.0.0.1:${port}`, '--log-format', 'json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  after(() => {
    child.kill('SIGKILL');
  });
  const logLines: Record<string, unknown>[] = [];
  let buffered = '';
  const collect = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        logLines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a JSON log line (OPA prints nothing else in json mode, but stay tolerant)
      }
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  await eventually('opa healthy', async () => {
    if (child.exitCode !== null) throw new Error(`opa exited with ${child.exitCode}`);
    return (await fetch(`${url}/health`).catch(() => undefined))?.ok;
  }, 15_000).catch((err: Error) => {
    throw new Error(`opa did not start (${err.message}): ${JSON.stringify(logLines.slice(-5))}`);
  });
  return { url, logLines, process: child };
}

