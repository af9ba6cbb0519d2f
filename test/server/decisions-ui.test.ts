// The auditors' page /ui/decisions in headless Chromium (Debian's chromium, driven by playwright-core): behind
// the admin JWT like the API, it lists the decisions, filters by principal, shows a decision's input and result,
// and charts decisions per minute by outcome. Needs /usr/bin/chromium (scripts/install-system-deps.sh installs
// it): skipped with the reason when it is missing, a failure under CI=true (test/peers.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { send, writeTree } from './harness.js';
import { TestAdminIdp } from './admin-idp.js';
import { requiredPeer } from '../peers.js';

const chromiumBinary = requiredPeer('chromium', () => (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined));
const idp = new TestAdminIdp();
const token = () => idp.token('audit');

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function server(): Promise<RunningServer> {
  const dir = writeTree({});
  const bundle = writeTree({
    '.manifest': JSON.stringify({ revision: 'ui-1', roots: ['authz'] }),
    'authz/policy.rego': 'package authz\n\ndefault allow := false\n\nallow if input.user == "alice"\n',
  });
  const config = `
persistence_directory: ${dir}/persist
decision_logs:
  store:
    file: ${dir}/decisions.db
${idp.config('    scopes:\n      decisions:read: audit\n')}`;
  const running = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'test config'), bundlePaths: [bundle], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
  cleanups.push(() => running.close(1000));
  return running;
}

test('the auditors page filters by principal, shows a decision and charts by outcome', { skip: chromiumBinary.skip }, async () => {
  const verdict = await server();
  const ids: Record<string, string[]> = {};
  for (const user of ['alice', 'bob', 'alice', 'carol', 'alice', 'bob']) {
    const res = await send(verdict.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user, nonce: `${user}-${Math.random()}` } }));
    (ids[user] ??= []).push(JSON.parse(res.body.toString()).decision_id);
  }
  await verdict.decisionLog!.flush();
  assert.equal((await send(verdict.url, 'GET', '/ui/decisions')).status, 401, 'the page needs the admin token too');

  const browser: Browser = await chromium.launch({
    executablePath: chromiumBinary.found,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  cleanups.push(() => browser.close());
  // The page and its API calls carry the bearer token, as through an auth proxy.
  const context = await browser.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${await token()}` } });
  const page = await context.newPage();
  await page.goto(`${verdict.url}/ui/decisions`);
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 6);

  // The chart has one minute (or two, at a minute boundary) with 3 allow and 3 deny in total.
  const bars = await page.$$eval('#chart rect', (rects) => rects.map((r) => ({ outcome: r.getAttribute('data-outcome'), count: Number(r.getAttribute('data-count')) })));
  const total = (outcome: string) => bars.filter((b) => b.outcome === outcome).reduce((a, b) => a + b.count, 0);
  assert.equal(total('allow'), 3);
  assert.equal(total('deny'), 3);

  await page.fill('#f-principal', 'bob');
  await page.click('#apply');
  await page.waitForFunction(() => [...document.querySelectorAll('#rows tr')].length === 2);
  const shown = await page.$$eval('#rows tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
  assert.deepEqual(shown.map((r) => r[2]), ['bob', 'bob']);
  assert.deepEqual(shown.map((r) => r[1]), ['deny', 'deny']);
  assert.deepEqual(new Set(shown.map((r) => r[4])), new Set(ids.bob));

  await page.click(`#rows tr[data-id="${ids.bob![0]}"]`);
  await page.waitForFunction(() => !(document.getElementById('detail') as HTMLElement).hidden && document.getElementById('detail')!.textContent!.includes('decision_id'));
  const detail = JSON.parse((await page.textContent('#detail'))!);
  assert.equal(detail.decision_id, ids.bob![0]);
  assert.equal(detail.input.user, 'bob');
  assert.equal(detail.result, false);
  await page.fill('#f-principal', 'alice');
  await page.selectOption('#f-outcome', 'deny');
  await page.click('#apply');
  await page.waitForFunction(() => document.getElementById('page-info')!.textContent === 'page 1, 0 decisions');
});
