// Integer settings in a discovered configuration against the reference OPA, which decodes each into an int64:
// a number above 2^53 (beyond a double's integers) is taken, one beyond int64 or written as 5.0 or 1e3 is
// refused. Each server has its own control plane; each value is served after a plain configuration was
// applied, so a refusal is told from a poll that has not come yet.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeBundleArchive } from '../../src/bundle/files.js';
import { TestBundleServer } from '../bundle/bundle-server.js';
import { tempDir } from '../bundle/temp-dir.js';
import { eventually } from '../eventually.js';
import { send, startOpa, startVerdict } from './harness.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const boot = (cpUrl: string) =>
  `services:\n  cp:\n    url: ${cpUrl}\nstatus:\n  console: false\n` +
  `discovery:\n  service: cp\n  resource: bundles/discovery\n  polling: { min_delay_seconds: 1, max_delay_seconds: 1 }\n`;

/** The discovery bundle's data.json, written as text so the number keeps the form under test. */
const discoveryBundle = (revision: string, maxDelay: string) =>
  writeBundleArchive([
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision })) },
    { path: 'data.json', data: Buffer.from(`{"bundles": {"authz": {"service": "cp", "resource": "bundles/authz", "polling": {"min_delay_seconds": 1, "max_delay_seconds": ${maxDelay}}}}}`) },
  ]);

async function controlPlane(): Promise<TestBundleServer> {
  const cp = await TestBundleServer.start();
  cleanups.push(() => cp.close());
  cp.setBundle('authz', await writeBundleArchive([{ path: '.manifest', data: Buffer.from('{"revision": "p1", "roots": ["authz"]}') }, { path: 'authz/policy.rego', data: Buffer.from('package authz\nallow := true\n') }]));
  return cp;
}

const discoveryStatus = async (url: string) => JSON.parse((await send(url, 'GET', '/v1/status')).body.toString()).result?.discovery as Record<string, string> | undefined;

/** Serves `maxDelay` after a plain configuration; true when the server applied it, false when it refused it. */
async function accepts(url: string, cp: TestBundleServer, step: number, maxDelay: string): Promise<boolean> {
  cp.setBundle('discovery', await discoveryBundle(`plain-${step}`, '2'));
  await eventually(`plain-${step} applied`, async () => (await discoveryStatus(url))?.active_revision === `plain-${step}`);
  cp.setBundle('discovery', await discoveryBundle(`tried-${step}`, maxDelay));
  const outcome = await eventually(`tried-${step} applied or refused`, async () => {
    const s = await discoveryStatus(url);
    return s?.active_revision === `tried-${step}` ? 'applied' : s?.code !== undefined ? `refused: ${s.message}` : undefined;
  });
  if (outcome !== 'applied') assert.match(outcome, /max_delay_seconds/);
  return outcome === 'applied';
}

const values = ['9007199254740993', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '5.0', '1e3'];

test('an integer setting above 2^53 in a discovered configuration is taken as OPA takes it; beyond int64 or not written as an integer, refused', async () => {
  const [opaCp, verdictCp] = [await controlPlane(), await controlPlane()];
  const dir = tempDir('verdict-discovery-numbers-');
  writeFileSync(join(dir, 'opa.yaml'), boot(opaCp.url));
  const opa = await startOpa(join(dir, 'opa.yaml'), []);
  cleanups.push(() => opa.stop());
  const verdict = await startVerdict(boot(verdictCp.url), []);
  cleanups.push(() => verdict.close());

  const run = async (url: string, cp: TestBundleServer) => {
    const outcomes: Record<string, boolean> = {};
    for (const [step, value] of values.entries()) outcomes[value] = await accepts(url, cp, step, value);
    return outcomes;
  };
  const [byOpa, byVerdict] = await Promise.all([run(opa.url, opaCp), run(verdict.url, verdictCp)]);
  assert.deepEqual(byVerdict, byOpa);
  assert.deepEqual(byOpa, { '9007199254740993': true, '9223372036854775807': true, '9223372036854775808': false, '-9223372036854775809': false, '5.0': false, '1e3': false });
  // A delay of that many seconds is longer than any timer: the policy bundle is not polled again meanwhile.
  const authzPolls = verdictCp.requests.filter((r) => r.path === '/bundles/authz').length;
  assert.ok(authzPolls < 200, `verdict polled the policy bundle ${authzPolls} times`);
});
