// Starting the reference opa-envoy-plugin as a peer process (differential test, benchmark).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.js';

// The installed binary, or the reason it is not available (the test is then skipped with it).
/** The pinned opa-envoy-plugin's path, installed by scripts/install-opa-envoy-plugin.sh; throws with its reason. */
export function opaEnvoyPlugin(): string {
  try {
    return execFileSync('bash', ['scripts/install-opa-envoy-plugin.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    throw new Error(String((err as { stderr?: string }).stderr ?? err).trim().split('\n').pop());
  }
}

export function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve();
      });
      socket.on('error', () => (Date.now() > deadline ? reject(new Error(`port ${port} never opened`)) : setTimeout(attempt, 50)));
    };
    attempt();
  });
}

export interface PeerProcess {
  address: string;
  stop(): Promise<void>;
}

export async function startOpaEnvoyPlugin(binary: string, rego: string, settings: Record<string, string> = {}): Promise<PeerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-oep-'));
  writeFileSync(join(dir, 'policy.rego'), rego);
  const port = await freePort();
  const sets = { 'plugins.envoy_ext_authz_grpc.addr': `127.0.0.1:${port}`, 'decision_logs.console': 'false', ...settings };
  const child: ChildProcess = spawn(binary, [
    'run', '--server', '--addr', '127.0.0.1:0', '--log-level', 'error',
    ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    join(dir, 'policy.rego'),
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  return {
    address: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
