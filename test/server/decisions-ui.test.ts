// The auditors' workbench /ui/decisions in headless Chromium (Debian's chromium, driven by playwright-core): a
// browser signs in without a proxy (token in sessionStorage, no cookie), filters round-trip through the URL,
// the keyboard reaches every row, the detail opens beside the table, an invalid filter clears stale results and
// names the problem, the export downloads what the filter shows, and markup in logged values stays inert under
// the page's CSP. Needs /usr/bin/chromium (scripts/install-system-deps.sh installs it): skipped with the reason
// when it is missing, a failure under CI=true (test/peers.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseConfig } from '../../src/config/config.js';
import { writeBundleArchive } from '../../src/bundle/files.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { send, writeTree } from './harness.js';
import { TestAdminIdp } from './admin-idp.js';
import { requiredPeer } from '../peers.js';

const chromiumBinary = requiredPeer('chromium', () => (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined));
const idp = new TestAdminIdp();
const xss = '<img src=x onerror="window.__xss=1">';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function server(): Promise<RunningServer> {
  const dir = writeTree({});
  const bundle = writeTree({
    '.manifest': JSON.stringify({ revision: 'ui-1', roots: ['authz'] }),
    'authz/policy.rego': 'package authz\n\ndefault allow := false\n\nallow if input.user == "alice"\nallow if input.user == "alicia"\n',
  });
  const config = idp.auditConfig(dir, '    scopes:\n      decisions:read: audit\n');
  const running = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'test config'), bundlePaths: [bundle], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
  cleanups.push(() => running.close(1000));
  return running;
}

