// A real Jaeger (v2, built on the OpenTelemetry Collector; scripts/install-jaeger.sh) on loopback with its
// in-memory store: OTLP gRPC and HTTP receivers take spans, its query API gives traces back.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.js';
import { requiredPeer, type Peer } from '../peers.js';
import { waitForPort } from '../envoy/peer.js';

/** The pinned Jaeger, installed by scripts/install-jaeger.sh (from .ci/run; run here when missing). */
export function jaegerPeer(): Peer<string> {
  return requiredPeer('jaeger', () => {
    const binary = join('.tools', 'jaeger', 'bin', 'jaeger');
    if (existsSync(binary)) return binary;
    const installed = spawnSync('scripts/install-jaeger.sh', { encoding: 'utf8' });
    if (installed.status !== 0) throw new Error(installed.stderr || 'scripts/install-jaeger.sh failed');
    return installed.stdout.trim();
  });
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
}

export interface RunningJaeger {
  /** host:port of the OTLP gRPC receiver. */
  otlpGrpc: string;
  /** host:port of the OTLP HTTP receiver. */
  otlpHttp: string;
  /** The spans of one trace (empty until Jaeger has it). */
  trace(traceId: string): Promise<JaegerSpan[]>;
  stop(): Promise<void>;
}

export async function startJaeger(binary: string): Promise<RunningJaeger> {
  const [grpcPort, httpPort, queryPort, queryGrpcPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'verdict-jaeger-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: []
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memory:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memory
    http:
      endpoint: 127.0.0.1:${queryPort}
    grpc:
      endpoint: 127.0.0.1:${queryGrpcPort}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${grpcPort}
      http:
        endpoint: 127.0.0.1:${httpPort}
exporters:
  jaeger_storage_exporter:
    trace_storage: memory
`);
  const child = spawn(binary, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)));
  try {
    await Promise.all([waitForPort(grpcPort), waitForPort(queryPort)]);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`jaeger did not start: ${(err as Error).message}\n${stderr}`);
  }
  return {
    otlpGrpc: `127.0.0.1:${grpcPort}`,
    otlpHttp: `127.0.0.1:${httpPort}`,
    async trace(traceId) {
      const res = await fetch(`http://127.0.0.1:${queryPort}/api/traces/${traceId}`);
      if (res.status === 404) return [];
      if (!res.ok) throw new Error(`jaeger query answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { data?: { spans: JaegerSpan[] }[] };
      return body.data?.flatMap((t) => t.spans) ?? [];
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
