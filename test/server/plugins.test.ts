import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startServer } from '../../src/server/start.js';
import type { Plugin } from '../../src/server/plugins.js';
import type { PluginStatus } from '../../src/server/context.js';
import { eventually } from '../eventually.js';
import { send } from './harness.js';

function fakePlugin(name: string, kind: Plugin['kind'], log: string[]): Plugin & { state: PluginStatus['state'] } {
  return {
    name,
    kind,
    state: 'NOT_READY',
    async start() {
      log.push(`start ${name}`);
    },
    async stop() {
      log.push(`stop ${name}`);
    },
    status() {
      return { state: this.state };
    },
  };
}

test('/health?bundles and ?plugins follow plugin states; close stops plugins in reverse order', async () => {
  const log: string[] = [];
  const bundle = fakePlugin('bundle', 'bundle', log);
  const decisionLog = fakePlugin('decision_logs', 'other', log);
  const server = await startServer({ addr: '127.0.0.1:0', config: { status: { console: true } }, bundlePaths: [], logger: pino({ level: 'silent' }), plugins: [bundle, decisionLog] });
  try {
    assert.deepEqual(log, ['start bundle', 'start decision_logs']);
    const health = async (q: string) => {
      const res = await send(server.url, 'GET', `/health${q}`);
      return [res.status, JSON.parse(res.body.toString())];
    };
    assert.deepEqual(await health(''), [200, {}]);
    assert.deepEqual(await health('?bundles'), [500, { error: 'one or more bundles are not activated' }]);
    assert.deepEqual(await health('?plugins'), [500, { error: 'one or more plugins are not up' }]);
    bundle.state = 'OK';
    assert.deepEqual(await health('?bundles'), [200, {}]);
    assert.deepEqual(await health('?plugins'), [500, { error: 'one or more plugins are not up' }]);
    assert.deepEqual(await health('?plugins&exclude-plugin=decision_logs'), [200, {}]);
    const status = JSON.parse((await send(server.url, 'GET', '/v1/status')).body.toString());
    assert.deepEqual(status.result.plugins, { bundle: { state: 'OK' }, decision_logs: { state: 'NOT_READY' }, status: { state: 'OK' } });
  } finally {
    await server.close();
  }
  assert.deepEqual(log.slice(2), ['stop decision_logs', 'stop bundle']);
});

test('while closing, the server names the plugins whose stop has not finished, in the order they stop', async () => {
  const log: string[] = [];
  const bundle = fakePlugin('bundle', 'bundle', log);
  let finishStop = () => {};
  const decisionLog = { ...fakePlugin('decision_logs', 'other', log), stop: () => new Promise<void>((resolve) => (finishStop = resolve)) };
  const server = await startServer({ addr: '127.0.0.1:0', config: {}, bundlePaths: [], logger: pino({ level: 'silent' }), plugins: [bundle, decisionLog] });
  assert.deepEqual(server.stopping(), []);
  const closing = server.close();
  await eventually('the plugins to begin stopping', () => server.stopping().length > 0);
  assert.deepEqual(server.stopping().slice(0, 2), ['decision_logs', 'bundle'], 'the decision log stops first and holds up the rest');
  finishStop();
  await closing;
  assert.deepEqual(server.stopping(), []);
  assert.ok(log.includes('stop bundle'));
});
