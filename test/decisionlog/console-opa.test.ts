// Differential test: a console decision log line (decision_logs.console) carries the fields OPA's does, with
// its time written as OPA's logger writes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { opaBinary, startServer, type RunningOpa } from './opa.js';
import { eventually } from '../eventually.js';

const RFC3339_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

async function decisionLine(server: RunningOpa): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}/v1/data/test/allow`, { method: 'POST', body: JSON.stringify({ input: { user: 'alice' } }) });
  const { decision_id } = (await response.json()) as { decision_id: string };
  return eventually('the decision log line', () => server.logLines.find((l) => l.msg === 'Decision Log' && l.decision_id === decision_id));
}

test('a console decision log line has the fields of OPA\'s, and its time to the second', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-console-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'p.rego'), 'package test\n\nallow := input.user == "alice"\n');
  const args = ['--log-level', 'info', '--set', 'decision_logs.console=true', dir];
  const [opa, ours] = await Promise.all([startServer([opaBinary()], args), startServer([process.execPath, join(process.cwd(), 'dist/src/main.js')], args)]);
  const [opaLine, ourLine] = [await decisionLine(opa), await decisionLine(ours)];
  assert.deepEqual(Object.keys(ourLine).sort(), Object.keys(opaLine).sort());
  assert.deepEqual(Object.keys(ourLine.metrics as object).sort(), Object.keys(opaLine.metrics as object).sort());
  assert.match(String(opaLine.time), RFC3339_SECONDS);
  assert.match(String(ourLine.time), RFC3339_SECONDS);
  // Every line of the log writes its time so.
  for (const line of ours.logLines) assert.match(String(line.time), RFC3339_SECONDS, String(line.msg));
  ours.process.kill();
  opa.process.kill();
});
