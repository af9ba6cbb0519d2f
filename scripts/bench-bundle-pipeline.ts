// Time from a new bundle being published on a (loopback, long-polling) bundle server to its files being
// downloaded, read, signature-verified and its data parsed: the bundle side of "new policy to decisions".
// Compile and activation are the engine's and not included. Also prints the heap taken by the parsed data
// as a multiple of the raw JSON size.
//   npm run build && node dist/scripts/bench-bundle-pipeline.js [iterations]
import { generateKeyPairSync } from 'node:crypto';
import { BundleDownloader } from '../src/bundle/download.js';
import { ServiceClient } from '../src/bundle/service.js';
import { readBundleArchive, writeBundleArchive, type BundleFile } from '../src/bundle/files.js';
import { signBundleFiles, verifyBundleSignatures } from '../src/bundle/signing.js';
import { TestBundleServer } from '../test/bundle/bundle-server.js';

const iterations = Number(process.argv[2] ?? 5);
const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const signing = { keys: { k: { key: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithm: 'ES256' as const } } };

function sampleBundle(revision: number): BundleFile[] {
  return [
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: `r${revision}`, roots: ['gateway'] })) },
    { path: 'gateway/data.json', data: Buffer.from(JSON.stringify({ routes: { '/api': ['admin', 'dev'] } })) },
    { path: 'gateway/authz.rego', data: Buffer.from('package gateway.authz\n\ndefault allow := false\n\nallow if input.user.role in data.gateway.routes[input.path]\n') },
  ];
}

function bigDataBundle(revision: number, bytes: number): BundleFile[] {
  const users: Record<string, unknown> = {};
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const user = { name: `user-${i}-${revision}`, roles: ['reader', i % 7 === 0 ? 'admin' : 'dev'], quota: i * 3, active: i % 2 === 0 };
    users[`u${i}`] = user;
    size += JSON.stringify(user).length + 10;
  }
  return [
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision: `r${revision}`, roots: ['users'] })) },
    { path: 'users/data.json', data: Buffer.from(JSON.stringify(users)) },
  ];
}

async function measure(label: string, make: (revision: number) => BundleFile[]): Promise<void> {
  const server = await TestBundleServer.start({ bundleContentType: true });
  let resolveNext: (() => void) | undefined;
  let parsed: unknown;
  const stages: Array<[number, number, number]> = [];
  const downloader = new BundleDownloader(
    'bench',
    { service: 'bench', polling: { min_delay_seconds: 60, max_delay_seconds: 60, long_polling_timeout_seconds: 30 } },
    new ServiceClient({ name: 'bench', url: server.url }),
    async ({ bytes }) => {
      const t0 = performance.now();
      const read = await readBundleArchive(bytes);
      const t1 = performance.now();
      const { files } = await verifyBundleSignatures(read, signing);
      const t2 = performance.now();
      parsed = files.filter((f) => f.path.endsWith('data.json')).map((f) => JSON.parse(f.data.toString('utf8')));
      stages.push([t1 - t0, t2 - t1, performance.now() - t2]);
      resolveNext?.();
    },
  );
  const times: number[] = [];
  let archiveBytes = 0;
  let rawBytes = 0;
  for (let i = 0; i <= iterations; i++) {
    const files = await signBundleFiles(make(i), privatePem, { algorithm: 'ES256', keyId: 'k' });
    rawBytes = files.reduce((n, f) => n + f.data.length, 0);
    const archive = await writeBundleArchive(files);
    archiveBytes = archive.length;
    const delivered = new Promise<void>((resolve) => (resolveNext = resolve));
    const start = process.hrtime.bigint();
    server.setBundle('bench', archive);
    if (i === 0) downloader.start();
    await delivered;
    if (i > 0) times.push(Number(process.hrtime.bigint() - start) / 1e6); // the first one includes connection set-up
  }
  await downloader.stop();
  await server.close();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`${label}: ${(rawBytes / 1e6).toFixed(2)} MB raw, ${(archiveBytes / 1e6).toFixed(2)} MB gzipped; publish → verified+parsed median ${median.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times.at(-1)!.toFixed(1)}, n=${times.length})`);
  const mid = (k: 0 | 1 | 2) => stages.slice(1).map((s) => s[k]).sort((a, b) => a - b)[Math.floor((stages.length - 1) / 2)]!.toFixed(1);
  console.log(`  of which: gunzip+untar ${mid(0)} ms, signature+digests ${mid(1)} ms, JSON.parse ${mid(2)} ms (medians); the rest is download and scheduling`);
  void parsed;
}

function heapMultiple(bytes: number): void {
  const files = bigDataBundle(0, bytes);
  const json = files[1]!.data.toString('utf8');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('heap multiple: run with node --expose-gc to measure');
    return;
  }
  gc();
  const before = process.memoryUsage().heapUsed;
  const value = JSON.parse(json);
  gc();
  const after = process.memoryUsage().heapUsed;
  console.log(`parsed data heap: ${((after - before) / 1e6).toFixed(1)} MB for ${(json.length / 1e6).toFixed(1)} MB of JSON = ${((after - before) / json.length).toFixed(1)}× (JSON.parse objects; the engine's store may differ)`);
  void value;
}

await measure('sample bundle', sampleBundle);
await measure('10 MB data bundle', (r) => bigDataBundle(r, 10_000_000));
heapMultiple(10_000_000);
