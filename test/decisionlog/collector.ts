// A small loopback decision-log collector for tests: accepts OPA's upload protocol (gzipped JSON arrays
// POSTed to /logs) and can be told to fail, to simulate an outage.
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { ServiceClient } from '../../src/bundle/service.js';

export interface ReceivedChunk {
  path: string;
  method?: string;
  headers?: Record<string, string | string[] | undefined>;
  contentType?: string;
  contentEncoding?: string;
  compressedBytes: number;
  events: Record<string, unknown>[];
}

export interface Collector {
  url: string;
  chunks: ReceivedChunk[];
  /** Requests refused with a 500 while true. */
  down: boolean;
  refused: number;
  /** While set, each upload is recorded on arrival but answered only once this settles (a slow collector). */
  hold?: Promise<void>;
  close(): Promise<void>;
}

/** The collector as a service from the config's `services` section, without credentials. */
export function collectorService(url: string): ServiceClient {
  return new ServiceClient({ name: 'collector', url });
}

/** Decodes one upload body the way a collector must: gunzip, then a JSON array of events. */
export function decodeUpload(body: Buffer): Record<string, unknown>[] {
  const events: unknown = JSON.parse(gunzipSync(body).toString('utf8'));
  if (!Array.isArray(events)) throw new Error('upload body is not a JSON array');
  return events as Record<string, unknown>[];
}

export async function startCollector(): Promise<Collector> {
  const collector: Collector = { url: '', chunks: [], down: false, refused: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      if (collector.down) {
        collector.refused++;
        res.writeHead(500).end('collector down');
        return;
      }
      const body = Buffer.concat(parts);
      collector.chunks.push({
        path: req.url ?? '',
        method: req.method,
        headers: req.headers,
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
        compressedBytes: body.length,
        events: decodeUpload(body),
      });
      if (collector.hold) void collector.hold.then(() => res.writeHead(200).end());
      else res.writeHead(200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  collector.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  collector.close = () => new Promise((resolve) => server.close(() => resolve()));
  return collector;
}
