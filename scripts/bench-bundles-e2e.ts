// Time from a new bundle being published on a (loopback, long-polling) bundle server to decisions of a running
// Verdict server using it: poll + download + signature check + parse + compile + activate, all through
// startServer as `verdict run` does, measured from the outside by deciding until the answer changes. Done for
// the sample bundle (bundles/sample, Rego compiled by the interim OPA compiler) and a 10 MB data bundle, then
// the memory the loaded 10 MB of data takes (JS heap, and wasm memory once a decision has copied it in) as a
// multiple of the raw JSON size.
//   npm run bench:bundles:e2e [-- iterations]      (builds, runs node --expose-gc)
import { generateKeyPairSync } from 'node:crypto';
import { pino } from 'pino';
import { readBundleDirectory, writeBundleArchive, type BundleFile } from '../src/bundle/files.js';
import { signBundleFiles } from '../src/bundle/signing.js';
import { startServer, type RunningServer } from '../src/server/start.js';
import { parseConfig } from '../src/config/config.js';
import { TestBundleServer } from '../test/bundle/bundle-server.js';
import { bigDataBundle } from './data-bundle.js';

const iterations = Number(process.argv[2] ?? 5);
const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const gc = (globalThis as { gc?: () => void }).gc;

const sampleFiles = await readBundleDirectory('bundles/sample');

/** The sample bundle whose trusted issuers include one naming the revision, so decisions show which is active. */
function sampleBundle(revision: number): BundleFile[] {
  return sampleFiles.map((f) => {
    if (f.path === '.manifest') return { ...f, data: Buffer.from(JSON.stringify({ ...JSON.parse(f.data.toString()), revision: `r${revision}` })) };
    if (f.path !== 'gateway/data.json') return f;
    const data = JSON.parse(f.data.toString()) as { trusted_issuers: string[] };
    return { ...f, data: Buffer.from(JSON.stringify({ ...data, trusted_issuers: [...data.trusted_issuers, `https://rev-${revision}.example/`] })) };
  });
}
const sampleDecision = {
  path: '/v1/data/gateway/authz/deny',
  input: (revision: number) => ({ token: { claims: { iss: `https://rev-${revision}.example/` } }, request: { method: 'GET', path: '/v1/projects/x', headers: {} } }),
  uses: (result: unknown) => Array.isArray(result) && !result.includes('token issuer is not trusted'),
};

const bigDecision = {
  path: '/v1/data/lookup/name',
  input: () => ({ id: 'u1' }),
  uses: (result: unknown, revision: number) => result === `user-1-${revision}`,
};

async function decide(server: RunningServer, path: string, input: unknown): Promise<unknown> {
  const res = await fetch(server.url + path, { method: 'POST', body: JSON.stringify({ input }), headers: { 'content-type': 'application/json' } });
  return ((await res.json()) as { result?: unknown }).result;
}

interface Decision {
  path: string;
  input(revision: number): unknown;
  uses(result: unknown, revision: number): boolean;
}

async function measure(label: string, make: (revision: number) => BundleFile[], decision: Decision, rounds = iterations): Promise<void> {
  const bundleServer = await TestBundleServer.start({ bundleContentType: true });
  const config = parseConfig(
    JSON.stringify({
      services: { bench: { url: bundleServer.url } },
      keys: { k: { key: publicPem, algorithm: 'ES256' } },
      bundles: { bench: { service: 'bench', signing: { keyid: 'k' }, polling: { min_delay_seconds: 60, max_delay_seconds: 60, long_polling_timeout_seconds: 30 } } },
    }),
    'bench config',
  );
  const server = await startServer({ addr: '127.0.0.1:0', config, bundlePaths: [], logger: pino({ level: 'silent' }) });
  const times: number[] = [];
  let archiveBytes = 0;
  let rawJsonBytes = 0;
  for (let i = 0; i <= rounds; i++) {
    const files = await signBundleFiles(make(i), privatePem, { algorithm: 'ES256', keyId: 'k' });
    rawJsonBytes = files.filter((f) => f.path.endsWith('.json') && f.path !== '.signatures.json').reduce((n, f) => n + f.data.length, 0);
    const archive = await writeBundleArchive(files);
    archiveBytes = archive.length;
    const started = performance.now();
    bundleServer.setBundle('bench', archive);
    while (!decision.uses(await decide(server, decision.path, decision.input(i)), i)) await new Promise((r) => setTimeout(r, 5));
    // The first one includes connecting and the first poll's scheduling.
    if (i > 0) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    `${label}: ${(rawJsonBytes / 1e3).toFixed(0)} kB of JSON, ${(archiveBytes / 1e3).toFixed(0)} kB gzipped; published → decisions use it: ` +
      `median ${median.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times.at(-1)!.toFixed(0)}, n=${times.length})`,
  );
  await server.close(1000);
  await bundleServer.close();
}

/** Memory of the loaded data: a server with nothing, then the same server with the 10 MB bundle decided once. */
async function memoryMultiple(bytes: number): Promise<void> {
  if (!gc) return console.log('memory: run with node --expose-gc to measure');
  const bundleServer = await TestBundleServer.start({ bundleContentType: true });
  const config = parseConfig(JSON.stringify({ services: { bench: { url: bundleServer.url } }, bundles: { bench: { service: 'bench', polling: { long_polling_timeout_seconds: 30 } } } }), 'bench config');
  // A first, tiny revision gets the policy compiled and its wasm memory allocated before the baseline.
  const files = bigDataBundle(1, bytes);
  bundleServer.setBundle('bench', await writeBundleArchive(bigDataBundle(0, 300)));
  const server = await startServer({ addr: '127.0.0.1:0', config, bundlePaths: [], logger: pino({ level: 'silent' }) });
  while ((await decide(server, bigDecision.path, bigDecision.input())) !== 'user-1-0') await new Promise((r) => setTimeout(r, 5));
  const archive = await writeBundleArchive(files);
  const rawJson = files[1]!.data.length;
  gc();
  const before = process.memoryUsage();
  bundleServer.setBundle('bench', archive);
  while ((await decide(server, bigDecision.path, bigDecision.input())) !== 'user-1-1') await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const after = process.memoryUsage();
  const heap = after.heapUsed - before.heapUsed;
  const outside = after.external + after.arrayBuffers - before.external - before.arrayBuffers;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  console.log(
    `memory for ${mb(rawJson)} MB of raw JSON once active and decided on: JS heap +${mb(heap)} MB (${(heap / rawJson).toFixed(1)}×), ` +
      `wasm memory and buffers +${mb(outside)} MB (${(outside / rawJson).toFixed(1)}×), total ${((heap + outside) / rawJson).toFixed(1)}×; rss ${mb(after.rss)} MB`,
  );
  await server.close(1000);
  await bundleServer.close();
}

await measure('sample bundle (Rego, compiled by the interim OPA compiler)', sampleBundle, sampleDecision);
await measure('10 MB data bundle, users grouped 100 per object (+ one-line policy)', (r) => bigDataBundle(r, 10_000_000), bigDecision);
await measure('10 MB data bundle, one flat object of ~120k users (+ one-line policy)', (r) => bigDataBundle(r, 10_000_000, 'flat'), bigDecision, 2);
await memoryMultiple(10_000_000);
