// Logging from a worker thread (a server thread of `verdict run --workers N`): lines go straight to descriptor 2,
// written before the call returns, so a thread that is terminated right after logging has lost none of them
// (process.stderr in a thread relays through the main thread, and a terminated thread's unrelayed lines are gone).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';

const logger = new URL('../../src/log/logger.js', import.meta.url).href;

// The thread logs `count` records, tells the main thread, and keeps busy until the main thread terminates it.
function threadScript(format: string, count: number): string {
  const body = `
    const { createLogger } = await import(${JSON.stringify(logger)});
    const log = createLogger('info', ${JSON.stringify(format)});
    for (let i = 0; i < ${count}; i++) log.info({ i }, 'line');
    require('node:worker_threads').parentPort.postMessage('logged');
    for (;;);`;
  return `(async () => { ${body} })()`;
}

async function stderrOfThread(format: string, count: number): Promise<string> {
  const main = `
    const { Worker } = require('node:worker_threads');
    const worker = new Worker(${JSON.stringify(threadScript(format, count))}, { eval: true });
    worker.on('message', () => worker.terminate());`;
  const child = spawn(process.execPath, ['-e', main], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, err.slice(-2000));
  return err;
}

test('a terminated thread has written every json line it logged, in order', async () => {
  const lines = (await stderrOfThread('json', 5000)).split('\n').filter(Boolean);
  assert.equal(lines.length, 5000);
  lines.forEach((line, i) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.equal(record.i, i);
    assert.equal(record.level, 'info');
    assert.equal(record.msg, 'line');
  });
});

test('a terminated thread has written every text line it logged', async () => {
  const lines = (await stderrOfThread('text', 2000)).split('\n').filter(Boolean);
  assert.equal(lines.length, 2000);
  assert.match(lines[1999], /^\S+ INFO line i=1999$/);
});
