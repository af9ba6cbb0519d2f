// Regenerates docs/images/decisions-workbench.png: a server with the admin API and a decision log on loopback,
// some decisions on a small policy, and the workbench in headless Chromium (/usr/bin/chromium) with a decision
// open beside the table.
//   npm run docs:screenshots
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { parseConfig } from '../src/config/config.js';
import { startServer } from '../src/server/start.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(repoRoot, 'docs/images/decisions-workbench.png');
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const dir = mkdtempSync(join(tmpdir(), 'verdict-screenshot-'));
const bundle = join(dir, 'bundle');
mkdirSync(join(bundle, 'gateway'), { recursive: true });
writeFileSync(join(bundle, '.manifest'), JSON.stringify({ revision: '2024-05-01', roots: ['gateway'] }));
writeFileSync(join(bundle, 'gateway/policy.rego'), 'package gateway\n\ndefault allow := false\n\nallow if input.method == "GET"\n\nallow if {\n\tinput.method == "POST"\n\tinput.user in {"alice", "bob"}\n}\n');
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
const server = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'screenshot config'), bundlePaths: [bundle], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
try {
  const users = ['alice', 'bob', 'carol', 'dave', 'svc-reporting'];
  for (let i = 0; i < 40; i++) {
    const input = { user: users[i % users.length], method: i % 3 ? 'POST' : 'GET', path: `/orders/${i}` };
    await fetch(`${server.url}/v1/data/gateway/allow`, { method: 'POST', body: JSON.stringify({ input }) });
  }
  await server.decisionLog!.flush();
  const token = await new SignJWT({ scope: 'decisions:read' }).setProtectedHeader({ alg: 'ES256' }).setIssuer('https://idp.example/').setAudience('verdict-admin').setExpirationTime('5m').sign(keys.privateKey);
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
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: false });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
} finally {
  await server.close(1000);
  rmSync(dir, { recursive: true, force: true });
}
