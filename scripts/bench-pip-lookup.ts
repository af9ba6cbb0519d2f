// CPU and wall time per lookup of the PIP `http` adapter alone (no cache, no decision), against a small JSON
// service in a child process, so the figures are the client's own cost. With --baseline <dist> (another build's
// dist/ directory) the two builds take turns round by round and both are printed.
//   npm run bench:pip-lookup [-- --lookups 2000 --rounds 6 --concurrency 16 --baseline /work/wt/base/dist]
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpAdapter } from '../src/pip/adapters/http.js';

const { values } = parseArgs({
  options: { lookups: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '6' }, concurrency: { type: 'string', default: '16' }, baseline: { type: 'string' } },
});
const lookups = Number(values.lookups);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);

const SERVICE = `
const body = JSON.stringify({ data: { plan: 'gold', seats: 5, region: 'eu-west-1' } });
const s = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)); });
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
const service = spawn(process.execPath, ['-e', SERVICE], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((done) => service.stdout.once('data', (d: Buffer) => done(Number(d.toString()))));

type Lookup = { lookup(params: Record<string, string>, signal: AbortSignal): Promise<unknown> };
type AdapterClass = new (name: string, settings: unknown, timeoutMs: number) => Lookup;
const settings = { url: `http://127.0.0.1:${port}/users/{user}`, pick: 'data.plan' };
const builds: [string, Lookup][] = [['this build', new HttpAdapter('svc', settings as never, 5000)]];
if (values.baseline) {
  const base = (await import(resolve(values.baseline, 'src/pip/adapters/http.js'))) as { HttpAdapter: AdapterClass };
  builds.push([`baseline ${values.baseline}`, new base.HttpAdapter('svc', settings, 5000)]);
}

/** Lookups with `inFlight` at a time: client CPU µs and wall µs per lookup. Every answer is checked. */
async function measure(adapter: Lookup, inFlight: number): Promise<[number, number]> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < lookups) {
        const answer = await adapter.lookup({ user: `user-${next++}` }, new AbortController().signal);
        if (answer !== 'gold') throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return [(cpu.user + cpu.system) / lookups, Number(process.hrtime.bigint() - t0) / 1000 / lookups];
}

const samples = new Map(builds.map(([name]) => [name, { seq: [] as [number, number][], par: [] as [number, number][] }]));
for (const [, adapter] of builds) await measure(adapter, concurrency); // warm-up: connections and JIT
for (let round = 0; round < rounds; round++) {
  for (const [name, adapter] of round % 2 ? [...builds].reverse() : builds) {
    samples.get(name)!.seq.push(await measure(adapter, 1));
    samples.get(name)!.par.push(await measure(adapter, concurrency));
  }
}
service.kill();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1].toFixed(1);
console.log(`PIP http adapter, ${lookups} uncached lookups per round, ${rounds} rounds (builds taking turns), medians; node ${process.version}`);
console.log(`${'build'.padEnd(40)} seq cpu µs  seq wall µs  c${concurrency} cpu µs  c${concurrency} wall µs   (per lookup, client process)`);
for (const [name, { seq, par }] of samples) {
  console.log(`${name.padEnd(40)} ${median(seq.map((s) => s[0])).padStart(10)}  ${median(seq.map((s) => s[1])).padStart(11)}  ${median(par.map((s) => s[0])).padStart(10)}  ${median(par.map((s) => s[1])).padStart(11)}`);
}