async function browser(): Promise<Browser> {
  const b = await chromium.launch({
    executablePath: chromiumBinary.found,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  cleanups.push(() => b.close());
  return b;
}

const rowIds = (page: Page) => page.$$eval('#rows tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));
const rowCells = (page: Page) => page.$$eval('#rows tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
const waitRows = (page: Page, n: number) => page.waitForFunction((n) => document.getElementById('page-info')!.textContent!.startsWith(`page 1, ${n} decisions`), n);

test('the workbench: sign-in, URL filters, keyboard, detail beside the table, errors, export, inert markup', { skip: chromiumBinary.skip }, async () => {
  const verdict = await server();
  const ids: Record<string, string[]> = {};
  for (const user of ['alice', 'bob', 'alice', 'carol', 'alicia', xss]) {
    const res = await send(verdict.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user, nonce: `${user}-${Math.random()}` } }));
    (ids[user] ??= []).push(JSON.parse(res.body.toString()).decision_id);
  }
  await verdict.decisionLog!.flush();

  // The page is open (it holds no data) and locked down; the API behind it is not open.
  const raw = await fetch(`${verdict.url}/ui/decisions`);
  assert.equal(raw.status, 200);
  const csp = raw.headers.get('content-security-policy')!;
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(raw.headers.get('x-frame-options'), 'DENY');
  assert.equal((await send(verdict.url, 'GET', '/v1/decisions')).status, 401);

  const b = await browser();
  const context = await b.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto(`${verdict.url}/ui/decisions`);

  // Sign-in without a proxy: a refused token is named, a good one opens the workbench.
  await page.waitForSelector('#signin:not([hidden])');
  await page.fill('#token', 'not-a-token');
  await page.click('#signin-submit');
  await page.waitForFunction(() => /refused/.test(document.getElementById('signin-error')!.textContent!));
  await page.fill('#token', `Bearer ${await idp.token('audit')}`);
  await page.click('#signin-submit');
  await waitRows(page, 6);
  assert.deepEqual(await context.cookies(), [], 'no cookie carries the session');
  assert.equal(await page.evaluate(() => typeof sessionStorage.getItem('verdict-admin-token')), 'string');

  // Markup in a logged value is text, never markup, and nothing broke the CSP.
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  assert.equal(await page.$$eval('#rows img', (imgs) => imgs.length), 0);
  assert.ok((await rowCells(page)).some((r) => r[2] === xss));
  assert.deepEqual(violations, []);

  // The chart has axes, a legend and 3 allow / 3 deny bars in total.
  const bars = await page.$$eval('#chart rect[data-outcome]', (rects) => rects.map((r) => ({ outcome: r.getAttribute('data-outcome'), count: Number(r.getAttribute('data-count')) })));
  const total = (outcome: string) => bars.filter((x) => x.outcome === outcome).reduce((a, x) => a + x.count, 0);
  assert.equal(total('allow'), 3);
  assert.equal(total('deny'), 3);
  assert.deepEqual(await page.$$eval('#chart text.legend', (t) => t.map((x) => x.textContent)), ['allow', 'deny', 'error', 'undefined', 'other']);
  assert.ok((await page.$$eval('#chart text.y-tick', (t) => t.map((x) => x.textContent))).includes('0'));
  assert.equal(await page.$$eval('#chart line.axis', (l) => l.length >= 2), true);

  // Principal "contains", applied: in the URL, and the URL restores it after a reload.
  await page.fill('#f-principal', 'LIC');
  await page.click('#apply');
  await waitRows(page, 3);
  assert.equal(new URL(page.url()).searchParams.get('principal_contains'), 'LIC');
  const matched = new Set([...ids.alice!, ...ids.alicia!]);
  assert.deepEqual(new Set(await rowIds(page)), matched);
  await page.reload();
  await waitRows(page, 3);
  assert.equal(await page.inputValue('#f-principal'), 'LIC');
  assert.deepEqual(new Set(await rowIds(page)), matched);

  // Keyboard: every row is reached with the arrow keys from the first, Enter opens it beside the table.
  await page.focus('#rows tr');
  const reached = [await page.evaluate(() => (document.activeElement as HTMLElement).dataset.id)];
  for (let i = 1; i < 3; i++) {
    await page.keyboard.press('ArrowDown');
    reached.push(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.id));
  }
  assert.deepEqual(reached, await rowIds(page));
  assert.equal(await page.$$eval('#rows tr', (rows) => rows.every((r) => (r as HTMLElement).tabIndex === 0)), true, 'Tab reaches every row too');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#detail:not([hidden])');
  const detail = JSON.parse((await page.textContent('#detail-json'))!);
  assert.equal(detail.decision_id, reached[2]);
  assert.match((await page.textContent('#detail-summary'))!, /ui-1/, 'the bundle revision is shown');
  const table = (await page.locator('#results').boundingBox())!;
  const aside = (await page.locator('#detail').boundingBox())!;
  assert.ok(aside.x >= table.x + table.width - 1 && aside.y < table.y + table.height, `detail beside the table: ${JSON.stringify({ table, aside })}`);

  // Export: what the filter shows, as NDJSON and as CSV.
  const [ndjson] = await Promise.all([page.waitForEvent('download'), page.click('#export-ndjson')]);
  const events = readFileSync((await ndjson.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(new Set(events.map((e) => e.decision_id)), matched);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const lines = readFileSync((await csv.path())!, 'utf8').trim().split('\n');
  assert.match(lines[0]!, /^timestamp,decision_id,path,outcome,principal/);
  assert.equal(lines.length, 4);

  // An invalid filter clears what was shown and names the parameter.
  await page.fill('#f-principal', '');
  await page.fill('#f-field', 'input..user=alice');
  await page.click('#apply');
  await page.waitForFunction(() => /input\.\.user/.test(document.getElementById('message')!.textContent!));
  assert.equal((await rowIds(page)).length, 0);
  assert.equal(await page.$$eval('#chart rect', (r) => r.length), 0);
  assert.equal(await page.isHidden('#detail'), true);
  await page.fill('#f-field', 'user=alice');
  await page.click('#apply');
  await page.waitForFunction(() => /input\.a\.b=VALUE/.test(document.getElementById('message')!.textContent!));

  // Input-field and decision-id filters; date pickers and relative ranges.
  await page.fill('#f-field', 'input.user=bob');
  await page.click('#apply');
  await waitRows(page, 1);
  assert.deepEqual(await rowIds(page), ids.bob);
  await page.fill('#f-field', '');
  await page.fill('#f-decision-id', ids.carol![0]!);
  await page.click('#apply');
  await waitRows(page, 1);
  assert.deepEqual(await rowIds(page), ids.carol);
  await page.fill('#f-decision-id', '');
  await page.selectOption('#f-range', '1h');
  await page.click('#apply');
  await waitRows(page, 6);
  assert.equal(new URL(page.url()).searchParams.get('range'), '1h');
  await page.selectOption('#f-range', '');
  await page.fill('#f-since', '2099-01-01T00:00:00');
  await page.click('#apply');
  await waitRows(page, 0);
  assert.match(new URL(page.url()).searchParams.get('since')!, /^2099-01-01T\d\d:00:00\.000Z$|^2098-12-31T\d\d:00:00\.000Z$/);

  // A bookmarked link opens with its filters, here behind a proxy that adds the header (no sign-in needed).
  const proxied = await b.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${await idp.token('audit')}` } });
  const shared = await proxied.newPage();
  await shared.goto(`${verdict.url}/ui/decisions?principal_prefix=ali&outcome=allow`);
  await waitRows(shared, 3);
  assert.equal(await shared.inputValue('#f-principal-mode'), 'prefix');
  assert.equal(await shared.inputValue('#f-principal'), 'ali');
  assert.equal(await shared.inputValue('#f-outcome'), 'allow');
  assert.equal(await shared.isHidden('#signout'), true);

  // Signing out forgets the token.
  await page.click('#signout');
  await page.waitForSelector('#signin:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('verdict-admin-token')), null);
  assert.equal((await rowIds(page)).length, 0);
});

test('GET /v1/decisions/export streams every match as NDJSON or CSV and refuses bad parameters by name', async () => {
  const verdict = await server();
  for (const user of ['=cmd|calc', 'dana, "the admin"', 'erin']) {
    await send(verdict.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user } }));
  }
  await verdict.decisionLog!.flush();
  const auth = await idp.bearer('audit');
  const csv = await send(verdict.url, 'GET', '/v1/decisions/export?format=csv', undefined, auth);
  assert.equal(csv.status, 200);
  assert.match(String(csv.headers['content-disposition']), /attachment; filename="decisions\.csv"/);
  const text = csv.body.toString();
  assert.ok(text.includes(`'=cmd|calc`), 'a formula is defused');
  assert.ok(text.includes('"dana, ""the admin"""'), 'commas and quotes are quoted');
  const ndjson = await send(verdict.url, 'GET', '/v1/decisions/export?principal=erin', undefined, auth);
  assert.deepEqual(ndjson.body.toString().trim().split('\n').map((l) => JSON.parse(l).input.user), ['erin']);
  for (const [query, message] of [['format=xml', /format must be ndjson or csv/], ['limit=5', /limit does not apply to an export/], ['since=soon', /since must be an RFC3339/]] as const) {
    const res = await send(verdict.url, 'GET', `/v1/decisions/export?${query}`, undefined, auth);
    assert.equal(res.status, 400, query);
    assert.match(JSON.parse(res.body.toString()).message, message);
  }
  assert.equal((await send(verdict.url, 'GET', '/v1/decisions/export')).status, 401);
});

test('the impact view dry-runs a bundle from the browser and lists what would change; nothing is activated', { skip: chromiumBinary.skip }, async () => {
  const dir = writeTree({});
  const config = idp.auditConfig(dir, '    scopes:\n      decisions:read: audit\n');
  const verdict = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'test config'), bundlePaths: [], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
  cleanups.push(() => verdict.close(1000));
  const tarball = (revision: string, users: string[]) =>
    writeBundleArchive([
      { path: '.manifest', data: Buffer.from(JSON.stringify({ revision, roots: ['authz'] })) },
      { path: 'authz/policy.rego', data: Buffer.from(`package authz\n\ndefault allow := false\n\nallow if input.user in ${JSON.stringify(users)}\n`) },
    ]);
  const admin = { ...(await idp.bearer('audit bundles:write')), 'Content-Type': 'application/gzip' };
  assert.equal((await send(verdict.url, 'PUT', '/v1/bundles/authz', await tarball('v1', ['alice', 'bob']), admin)).status, 200);
  const ids: Record<string, string> = {};
  for (const user of ['alice', 'bob', 'carol']) {
    const res = await send(verdict.url, 'POST', '/v1/data/authz/allow', JSON.stringify({ input: { user } }));
    ids[user] = JSON.parse(res.body.toString()).decision_id;
  }
  const candidate = join(dir, 'v2.tar.gz');
  writeFileSync(candidate, await tarball('v2', ['alice', 'carol']));

  const page = await (await (await browser()).newContext()).newPage();
  await page.goto(`${verdict.url}/ui/decisions`);
  await page.fill('#token', await idp.token('audit bundles:write'));
  await page.click('#signin-submit');
  await waitRows(page, 3);
  await page.click('#impact summary');
  await page.fill('#i-name', 'authz');
  await page.setInputFiles('#i-file', candidate);
  await page.click('#i-run');
  await page.waitForSelector('#impact-report:not([hidden])');
  assert.equal(await page.textContent('#impact-summary'), 'Revision v2: replayed 3 of 3 decisions, 2 would change.');
  const changes = await page.$$eval('#impact-changes tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
  assert.deepEqual(new Set(changes.map((c) => c[0])), new Set([ids.bob, ids.carol]));
  assert.deepEqual(changes.find((c) => c[0] === ids.bob)!.slice(2), ['allow→deny', 'true', 'false']);
  const bundle = JSON.parse((await send(verdict.url, 'GET', '/v1/bundles/authz', undefined, await idp.bearer('bundles:read'))).body.toString()).result;
  assert.deepEqual([bundle.revision, bundle.activations], ['v1', 1], 'the dry run activated nothing');

  // A changed decision opens in the table.
  await page.click(`#impact-changes a:text("${ids.carol}")`);
  await waitRows(page, 1);
  assert.deepEqual(await rowIds(page), [ids.carol]);
  assert.equal(new URL(page.url()).searchParams.get('decision_id'), ids.carol);
});
