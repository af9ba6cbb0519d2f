// `opa run` and `verdict run` started for real as child processes on loopback, with any flags, for tests that
// compare the two command lines (authentication, TLS). Stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { referenceOpa } from '../engine/opa-fixture.js';
import { eventually } from '../eventually.js';

export interface RunningProcess {
  child: ChildProcess;
  /** Everything written to stderr and stdout so far. */
  output(): string;
  stop(): Promise<number | null>;
}

const STOP_TIMEOUT_MS = 30_000;
/** How long a hung Verdict has to write its diagnostic report before it is killed. */
const REPORT_TIMEOUT_MS = 5_000;

/** `node`: options for Verdict's node (before its script), `env`: added to the environment. */
export function spawnServer(kind: 'opa' | 'verdict', args: string[], extra: { node?: string[]; env?: Record<string, string> } = {}): RunningProcess {
  // A Verdict that does not exit on SIGTERM is asked for Node's diagnostic report (SIGUSR2) before it is killed.
  const node = ['--report-on-signal', '--report-signal=SIGUSR2', ...(extra.node ?? [])];
  const [command, fullArgs] = kind === 'opa' ? [referenceOpa(), ['run', '--server', ...args]] : [process.execPath, [...node, resolve('dist/src/main.js'), 'run', ...args]];
  // Verdict's decision log (and a diagnostic report) lives under the working directory: a fresh one per process.
  const cwd = kind === 'verdict' ? mkdtempSync(join(tmpdir(), 'verdict-run-')) : undefined;
  const child = spawn(command, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'], cwd, env: { ...process.env, ...extra.env } });
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
      let report = '';
      const timer = setTimeout(async () => {
        if (cwd) report = await diagnosticReport(child, cwd);
        child.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      if (child.signalCode === 'SIGKILL') throw new Error(`${kind} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM: ${output}${report}`);
      return code;
    },
  };
}

/** What a hung Verdict is waiting on: its threads' JavaScript stacks and its event loop's live handles. */
async function diagnosticReport(child: ChildProcess, cwd: string): Promise<string> {
  child.kill('SIGUSR2');
  for (let waited = 0; waited < REPORT_TIMEOUT_MS; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    const file = readdirSync(cwd).find((name) => name.startsWith('report.') && name.endsWith('.json'));
    if (!file) continue;
    try {
      const report = JSON.parse(readFileSync(join(cwd, file), 'utf8')) as NodeReport;
      return `\n--- diagnostic report (${join(cwd, file)}) ---\n${summarise(report)}`;
    } catch {
      // still being written
    }
  }
  return existsSync(cwd) ? `\n(no diagnostic report within ${REPORT_TIMEOUT_MS} ms of SIGUSR2: the main thread is blocked outside JavaScript)` : '';
}

interface NodeReport {
  header: { threadId: number | null };
  javascriptStack: { stack?: string[] };
  libuv: { type: string; is_active: boolean; is_referenced?: boolean; address: string }[];
  workers?: NodeReport[];
}

function summarise(report: NodeReport): string {
  const handles = report.libuv.filter((h) => h.is_active && h.is_referenced).map((h) => h.type);
  const lines = [`thread ${report.header.threadId ?? 0}: live handles [${handles.join(', ')}]`, ...(report.javascriptStack.stack ?? []).map((l) => `  ${l}`)];
  return [lines.join('\n'), ...(report.workers ?? []).map(summarise)].join('\n');
}

/** Waits until `probe` resolves true; fails with the process output when it exits or never gets there. */
export async function waitUntil(server: RunningProcess, probe: () => Promise<boolean>): Promise<void> {
  await eventually('the server ready', async () => {
    if (server.child.exitCode !== null) throw new Error(`server exited with ${server.child.exitCode}`);
    // Not listening yet.
    return probe().catch(() => false);
  }, 15_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${server.output()}`);
  });
}

/** The exit code and output of a server that must refuse to start. */
export async function expectStartFailure(kind: 'opa' | 'verdict', args: string[]): Promise<{ code: number | null; output: string }> {
  const server = spawnServer(kind, args);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => server.child.once('exit', resolve));
  clearTimeout(timer);
  return { code, output: server.output() };
}
