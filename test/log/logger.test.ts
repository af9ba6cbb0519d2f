// Log lines in OPA's shape: `level` as a name, `msg`, `time` in RFC 3339, and the access log lines OPA prints
// at `--log-level info` with its field names, never carrying inputs or headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { referenceOpa } from '../engine/opa-fixture.js';
import { freePort } from '../free-port.js';
import { createLogger, type LogFormat } from '../../src/log/logger.js';
import { startServer } from '../../src/server/start.js';
import type { RequestLogLevel } from '../../src/server/request-log.js';
import { send, writeTree } from '../server/harness.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function capture(level: 'info' | 'debug' | 'error', format: LogFormat = 'json') {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { logger: createLogger(level, format, out), text: () => text, records: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

test('json records carry level as a name, msg and an RFC 3339 time; warn is spelt "warning" as OPA does', async () => {
  const log = capture('info');
  log.logger.info({ name: 'b' }, 'Bundle activated.');
  log.logger.warn('careful');
  log.logger.debug('hidden');
  await tick();
  const [info, warn, ...rest] = log.records();
  assert.equal(rest.length, 0, 'debug is below info');
  assert.equal(info!.level, 'info');
  assert.equal(info!.msg, 'Bundle activated.');
  assert.equal(info!.name, 'b');
  assert.match(String(info!.time), RFC3339);
  assert.equal(warn!.level, 'warning');
});

test('json-pretty writes each record as indented JSON; text as one readable line', async () => {
  const pretty = capture('info', 'json-pretty');
  pretty.logger.info({ a: 1 }, 'hello');
  await tick();
  assert.deepEqual(Object.keys(JSON.parse(pretty.text()) as object).sort(), ['a', 'level', 'msg', 'time']);
  assert.match(pretty.text(), /^\{\n {2}"/);
  const text = capture('info', 'text');
  text.logger.info({ a: 1 }, 'hello');
  await tick();
  assert.match(text.text(), /^\S+ INFO hello a=1\n$/);
});

async function serveAndAsk(level: 'info' | 'error', requestLogLevel?: RequestLogLevel) {
  const log = capture(level);
  const dir = writeTree({ 'p.rego': 'package app\n\nallow if input.user == "alice"\n' });
  const server = await startServer({ addr: '127.0.0.1:0', config: {}, bundlePaths: [], files: { paths: [`${dir}/p.rego`] }, logger: log.logger, requestLogLevel });
  try {
    const res = await send(server.url, 'POST', '/v1/data/app/allow?pretty=true', JSON.stringify({ input: { user: 'alice', secret: 'carol@example.com' } }), { Authorization: 'Bearer tok-123', 'Content-Type': 'application/json' });
    assert.equal(res.status, 200);
    await tick();
    return { log, bytes: res.body.length };
  } finally {
    await server.close();
  }
}

test('each request is logged at info as OPA does, with its field names and without input, query or headers', async () => {
  const { log, bytes } = await serveAndAsk('info');
  const received = log.records().find((r) => r.msg === 'Received request.');
  const sent = log.records().find((r) => r.msg === 'Sent response.');
  assert.ok(received && sent, log.text());
  assert.equal(received.level, 'info');
  assert.deepEqual(Object.keys(received).sort(), ['client_addr', 'level', 'msg', 'req_id', 'req_method', 'req_path', 'time']);
  assert.equal(received.req_method, 'POST');
  assert.equal(received.req_path, '/v1/data/app/allow');
  assert.match(String(received.client_addr), /^127\.0\.0\.1:\d+$/);
  assert.equal(sent.req_id, received.req_id);
  assert.equal(sent.resp_status, 200);
  assert.equal(sent.resp_bytes, bytes);
  assert.equal(typeof sent.resp_duration, 'number');
  assert.doesNotMatch(log.text(), /carol@example\.com|tok-123|pretty/);
});

test('--log-level-request debug hides the access log at --log-level info; --log-level error hides it by default', async () => {
  assert.equal((await serveAndAsk('info', 'debug')).log.records().filter((r) => String(r.msg).endsWith('request.') || r.msg === 'Sent response.').length, 0);
  assert.equal((await serveAndAsk('error')).log.records().length, 0);
  const errorLevel = (await serveAndAsk('error', 'error')).log.records();
  assert.deepEqual(errorLevel.map((r) => [r.msg, r.level]), [['Received request.', 'error'], ['Sent response.', 'error']]);
});

test('an object with integer-like keys is written with its keys sorted as text, as OPA (Go) writes a map', async () => {
  const result = { a: 3, 10: 1, 2: { b: 1, 0: 2 }, $: 0 };
  for (const [format, expected] of [
    ['json', '"result":{"$":0,"10":1,"2":{"0":2,"b":1},"a":3}'],
    ['json-pretty', '"result": {\n    "$": 0,\n    "10": 1,\n    "2": {\n      "0": 2,\n      "b": 1\n    },\n    "a": 3\n  }'],
    ['text', 'result={"$":0,"10":1,"2":{"0":2,"b":1},"a":3}'],
  ] as const) {
    const log = capture('info', format);
    log.logger.info({ result }, 'Decision Log');
    await tick();
    assert.ok(log.text().includes(expected), `${format}: ${log.text()}`);
  }
});

test('a console decision is written with its fields and every object in it in sorted order, as opa run writes it', async () => {
  const dir = writeTree({ 'p.rego': 'package app\n\nallow := {"z": 1, "b": input.user}\n' });
  const body = JSON.stringify({ input: { user: 'alice', zeta: { y: 1, b: 2 }, alpha: 0 } });
  const port = await freePort();
  const opa = spawn(referenceOpa(), ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'info', '--set', 'decision_logs.console=true', `${dir}/p.rego`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let opaText = '';
  opa.stderr!.on('data', (c: Buffer) => (opaText += c.toString()));
  const log = capture('info');
  const server = await startServer({ addr: '127.0.0.1:0', config: { decision_logs: { console: true } }, bundlePaths: [], files: { paths: [`${dir}/p.rego`] }, logger: log.logger });
  try {
    const opaUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && (await send(opaUrl, 'GET', '/health').catch(() => undefined))?.status !== 200; i++) await tick();
    assert.equal((await send(opaUrl, 'POST', '/v1/data/app/allow', body)).status, 200);
    assert.equal((await send(server.url, 'POST', '/v1/data/app/allow', body)).status, 200);
    await tick();
    const decisionLine = (text: string) => text.split('\n').find((l) => l.includes('"msg":"Decision Log"'));
    const [theirs, ours] = [decisionLine(opaText), decisionLine(log.text())];
    assert.ok(theirs && ours, `${opaText}\n${log.text()}`);
    // The fields both write, in the order each writes them (Verdict adds `bundles`; the values differ).
    const keys = (line: string) => [...line.matchAll(/"([a-z_]+)":/g)].map((m) => m[1]!);
    const common = (line: string, other: string) => keys(line).filter((k) => keys(other).includes(k));
    assert.deepEqual(common(ours, theirs), common(theirs, ours));
    assert.match(ours, /"input":\{"alpha":0,"user":"alice","zeta":\{"b":2,"y":1\}\}/);
    assert.match(ours, /"result":\{"b":"alice","z":1\}/);
  } finally {
    opa.kill('SIGTERM');
    await server.close();
  }
});
