// Enrichment and decision latency with the PIP layer, in one run:
//   (a) no PIP: the gateway policy (compiled to wasm by the reference OPA, run under opa-wasm) on a ready input,
//   (b) warm cache: enrich from an http and an ldap adapter, then evaluate,
//   (c) cold cache: the same with caching off, so every decision asks both PIPs.
// PIPs are real and local: a node:http profile service and a private slapd on loopback.
// Usage: npm run bench:pip [-- seconds-per-phase]   (default 3)

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { createEnricher, type Enricher } from '../src/pip/index.js';
import { BASE, DIRECTORY_LDIF, READER_DN, READER_PASSWORD } from '../test/pip/fixtures/directory.js';
import { sendJson, startFixtureService, type FixtureService } from '../test/pip/fixtures/http-service.js';
import { startSlapd } from '../test/pip/fixtures/services.js';

const seconds = Number(process.argv[2] ?? 3);
const USERS = ['alice', 'bob', 'carol'];

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'verdict-bench-pip-'));
  const opa = execFileSync('bash', ['scripts/install-opa.sh']).toString().trim();
  execFileSync(opa, ['build', '-t', 'wasm', '-e', 'gateway/allow', '-o', join(work, 'bundle.tar.gz'), 'scripts/bench-pip/gateway.rego']);
  execFileSync('tar', ['-xzf', join(work, 'bundle.tar.gz'), '-C', work, '/policy.wasm'], { stdio: 'ignore' });
  const policy = await loadPolicy(readFileSync(join(work, 'policy.wasm')));

  const slapd = await startSlapd(DIRECTORY_LDIF);
  const profiles = await startFixtureService();
  const enrichers: Enricher[] = [];
  try {
    await measure(policy, slapd.url, profiles, enrichers);
  } finally {
    await Promise.all([...enrichers.map((e) => e.close()), profiles.close(), slapd.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

async function measure(policy: LoadedPolicy, ldapUrl: string, profiles: FixtureService, enrichers: Enricher[]): Promise<void> {
  profiles.route('GET', '/profiles/*', (req, res) => sendJson(res, 200, { plan: req.url?.endsWith('/carol') ? 'suspended' : 'gold' }));

  const pipConfig = (cache: Record<string, unknown>) => ({
    adapters: {
      profile: { type: 'http', cache, timeout: '5s', settings: { url: `${profiles.url}/profiles/{user}` } },
      groups: {
        type: 'ldap',
        cache,
        timeout: '5s',
        settings: {
          url: ldapUrl, bind_dn: READER_DN, bind_password: READER_PASSWORD, base: `ou=groups,${BASE}`,
          filter: `(&(objectClass=groupOfNames)(member=uid={user:dn},ou=people,${BASE}))`, result: 'values', value_attribute: 'cn',
        },
      },
    },
    enrich: [
      { paths: ['gateway'], adapter: 'profile', inputs: { user: 'input.subject.id' } },
      { paths: ['gateway'], adapter: 'groups', inputs: { user: 'input.subject.id' } },
    ],
  });
  const warm = createEnricher(pipConfig({ ttl: '10m' }));
  const cold = createEnricher(pipConfig({ ttl: 0, negative_ttl: 0 }));
  enrichers.push(warm, cold);
  let i = 0;
  const nextInput = () => ({ subject: { id: USERS[i++ % USERS.length] }, request: { method: 'GET', path: '/reports/q3' } });
  const preEnriched = new Map<string, unknown>();
  for (const user of USERS) preEnriched.set(user, (await warm.enrichInput('gateway/allow', { subject: { id: user }, request: { method: 'GET', path: '/reports/q3' } })).input);

  const evaluate = (input: unknown) => policy.evaluate(input) as { result: boolean }[];
  const decideWith = (enricher: Enricher) => async () => evaluate((await enricher.enrichInput('gateway/allow', nextInput())).input);
  const enrichOnly = (enricher: Enricher) => async () => void (await enricher.enrichInput('gateway/allow', nextInput()));
  const noPip = async () => evaluate(preEnriched.get(USERS[i++ % USERS.length]));

  const phases: [string, () => Promise<unknown>][] = [
    ['(a) decision, no PIP', noPip],
    ['(b) decision, warm cache (http + ldap)', decideWith(warm)],
    ['(c) decision, cold cache (http + ldap)', decideWith(cold)],
    ['enrichment only, warm cache', enrichOnly(warm)],
    ['enrichment only, cold cache', enrichOnly(cold)],
  ];
  console.log(`bench-pip: ${seconds}s per phase, sequential (1 in flight) then 16 in flight; node ${process.version}`);
  console.log('phase'.padEnd(42), 'p50 µs'.padStart(9), 'p99 µs'.padStart(9), 'mean µs'.padStart(9), 'seq/s'.padStart(9), 'conc16/s'.padStart(9));
  const summary: Record<string, { p50: number; mean: number }> = {};
  for (const [name, run] of phases) {
    for (let w = 0; w < 200; w++) await run();
    const seq = await sequential(run, seconds / 2);
    const conc = await concurrent(run, seconds / 2, 16);
    summary[name] = seq;
    console.log(name.padEnd(42), fmt(seq.p50), fmt(seq.p99), fmt(seq.mean), fmt(seq.rate), fmt(conc));
  }
  const base = summary['(a) decision, no PIP'];
  const withWarm = summary['(b) decision, warm cache (http + ldap)'];
  for (const stat of ['p50', 'mean'] as const) {
    const added = withWarm[stat] - base[stat];
    console.log(`warm-cache enrichment adds ${added.toFixed(1)} µs to the ${stat} decision (${((added / base[stat]) * 100).toFixed(0)}% of in-process wasm evaluation alone)`);
  }
}

async function sequential(run: () => Promise<unknown>, secs: number) {
  const samples: number[] = [];
  const end = performance.now() + secs * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await run();
    samples.push((performance.now() - t) * 1000);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((s, x) => s + x, 0) / samples.length, rate: samples.length / secs };
}

async function concurrent(run: () => Promise<unknown>, secs: number, inFlight: number): Promise<number> {
  let done = 0;
  const end = performance.now() + secs * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await run();
        done++;
      }
    }),
  );
  return done / secs;
}

function fmt(n: number): string {
  return (n >= 100 ? n.toFixed(0) : n.toFixed(1)).padStart(9);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
