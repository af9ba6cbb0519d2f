// CPU cost of recording one decision on the request's thread: recordDecision (src/server/decisions.ts) through the
// DecisionLogger into the SQLite store's queue, with the gateway benchmark's input (rego/gateway/input.json, read as each build's server reads a request body) and
// the server's defaults (no drop or mask policy, default durability, credentials masked). The gateway input names
// no credential header, so its text is stored as it came; each round also records the same input with an
// Authorization and a Cookie header among its request headers, which the default erasure cuts out of the stored
// text (its line says "with credentials"; every such event is checked to have been stored without them). The
// writer thread's work is not counted: only the event-loop thread's CPU time, read from Linux's
// /proc/thread-self/schedstat.
//   npm run bench:event-record                       (BENCH_SECONDS=3 per round, BENCH_ROUNDS=3)
//   npm run bench:event-record -- --baseline DIR     A/B against another build's dist/ directory, rounds
//                                                    interleaved so both see the same machine load
//   npm run bench:event-record -- --cold             each decision follows other work, as in a server: the
//                                                    request's JSON parsed and 64 KB read and written across a
//                                                    4 MB buffer, evicting what the last decision left in the
//                                                    caches; the same loop without recording is measured too and
//                                                    the record step is the difference (two to three times its
//                                                    cost in the tight loop, as between a server's requests)
//   npm run bench:event-record -- --apart MICROSECONDS
//                                                    dates each decision that long after the one before, as a
//                                                    server thread answering one request every so often dates
//                                                    them (1000: one a millisecond), instead of by the clock,
//                                                    where the tight loop makes thousands a millisecond: the work
//                                                    done once per millisecond is then counted as a server does it
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Decisions from '../src/server/decisions.js';
import type * as Logger from '../src/decisionlog/logger.js';
import type * as Store from '../src/decisionlog/store.js';
import type * as Body from '../src/server/body.js';
import type { WatchedMember } from '../src/json/reader.js';
import type { ServerContext } from '../src/server/context.js';
import { callingThreadCpuNs } from './process-tree.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const { values } = parseArgs({ options: { baseline: { type: 'string' }, cold: { type: 'boolean', default: false }, apart: { type: 'string' } } });
const apartNs = values.apart === undefined ? undefined : BigInt(Math.round(Number(values.apart) * 1000));
if (apartNs !== undefined && !(apartNs > 0n)) throw new Error(`--apart ${values.apart}: a number of microseconds above 0`);

/** A request's input as the build's server reads it from the request's body. */
interface ReadInput {
  input: unknown;
  inputText: Uint8Array;
  /** Whether the build's reader found no credential header name among the body's keys (builds before it: absent). */
  inputCredentialFree?: boolean;
  /** Where the build's reader found the credential headers' members (builds before it: absent). */
  inputCredentialMembers?: readonly WatchedMember[];
  /** Whether the build's reader knew the input's text to be valid UTF-8 (builds before it: absent). */
  inputValidUtf8?: boolean;
}

interface Build {
  name: string;
  /** The gateway input, and the same with credential headers (withCredentials). */
  plain: ReadInput;
  credentials: ReadInput;
  decisions: typeof Decisions;
  logger: typeof Logger;
  store: typeof Store;
}

