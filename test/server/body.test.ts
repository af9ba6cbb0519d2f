// The request body reader (body.ts): besides the value, the input's JSON text as the client sent it, and what the
// decision log may take from it without checking again (that its bytes are valid UTF-8).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseEnvelope } from '../../src/server/body.js';
import { parseConfig } from '../../src/config/config.js';
import { startServer } from '../../src/server/start.js';
import { openDecisionDatabase } from '../../src/decisionlog/open.js';
import { send, writeTree } from './harness.js';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

test('parseEnvelope: the input text of an ASCII body is a slice of it, known to be valid UTF-8', () => {
  const body = bytes('{"input": {"user": "alice", "n": 12345678901234567890}}');
  const { memberText, validUtf8 } = parseEnvelope(body, false, 'input');
  assert.equal(Buffer.from(memberText!).toString(), '{"user": "alice", "n": 12345678901234567890}');
  assert.equal(memberText!.buffer, body.buffer, 'sliced, not copied');
  assert.equal(validUtf8, true);
});

test('parseEnvelope: other scripts are valid UTF-8; a body with invalid bytes is not said to be', () => {
  const cases: [Buffer, boolean][] = [
    [bytes('{"input": {"user": "Zoë 李 🦊"}}'), true],
    // One invalid byte reads as one U+FFFD: the text is as long as the body, and the input text is its bytes.
    [bytes('{"input": {"user": "a', [0xff], 'b"}}'), false],
    [bytes('{"input": {"user": "a', [0xc3], '"}}'), false],
    // Invalid bytes with other scripts: the text is shorter than the body, and the input text is encoded again.
    [bytes('{"input": {"user": "é', [0xff, 0xe2, 0x82], '"}}'), true],
  ];
  for (const [body, valid] of cases) {
    const { memberText, validUtf8 } = parseEnvelope(body, false, 'input');
    assert.equal(validUtf8, valid, body.toString('hex'));
    assert.equal(isUtf8(memberText!), valid, body.toString('hex'));
  }
});

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

test('the decision log stores an input with invalid bytes as valid UTF-8 text, and other scripts byte for byte', async () => {
  const dir = writeTree({});
  const bundle = writeTree({ '.manifest': JSON.stringify({ revision: 'r', roots: ['authz'] }), 'authz/p.rego': 'package authz\n\nallow if input.user\n' });
  const server = await startServer({
    addr: '127.0.0.1:0',
    config: parseConfig(`decision_logs:\n  store:\n    file: ${join(dir, 'decisions.db')}\n`, 'test config'),
    bundlePaths: [bundle],
    logger: pino({ level: 'silent' }),
    decisionLogByDefault: true,
  });
  cleanups.push(() => server.close(1000));
  const bodies = [bytes('{"input": {"user": "a', [0xff], 'b"}}'), bytes('{"input": {"user": "Zoë 李"}}')];
  const ids: string[] = [];
  for (const body of bodies) {
    const answer = await send(server.url, 'POST', '/v1/data/authz/allow', body, { 'content-type': 'application/json' });
    assert.equal(answer.status, 200);
    ids.push((JSON.parse(answer.body.toString()) as { decision_id: string }).decision_id);
  }
  await server.decisionLog!.flush();
  const db = openDecisionDatabase(join(dir, 'decisions.db'), { readonly: true });
  try {
    const stored = ids.map((id) => (db.prepare('SELECT CAST(event AS BLOB) AS event FROM decisions WHERE decision_id = ?').get(id) as { event: Buffer }).event);
    for (const event of stored) assert.ok(isUtf8(event), event.toString('hex'));
    assert.ok(stored[0].includes(bytes('"input":{"user": "a\ufffdb"}')), stored[0].toString());
    assert.ok(stored[1].includes(bytes('"input":{"user": "Zoë 李"}')), stored[1].toString());
  } finally {
    db.close();
  }
});
