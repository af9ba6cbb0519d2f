// Shared helpers for server tests: a raw HTTP client (no automatic decompression, exact bytes back),
// a free loopback port, the reference OPA server, a Verdict server started in-process, and the two of them
// together around the tests of a file (useOpaAndVerdict).
import { after, before } from 'node:test';
import { request } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import type { DecisionEvent } from '../../src/server/context.js';
import { referenceOpa } from '../engine/opa-fixture.js';
import { freePort } from '../free-port.js';
import { eventually } from '../eventually.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function send(base: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = request(url, { method, headers: { ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-tree-'));
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
  return dir;
}

async function waitHealthy(base: string, child?: ChildProcess): Promise<void> {
  await eventually(`server at ${base} healthy`, async () => {
    if (child && child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    return (await send(base, 'GET', '/health').catch(() => undefined))?.status === 200;
  });
}

export interface OpaServer {
  url: string;
  stop(): Promise<void>;
}

/** `opa run --server` on a loopback port with the given config file and bundles (`binary`: another OPA build). */
export async function startOpa(configFile: string, bundles: string[], env?: NodeJS.ProcessEnv, binary = referenceOpa()): Promise<OpaServer> {
  const port = await freePort();
  const child = spawn(binary, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '-c', configFile, ...bundles.flatMap((b) => ['-b', b])], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: env ? { ...process.env, ...env } : process.env,
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child).catch((err: Error) => {
    throw new Error(`${err.message}: ${stderr}`);
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function startVerdict(configText: string, bundles: string[], onDecision?: (e: DecisionEvent) => void): Promise<RunningServer> {
  return startServer({
    addr: '127.0.0.1:0',
    config: parseConfig(configText, 'test config'),
    bundlePaths: bundles,
    logger: pino({ level: 'silent' }),
    onDecision,
  });
}

/** The servers of a differential test: the reference OPA and Verdict. */
export interface OpaAndVerdict {
  opa: OpaServer;
  verdict: RunningServer;
}

export interface OpaAndVerdictOptions {
  /** The bundle directory both serve (with a `.manifest` to name its roots). */
  files: Record<string, string>;
  /** Verdict's config (OPA's is `{}`). */
  verdictConfig?: string;
  onDecision?: (e: DecisionEvent) => void;
}

/**
 * `opa run --server` and Verdict serving the same bundle directory, started by a `before` hook and stopped by an
 * `after` hook of the file or describe block this is called in. The fields of the handle are set once the `before`
 * hook has run, so tests read them (`servers.opa.url`) inside their bodies.
 */
export function useOpaAndVerdict(options: OpaAndVerdictOptions): OpaAndVerdict {
  const servers = {} as Partial<OpaAndVerdict>;
  before(async () => {
    const bundle = writeTree(options.files);
    const opaConfig = join(writeTree({ 'config.yaml': '{}\n' }), 'config.yaml');
    const [opa, verdict] = await Promise.allSettled([startOpa(opaConfig, [bundle]), startVerdict(options.verdictConfig ?? '{}', [bundle], options.onDecision)]);
    if (opa.status === 'fulfilled') servers.opa = opa.value;
    if (verdict.status === 'fulfilled') servers.verdict = verdict.value;
    // The one that did start is stopped by the after hook.
    if (opa.status === 'rejected') throw opa.reason;
    if (verdict.status === 'rejected') throw verdict.reason;
  });
  after(async () => {
    await Promise.all([servers.opa?.stop(), servers.verdict?.close()]);
  });
  return servers as OpaAndVerdict;
}