async function load(name: string, dist: string): Promise<Build> {
  const at = (path: string) => pathToFileURL(join(dist, path)).href;
  const { parseEnvelope } = (await import(at('src/server/body.js'))) as typeof Body;
  const read = (text: string): ReadInput => {
    const read = parseEnvelope(Buffer.from(text), false, 'input') as ReturnType<typeof parseEnvelope> & { credentialFree?: boolean; credentialMembers?: WatchedMember[]; validUtf8?: boolean };
    return { input: (read.value as { input: unknown }).input, inputText: read.memberText!, inputCredentialFree: read.credentialFree, inputCredentialMembers: read.credentialMembers, inputValidUtf8: read.validUtf8 };
  };
  return {
    name,
    plain: read(body),
    credentials: read(bodyWithCredentials),
    decisions: (await import(at('src/server/decisions.js'))) as typeof Decisions,
    logger: (await import(at('src/decisionlog/logger.js'))) as typeof Logger,
    store: (await import(at('src/decisionlog/store.js'))) as typeof Store,
  };
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const body = readFileSync(join(root, 'rego/gateway/input.json'), 'utf8');
/** The credential headers the default erasure removes, as a gateway forwards them. */
const credentialHeaders = {
  authorization: 'Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjYXJvbEBleGFtcGxlLmNvbSIsInRlbmFudCI6ImFjbWUifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg',
  cookie: 'session=5f2b8c1e9a7d4e3f; csrf=0a1b2c3d4e5f',
};
/** The gateway input's body with credentialHeaders among its request's headers, laid out as the file is. */
const bodyWithCredentials = (() => {
  const parsed = JSON.parse(body) as { input: { request: { headers: Record<string, string> } } };
  Object.assign(parsed.input.request.headers, credentialHeaders);
  return JSON.stringify(parsed, null, 2) + '\n';
})();
const erasedPaths = Object.keys(credentialHeaders).map((name) => `/input/request/headers/${name}`);
const bundles = [{ name: 'bench', manifest: { revision: 'bench' } }];

/** Memory other work touches between two decisions (--cold). */
const elsewhere = Buffer.alloc(4 << 20);

function otherWork(n: number): void {
  JSON.parse(body);
  for (let j = 0; j < 1024; j++) elsewhere[((n * 7919 + j * 1031) * 64) & (elsewhere.length - 1)]++;
}

type Case = 'plain' | 'credentials';

/** CPU µs per decision of the loop, recording (or, with record false, only the rest of the loop). */
async function measure(build: Build, which: Case, record = true): Promise<number> {
  const { input, inputText, inputCredentialFree, inputCredentialMembers, inputValidUtf8 } = build[which];
  const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-event-record-'));
  const store = new build.store.DecisionLogStore({ file: join(dir, 'decisions.db'), durability: 'default' });
  const logger = new build.logger.DecisionLogger(store, { evaluate: () => Promise.resolve({}), defined: () => false });
  const ctx = {
    onDecision: record ? (event: Parameters<typeof logger.log>[0], hints: Parameters<typeof logger.log>[1]) => void logger.log(event, hints) : undefined,
    labels: Object.freeze({ id: 'bench-instance-0001', version: '0.1.0' }),
    engine: { bundles },
  } as unknown as ServerContext;
  let made = 0;
  const first = process.hrtime.bigint();
  const deadline = performance.now() + seconds * 1000;
  const before = callingThreadCpuNs();
  while (performance.now() < deadline) {
    for (let i = 0; i < 200; i++) {
      if (values.cold) otherWork(made);
      const started = process.hrtime.bigint();
      // The evaluation's end, as a server reads it for its timers; builds that take it (`at`) date the event by it.
      const now = process.hrtime.bigint();
      const end = apartNs === undefined ? now : first + BigInt(made) * apartNs;
      build.decisions.recordDecision(ctx, {
        path: ['gateway', 'authz', 'allow'],
        input,
        inputText,
        inputCredentialFree,
        inputCredentialMembers,
        inputValidUtf8,
        evaluated: {
          defined: true,
          result: made % 10 !== 0,
          metrics: { counter_server_query_cache_hit: 1, timer_rego_input_parse_ns: 21000, timer_rego_query_eval_ns: 41000 + (made % 977), timer_server_handler_ns: Number(now - started) },
        },
        at: end,
        requestedBy: '127.0.0.1:54321',
        reqId: ++made,
      });
    }
    // Let the writer thread's replies in, as a server's event loop would between requests. A server records at the
    // rate requests come, which the writer keeps up with: when the queue runs ahead of it, wait for the writer
    // (idle time, not counted) rather than measure the back-pressure path, whose waiters a server never piles up.
    await new Promise((resolve) => setImmediate(resolve));
    while (store.status().queue_length > 4_000) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await store.flush();
  const cpu = callingThreadCpuNs() - before;
  const written = store.status().written;
  if (record && which === 'credentials') checkErased(build, store);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (written !== (record ? made : 0)) throw new Error(`${build.name}: ${made} events recorded, ${written} written`);
  return cpu / 1000 / made;
}

/** Fails the run unless every stored event lost exactly the credential headers: the figure is the erasure's. */
function checkErased(build: Build, store: InstanceType<typeof Store.DecisionLogStore>): void {
  const events = store.db.prepare('SELECT event FROM decisions').pluck().all() as string[];
  const kept = events.filter((text) => {
    const event = JSON.parse(text) as { erased?: string[]; input: { request: { headers: Record<string, string> } } };
    const headers = event.input.request.headers;
    return Object.keys(credentialHeaders).some((name) => name in headers) || [...(event.erased ?? [])].sort().join() !== [...erasedPaths].sort().join();
  });
  if (kept.length > 0) throw new Error(`${build.name}: ${kept.length} of ${events.length} events stored with credentials or without their erased list`);
}

const builds = [await load('this build', join(root, 'dist'))];
if (values.baseline) builds.unshift(await load(`baseline ${values.baseline}`, values.baseline));
const cases: Case[] = ['plain', 'credentials'];
const label = (build: Build, which: Case) => (which === 'plain' ? build.name : `${build.name}, with credentials`);
const results = new Map<string, number[]>(builds.flatMap((b) => cases.map((c) => [label(b, c), []] as [string, number[]])));
for (let round = 0; round < rounds; round++) {
  for (const which of cases) {
    for (const build of builds) results.get(label(build, which))!.push(values.cold ? (await measure(build, which)) - (await measure(build, which, false)) : await measure(build, which));
  }
}
const setting =
  (values.cold ? ', each after other work (--cold): loop with recording minus loop without' : '') + (apartNs === undefined ? '' : `, decisions dated ${values.apart} µs apart (--apart)`);
const sizes = `gateway input ${builds[0].plain.inputText.length} B, with credentials ${builds[0].credentials.inputText.length} B`;
console.log(`CPU µs per recorded event on the event-loop thread (${rounds} round(s) of ${seconds} s, ${sizes}, node ${process.version}${setting})`);
for (const [name, us] of results) {
  const sorted = [...us].sort((a, b) => a - b);
  console.log(`${name.padEnd(56)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)}  (rounds: ${us.map((u) => u.toFixed(2)).join(', ')})`);
}
