// `verdict run` checks its whole configuration before it binds a port or starts a thread: with the port already
// taken, a bad setting (a pip adapter of each kind, and OPA's sections) is what start-up reports, naming its key,
// not the busy port. Where OPA has the section, which of several mistakes is reported first is compared with
// `opa run --server`. A good configuration still starts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from './processes.js';
import { send } from './harness.js';
import { freePort, holdPort } from '../free-port.js';
import { eventually } from '../eventually.js';

const work = mkdtempSync(join(tmpdir(), 'verdict-config-check-'));
let busy: Awaited<ReturnType<typeof holdPort>>;

before(async () => {
  busy = await holdPort();
});

after(async () => {
  await busy.release();
  rmSync(work, { recursive: true, force: true });
});

let files = 0;
function configFile(config: unknown): string {
  const file = join(work, `config-${files++}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** Runs `verdict run` (or OPA) on the busy address until it exits; its exit code and output. */
async function startOnBusyPort(kind: 'opa' | 'verdict', config: unknown, extra: string[] = []): Promise<{ code: number | null; output: string }> {
  const server = spawnServer(kind, ['--server', '--addr', busy.addr, '--config-file', configFile(config), ...extra]);
  const code = await new Promise<number | null>((resolve) => server.child.once('exit', resolve));
  return { code, output: server.output() };
}

const data = join(work, 'accounts.json');
writeFileSync(data, '{"users": {"alice": {"plan": "gold"}}}');
const pipWith = (type: string, settings: Record<string, unknown>) => ({ pip: { adapters: { a: { type, settings } } } });

const badPip: [string, unknown, RegExp][] = [
  ['http', pipWith('http', { url: 'ftp://accounts.internal/{user}' }), /pip\.adapters\.a\.settings\.url: only http and https URLs are supported/],
  ['jwt', pipWith('jwt', { keys: ['not a key'], algorithms: ['RS256'] }), /pip\.adapters\.a\.settings\.keys\[0\]: not a PEM public key/],
  ['sql', pipWith('sql', { driver: 'sqlite', query: 'SELECT 1' }), /pip\.adapters\.a\.settings\.database: required for the sqlite driver/],
  ['sql (no such database)', pipWith('sql', { driver: 'sqlite', database: join(work, 'missing.db'), query: 'SELECT 1' }), /pip\.adapters\.a\.settings\.database: cannot open .*missing\.db/],
  ['ldap', pipWith('ldap', { url: 'ldap://ldap.internal', base: 'dc=example', filter: '(uid={user}' }), /pip\.adapters\.a\.settings\.filter: .* is not an LDAP filter/],
  ['file', pipWith('file', { path: join(work, 'missing.json') }), /pip\.adapters\.a\.settings\.path: cannot load .*missing\.json/],
  [
    'an enrich rule without the inputs its adapter needs',
    { pip: { adapters: { a: { type: 'file', settings: { path: data, pick: ['users', '{user}'] } } }, enrich: [{ paths: ['x'], adapter: 'a' }] } },
    /pip\.enrich\[0\]: adapter "a" needs inputs for user/,
  ],
];

describe('verdict run with the port taken and a bad pip adapter', () => {
  for (const [kind, config, message] of badPip) {
    it(`${kind}: the setting is reported, not the port`, async () => {
      // Several threads (the primary binds the port before any starts) and one (the server binds it itself).
      for (const workers of ['2', '1']) {
        const { code, output } = await startOnBusyPort('verdict', config, ['--workers', workers]);
        assert.equal(code, 2, output);
        assert.match(output, message, `--workers ${workers}`);
        assert.doesNotMatch(output, /EADDRINUSE/);
      }
    });
  }
});

describe('verdict run with the port taken and a bad section OPA has too', () => {
  const cases: [string, Record<string, unknown>, RegExp, RegExp][] = [
    ['distributed_tracing', { distributed_tracing: { type: 'bogus' } }, /distributed_tracing\.type/, /distributed_tracing\.type/],
    ['discovery', { services: { s: { url: 'http://127.0.0.1:1' } }, discovery: { service: 'nope', resource: 'x' } }, /discovery\.service: service name "nope" not found/, /discovery service: service name "nope" not found/],
    ['bundles', { services: { s: { url: 'http://127.0.0.1:1' } }, bundles: { b: { service: 'nope' } } }, /bundle b: service "nope" is not configured/, /bundle "b": service name "nope" not found/],
    ['status', { services: { s: { url: 'http://127.0.0.1:1' } }, status: { service: 'nope' } }, /status\.service: invalid service name "nope"/, /invalid service name "nope" in status/],
    // Several mistakes: the first OPA reports is the first Verdict reports.
    [
      'tracing, discovery, bundles and status all wrong',
      { services: { s: { url: 'http://127.0.0.1:1' } }, distributed_tracing: { type: 'bogus' }, discovery: { service: 'nope', resource: 'x' }, bundles: { b: { service: 'nope' } }, status: { service: 'nope' } },
      /distributed_tracing\.type/,
      /distributed_tracing\.type/,
    ],
    [
      'discovery, bundles and status wrong',
      { services: { s: { url: 'http://127.0.0.1:1' } }, discovery: { service: 'nope', resource: 'x' }, bundles: { b: { service: 'nope' } }, status: { service: 'nope' } },
      /discovery\.service/,
      /discovery service/,
    ],
    [
      'bundles and status wrong',
      { services: { s: { url: 'http://127.0.0.1:1' } }, bundles: { b: { service: 'nope' } }, status: { service: 'nope' } },
      /bundle b/,
      /bundle "b"/,
    ],
  ];
  for (const [what, config, ours, theirs] of cases) {
    it(`${what}: reported before listening, as OPA does`, async () => {
      const [opa, verdict] = await Promise.all([startOnBusyPort('opa', config), startOnBusyPort('verdict', config, ['--workers', '2'])]);
      assert.equal(opa.code, 1, opa.output);
      assert.match(opa.output, theirs);
      assert.equal(verdict.code, 2, verdict.output);
      assert.match(verdict.output, ours);
      assert.doesNotMatch(verdict.output, /EADDRINUSE/);
    });
  }
});

describe('verdict run with a good pip configuration', () => {
  it('starts and enriches', async () => {
    const config = {
      pip: {
        adapters: { accounts: { type: 'file', settings: { path: data, pick: ['users', '{user}'] } } },
        enrich: [{ paths: [''], adapter: 'accounts', inputs: { user: 'input.user' } }],
      },
    };
    const port = await freePort();
    const policy = join(work, 'policy.rego');
    writeFileSync(policy, 'package app\n\nplan := input.pip.accounts.plan\n');
    const server = spawnServer('verdict', ['--server', '--workers', '2', '--addr', `127.0.0.1:${port}`, '--config-file', configFile(config), policy]);
    try {
      const url = `http://127.0.0.1:${port}`;
      await eventually('verdict run healthy', async () => {
        assert.equal(server.child.exitCode, null, `verdict run exited: ${server.output()}`);
        return (await send(url, 'GET', '/health').then((r) => r.status, () => 0)) === 200;
      });
      const res = await send(url, 'POST', '/v1/data/app/plan', JSON.stringify({ input: { user: 'alice' } }));
      assert.equal(JSON.parse(res.body.toString()).result, 'gold');
    } finally {
      assert.equal(await server.stop(), 0, server.output());
    }
  });
});
