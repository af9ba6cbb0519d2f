// Shared fixtures for decision-log tests: temporary database files and realistic events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { formatTimestamp, newDecisionId, nowNs, type DecisionEvent } from '../../src/decisionlog/event.js';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-decisionlog-'));
  made.push(dir);
  return dir;
}

export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

export function sampleEvent(overrides: Partial<DecisionEvent> = {}): DecisionEvent {
  return {
    labels: { id: 'test-instance', version: '0.1.0' },
    decision_id: newDecisionId(),
    path: 'http/example/authz/allow',
    input: { subject: { id: 'alice' }, request: { http: { method: 'GET', path: '/orders/1' } } },
    result: true,
    requested_by: '127.0.0.1:50000',
    timestamp: formatTimestamp(nowNs()),
    bundles: { authz: { revision: 'rev-1' } },
    metrics: { timer_server_handler_ns: 12345 },
    ...overrides,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a command that writes to the given stdout/stderr and resolves to its exit code; returns what it wrote. */
export async function captureCommand(run: (io: { stdout: Writable; stderr: Writable }) => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await run({ stdout, stderr });
  return { code, out, err };
}

/**
 * Events as a database made before the trace_id column holds them: one trace named every way the trace_id filter
 * knows (the event field in capitals, an Envoy check's and a callout's traceparent header, a header behind a
 * malformed event field), another trace, and none. `traced` lists the decision ids of `traceId`, oldest first.
 */
export function eventsOfOldSchema(): { traceId: string; events: DecisionEvent[]; traced: string[] } {
  const traceId = '5b8efff798038103d269b633813fc60c';
  const headers = { traceparent: `00-${traceId}-eee19b7ec3c1b174-01` };
  const events = [
    sampleEvent({ decision_id: 'old-field', trace_id: traceId.toUpperCase() }),
    sampleEvent({ decision_id: 'old-envoy', input: { attributes: { request: { http: { headers } } } } }),
    sampleEvent({ decision_id: 'old-callout', input: { request: { headers } } }),
    sampleEvent({ decision_id: 'old-other', trace_id: '0af7651916cd43dd8448eb211c80319c' }),
    sampleEvent({ decision_id: 'old-none' }),
    sampleEvent({ decision_id: 'old-malformed-field', trace_id: 'not-a-trace', input: { request: { headers } } }),
    sampleEvent({ decision_id: 'old-malformed-header', input: { request: { headers: { traceparent: `00-${traceId}` } } } }),
  ];
  return { traceId, events, traced: ['old-field', 'old-envoy', 'old-callout', 'old-malformed-field'] };
}

/** The lines a child process writes, as they come (a crash test's acknowledged decision ids). */
export function linesOf(stream: NodeJS.ReadableStream): string[] {
  const lines: string[] = [];
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  return lines;
}
