// `opa run` and `verdict run` started for real as child processes on loopback, with any flags, for tests that
// compare the two command lines (authentication, TLS). Stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { referenceOpa } from '../engine/opa-fixture.js';

export interface RunningProcess {
  child: ChildProcess;
  /** Everything written to stderr and stdout so far. */
  output(): string;
  stop(): Promise<number | null>;
}

const STOP_TIMEOUT_MS = 30_000;

/** `node`: options for Verdict's node (before its script), `env`: added to the environment. */
export function spawnServer(kind: 'opa' | 'verdict', args: string[], extra: { node?: string[]; env?: Record<string, string> } = {}): RunningProcess {
  const [command, fullArgs] = kind === 'opa' ? [referenceOpa(), ['run', '--server', ...args]] : [process.execPath, [...(extra.node ?? []), resolve('dist/src/main.js'), 'run', ...args]];
  // Verdict's decision log lives under the working directory: a fresh one per process.
  const child = spawn(command, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'], cwd: kind === 'verdict' ? mkdtempSync(join(tmpdir(), 'verdict-run-')) : undefined, env: { ...process.env, ...extra.env } });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    output: () => output,
    // A server that does not exit on SIGTERM fails the test with its output instead of hanging the file.
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      if (child.signalCode === 'SIGKILL') throw new Error(`${kind} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM: ${output}`);
      return code;
    },
  };
}

/** Waits until `probe` resolves true; fails with the process output when it exits or never gets there. */
export async function waitUntil(server: RunningProcess, probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (server.child.exitCode !== null) throw new Error(`server exited with ${server.child.exitCode}: ${server.output()}`);
    try {
      if (await probe()) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not become ready: ${server.output()}`);
}

/** The exit code and output of a server that must refuse to start. */
export async function expectStartFailure(kind: 'opa' | 'verdict', args: string[]): Promise<{ code: number | null; output: string }> {
  const server = spawnServer(kind, args);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => server.child.once('exit', resolve));
  clearTimeout(timer);
  return { code, output: server.output() };
}
