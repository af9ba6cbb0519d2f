// Regenerates docs/images/decisions-workbench.png and docs/images/decisions-impact.png: a server with the admin
// API and a decision log on loopback, an uploaded policy and some decisions, and the workbench in headless
// Chromium (/usr/bin/chromium) with a decision open beside the table, then the impact view's dry run of a change.
//   npm run docs:screenshots
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { writeBundleArchive } from '../src/bundle/files.js';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { parseConfig } from '../src/config/config.js';
import { startServer } from '../src/server/start.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const images = join(repoRoot, 'docs/images');
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const dir = mkdtempSync(join(tmpdir(), 'verdict-screenshot-'));
const policy = (writers: string[]) =>
  `package gateway\n\ndefault allow := false\n\nallow if input.method == "GET"\n\nallow if {\n\tinput.method == "POST"\n\tinput.user in ${JSON.stringify(writers)}\n}\n`;
const bundle = (revision: string, writers: string[]) =>
  writeBundleArchive([
    { path: '.manifest', data: Buffer.from(JSON.stringify({ revision, roots: ['gateway'] })) },
    { path: 'gateway/policy.rego', data: Buffer.from(policy(writers)) },
  ]);
const sign = (scope: string) =>
  new SignJWT({ scope }).setProtectedHeader({ alg: 'ES256' }).setIssuer('https://idp.example/').setAudience('verdict-admin').setExpirationTime('5m').sign(keys.privateKey);
const config = `
persistence_directory: ${dir}/persist
decision_logs:
  store:
    file: ${dir}/decisions.db
admin_api:
  auth:
    keys:
      - key: ${JSON.stringify(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString())}
    issuer: https://idp.example/
    audience: verdict-admin
`;
const server = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'screenshot config'), bundlePaths: [], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
try {
  const token = await sign('decisions:read bundles:write');
  await fetch(`${server.url}/v1/bundles/gateway`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: new Uint8Array(await bundle('2024-05-01', ['alice', 'bob', 'svc-reporting'])) });
  const candidate = join(dir, 'gateway-2024-05-02.tar.gz');
  writeFileSync(candidate, await bundle('2024-05-02', ['alice']));
  const users = ['alice', 'bob', 'carol', 'dave', 'svc-reporting'];
  for (let i = 0; i < 40; i++) {
    const input = { user: users[i % users.length], method: i % 3 ? 'POST' : 'GET', path: `/orders/${i}` };
    await fetch(`${server.url}/v1/data/gateway/allow`, { method: 'POST', body: JSON.stringify({ input }) });
  }
  await server.decisionLog!.flush();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await page.goto(`${server.url}/ui/decisions`);
    await page.waitForSelector('#signin:not([hidden])');
    await page.fill('#token', token);
    await page.click('#signin-submit');
    await page.waitForSelector('#rows tr');
    await page.selectOption('#f-principal-mode', 'contains');
    await page.fill('#f-principal', 'a');
    await page.click('#apply');
    await page.waitForFunction(() => /^page 1/.test(document.getElementById('page-info')!.textContent!));
    await page.focus('#rows tr:nth-child(2)');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail:not([hidden])');
    mkdirSync(images, { recursive: true });
    await page.screenshot({ path: join(images, 'decisions-workbench.png') });
    await page.click('#impact summary');
    await page.fill('#i-name', 'gateway');
    await page.setInputFiles('#i-file', candidate);
    await page.click('#i-run');
    await page.waitForSelector('#impact-report:not([hidden])');
    await page.locator('#impact').screenshot({ path: join(images, 'decisions-impact.png') });
    console.log(`wrote ${images}/decisions-workbench.png and decisions-impact.png`);
  } finally {
    await browser.close();
  }
} finally {
  await server.close(1000);
  rmSync(dir, { recursive: true, force: true });
}
