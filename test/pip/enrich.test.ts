import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openedOnFirstLookup, type JsonValue, type LookupParams, type PipAdapterKind } from '../../src/pip/adapter.js';
import { adapterKinds } from '../../src/pip/adapters/index.js';
import { parsePipConfig } from '../../src/pip/config.js';
import { Enricher } from '../../src/pip/enrich.js';
import { checkPipConfig, createEnricher } from '../../src/pip/index.js';
import { PipConfigError, PipDenyError, PipInputError } from '../../src/pip/errors.js';
import { prometheusText } from '../../src/pip/metrics.js';
import { readJson } from '../../src/json/reader.js';
import { eventually } from '../eventually.js';

/**
 * A scripted in-process PIP: its `settings.script` names a behaviour, and every lookup is recorded so tests can
 * count how often the "PIP" was really asked.
 */
const calls: { adapter: string; params: LookupParams }[] = [];
const gates = new Map<string, () => void>();
const scripted: PipAdapterKind = { prepare: (name, settings) => openedOnFirstLookup({
  requiredParams: (settings.needs as string[] | undefined) ?? [],
  async lookup(params, signal) {
    calls.push({ adapter: name, params });
    switch (settings.script) {
      case 'echo':
        return { echoed: params } as JsonValue;
      case 'null':
        return null;
      case 'fail':
        throw new Error('directory said no');
      case 'hang':
        return new Promise<JsonValue>(() => undefined); // ignores its signal: the enricher's timeout must still fire
      case 'slow-echo':
        await new Promise((r) => setTimeout(r, 40));
        return { echoed: params } as JsonValue;
      case 'barrier': {
        // Resolves only once the partner adapter has started too: deadlocks unless lookups run concurrently.
        const partner = settings.partner as string;
        gates.get(name + ':self')?.();
        await new Promise<void>((resolve, reject) => {
          gates.set(partner + ':self', resolve);
          if (calls.some((c) => c.adapter === partner)) resolve();
          signal.addEventListener('abort', () => reject(new Error('aborted')));
        });
        return name;
      }
      default:
        throw new Error(`unknown script ${String(settings.script)}`);
    }
  },
}) };

/** Config with scripted adapters: `type: 'scripted'` entries pass the schema as http adapters, then get their script. */
function enricher(pip: { adapters: Record<string, Record<string, unknown>>; [key: string]: unknown }): Enricher {
  const scripts: Record<string, Record<string, unknown>> = {};
  const adapters = Object.fromEntries(
    Object.entries(pip.adapters).map(([name, a]) => {
      if (a.type !== 'scripted') return [name, a];
      scripts[name] = a.settings as Record<string, unknown>;
      return [name, { ...a, type: 'http', settings: { url: 'http://scripted.invalid/' } }];
    }),
  );
  const config = parsePipConfig({ ...pip, adapters });
  for (const [name, script] of Object.entries(scripts)) config.adapters[name].settings = script;
  return new Enricher(config, { ...adapterKinds, http: scripted });
}

function countCalls(adapter: string): number {
  return calls.filter((c) => c.adapter === adapter).length;
}

describe('enrichInput', () => {
  it('puts each adapter result at input.pip.<name> without touching the caller input', async () => {
    const e = enricher({
      adapters: { profile: { type: 'scripted', settings: { script: 'echo', needs: ['user'] } } },
      enrich: [{ paths: ['gateway'], adapter: 'profile', inputs: { user: 'input.subject.id' } }],
    });
    const input = { subject: { id: 'alice' }, method: 'GET' };
    const { input: enriched, report } = await e.enrichInput('gateway/allow', input);
    assert.deepEqual(enriched, { subject: { id: 'alice' }, method: 'GET', pip: { profile: { echoed: { user: 'alice' } } } });
    assert.deepEqual(input, { subject: { id: 'alice' }, method: 'GET' });
    assert.equal(report.adapters.length, 1);
    assert.equal(report.adapters[0].outcome, 'ok');
    assert.equal(report.adapters[0].cache, 'miss');
    assert.equal(report.path, 'gateway/allow');
  });

  it('rejects a caller-supplied input.pip by default and strips it when configured', async () => {
    const pip = {
      adapters: { profile: { type: 'scripted', settings: { script: 'echo' } } },
      enrich: [{ paths: ['gateway'], adapter: 'profile', inputs: { user: 'input.user' } }],
    };
    await assert.rejects(enricher(pip).enrichInput('gateway/allow', { user: 'a', pip: { profile: { admin: true } } }), PipInputError);
    await assert.rejects(enricher(pip).enrichInput('other/path', { pip: {} }), (err: unknown) => {
      assert.ok(err instanceof PipInputError);
      assert.equal(err.status, 400);
      assert.match(err.message, /input\.pip is reserved/);
      return true;
    });
    const stripping = enricher({ ...pip, caller_pip: 'strip' });
    const { input } = await stripping.enrichInput('gateway/allow', { user: 'a', pip: { profile: { admin: true }, extra: 1 } });
    assert.deepEqual(input, { user: 'a', pip: { profile: { echoed: { user: 'a' } } } });
  });

  it('enrich() answers without a promise when nothing has to wait: no adapter for the path, or cache hits', async () => {
    const e = enricher({
      adapters: { profile: { type: 'scripted', settings: { script: 'echo' } } },
      enrich: [{ paths: ['gateway'], adapter: 'profile', inputs: { user: 'input.user' } }],
    });
    const input = { user: 'a' };
    const unrelated = e.enrich('other/allow', input);
    assert.ok(!(unrelated instanceof Promise));
    assert.equal(unrelated.input, input);
    assert.throws(() => e.enrich('other/allow', { pip: {} }), PipInputError);
    const first = e.enrich('gateway/allow', input);
    assert.ok(first instanceof Promise, 'a miss waits on the PIP');
    await first;
    const warm = e.enrich('gateway/allow', { user: 'a' });
    assert.ok(!(warm instanceof Promise), 'a cache hit does not');
    assert.deepEqual(warm.input, { user: 'a', pip: { profile: { echoed: { user: 'a' } } } });
    assert.equal(warm.report.adapters[0].cache, 'hit');
  });

  it('matches path prefixes on segment boundaries and prefers the longest prefix', async () => {
    const e = enricher({
      adapters: { a: { type: 'scripted', settings: { script: 'echo' } } },
      enrich: [
        { paths: ['/gateway/'], adapter: 'a', inputs: { which: 'input.general' } },
        { paths: ['gateway/admin'], adapter: 'a', inputs: { which: 'input.admin' } },
      ],
    });
    const input = { general: 'g', admin: 'adm' };
    assert.equal(e.appliesTo('gatewayx/allow'), false);
    assert.deepEqual((await e.enrichInput('gatewayx/allow', input)).input, input);
    assert.deepEqual((await e.enrichInput('gateway/allow', input)).input, { ...input, pip: { a: { echoed: { which: 'g' } } } });
    assert.deepEqual((await e.enrichInput('gateway/admin/allow', input)).input, { ...input, pip: { a: { echoed: { which: 'adm' } } } });
  });

  it('runs independent lookups concurrently', async () => {
    const e = enricher({
      adapters: {
        left: { type: 'scripted', timeout: '2s', settings: { script: 'barrier', partner: 'right' } },
        right: { type: 'scripted', timeout: '2s', settings: { script: 'barrier', partner: 'left' } },
      },
      enrich: [
        { paths: [''], adapter: 'left' },
        { paths: [''], adapter: 'right' },
      ],
    });
    const { input, report } = await e.enrichInput('x', {});
    assert.deepEqual(input, { pip: { left: 'left', right: 'right' } });
    assert.deepEqual(report.adapters.map((r) => r.outcome), ['ok', 'ok']);
  });

  it('makes identical concurrent lookups once and serves repeats from the cache', async () => {
    const e = enricher({
      adapters: { groups: { type: 'scripted', settings: { script: 'slow-echo' }, cache: { ttl: '1m' } } },
      enrich: [{ paths: ['p'], adapter: 'groups', inputs: { user: 'input.user' } }],
    });
    const before = countCalls('groups');
    const results = await Promise.all(Array.from({ length: 5 }, () => e.enrichInput('p', { user: 'bob' })));
    assert.equal(countCalls('groups') - before, 1);
    assert.deepEqual(results.map((r) => r.report.adapters[0].cache).sort(), ['miss', 'shared', 'shared', 'shared', 'shared']);
    const again = await e.enrichInput('p', { user: 'bob' });
    assert.equal(again.report.adapters[0].cache, 'hit');
    assert.deepEqual(again.input, { user: 'bob', pip: { groups: { echoed: { user: 'bob' } } } });
    await e.enrichInput('p', { user: 'carol' });
    assert.equal(countCalls('groups') - before, 2);
    const m = e.metrics.snapshot().groups;
    assert.deepEqual([m.calls, m.hits, m.shared, m.misses, m.lookups, m.errors], [7, 1, 4, 2, 2, 0]);
    assert.equal(m.latency.count, 2);
    const text = prometheusText(e.metrics.snapshot());
    assert.match(text, /^verdict_pip_calls_total\{adapter="groups"\} 7$/m);
    assert.match(text, /^verdict_pip_shared_lookups_total\{adapter="groups"\} 4$/m);
    assert.match(text, /^verdict_pip_lookup_duration_seconds_bucket\{adapter="groups",le="\+Inf"\} 2$/m);
    assert.match(text, /^verdict_pip_lookup_duration_seconds_bucket\{adapter="groups",le="0.025"\} 0$/m, 'both lookups took at least 40 ms');
    assert.match(text, /^verdict_pip_lookup_duration_seconds_bucket\{adapter="groups",le="2.5"\} 2$/m);
  });

  it('keeps "nothing found" only for the negative TTL', async () => {
    const e = enricher({
      adapters: { who: { type: 'scripted', settings: { script: 'null' }, cache: { ttl: '1h', negative_ttl: '30ms' } } },
      enrich: [{ paths: [''], adapter: 'who', inputs: { u: 'input.u' } }],
    });
    const before = countCalls('who');
    assert.deepEqual((await e.enrichInput('x', { u: 1 })).input, { u: 1, pip: { who: null } });
    assert.equal((await e.enrichInput('x', { u: 1 })).report.adapters[0].cache, 'hit');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await e.enrichInput('x', { u: 1 })).report.adapters[0].cache, 'miss');
    assert.equal(countCalls('who') - before, 2);
  });

  it('fails closed with a reason when an on_error: deny adapter fails', async () => {
    const e = enricher({
      adapters: {
        dir: { type: 'scripted', settings: { script: 'fail' } },
        ok: { type: 'scripted', settings: { script: 'echo' } },
      },
      enrich: [
        { paths: [''], adapter: 'dir' },
        { paths: [''], adapter: 'ok' },
      ],
    });
    await assert.rejects(e.enrichInput('gateway/allow', {}), (err: unknown) => {
      assert.ok(err instanceof PipDenyError);
      assert.equal(err.adapter, 'dir');
      assert.match(err.message, /"dir" failed: failed: directory said no/);
      assert.equal(err.report.denied_by, 'dir');
      assert.deepEqual(err.report.adapters.map((r) => [r.adapter, r.outcome, r.on_error]), [
        ['dir', 'error', 'deny'],
        ['ok', 'ok', undefined],
      ]);
      return true;
    });
    assert.equal(e.metrics.snapshot().dir.errors, 1);
    const status = e.status();
    assert.equal(status.dir.last_error?.reason, 'failed: directory said no');
    assert.equal(status.ok.last_error, undefined);
    assert.equal(status.ok.cache_entries, 1);
    assert.equal(status.dir.failing, true);
    assert.equal(status.ok.failing, false);
  });

  it('leaves the key out on skip and uses the configured default otherwise', async () => {
    const e = enricher({
      adapters: {
        skipped: { type: 'scripted', settings: { script: 'fail' }, on_error: 'skip' },
        defaulted: { type: 'scripted', settings: { script: 'fail' }, on_error: { default: { groups: [] } } },
      },
      enrich: [
        { paths: [''], adapter: 'skipped' },
        { paths: [''], adapter: 'defaulted' },
      ],
    });
    const { input, report } = await e.enrichInput('a', { x: 1 });
    assert.deepEqual(input, { x: 1, pip: { defaulted: { groups: [] } } });
    assert.deepEqual(report.adapters.map((r) => [r.outcome, r.on_error, r.reason]), [
      ['error', 'skip', 'failed: directory said no'],
      ['error', 'default', 'failed: directory said no'],
    ]);
  });

  it('times out a lookup that never answers, even if the adapter ignores its abort signal', async () => {
    const e = enricher({
      adapters: { stuck: { type: 'scripted', settings: { script: 'hang' }, timeout: 30, on_error: 'skip' } },
      enrich: [{ paths: [''], adapter: 'stuck' }],
    });
    const { input, report } = await e.enrichInput('a', {});
    assert.deepEqual(input, { pip: {} });
    assert.equal(report.adapters[0].reason, 'timeout: timed out after 30 ms');
  });

  it('feeds one adapter from another adapter result and skips when an input is absent', async () => {
    const e = enricher({
      adapters: {
        token: { type: 'scripted', settings: { script: 'slow-echo' } },
        groups: { type: 'scripted', settings: { script: 'echo' } },
      },
      enrich: [
        { paths: [''], adapter: 'groups', inputs: { sub: 'input.pip.token.echoed.t' } },
        { paths: [''], adapter: 'token', inputs: { t: 'input.headers["x-token"]' } },
      ],
    });
    const { input } = await e.enrichInput('a', { headers: { 'x-token': 'sub-1' } });
    assert.deepEqual((input as { pip: unknown }).pip, { groups: { echoed: { sub: 'sub-1' } }, token: { echoed: { t: 'sub-1' } } });
    const missing = await e.enrichInput('a', { headers: {} });
    assert.deepEqual(missing.input, { headers: {}, pip: {} });
    assert.deepEqual(missing.report.adapters.map((r) => [r.adapter, r.outcome, r.reason]), [
      ['token', 'skipped', 'input.headers["x-token"] is absent'],
      ['groups', 'skipped', 'input.pip.token.echoed.t is absent'],
    ]);
  });

  it('leaves a non-object input alone and says why', async () => {
    const e = enricher({ adapters: { a: { type: 'scripted', settings: { script: 'echo' } } }, enrich: [{ paths: [''], adapter: 'a' }] });
    const { input, report } = await e.enrichInput('x', ['not', 'an', 'object']);
    assert.deepEqual(input, ['not', 'an', 'object']);
    assert.equal(report.adapters[0].reason, 'input is not an object');
  });

  it('takes a number the JSON reader kept as text for a number, in the input and in lookup parameters', async () => {
    const big = readJson('12345678901234567890');
    const e = enricher({
      adapters: { a: { type: 'scripted', settings: { script: 'echo' } } },
      enrich: [{ paths: [''], adapter: 'a', inputs: { user: 'input.user' } }],
    });
    const whole = await e.enrichInput('x', big);
    assert.equal(whole.input, big);
    assert.equal(whole.report.adapters[0].reason, 'input is not an object');
    // A big number and an object holding its text are different parameters, so different cache entries.
    await e.enrichInput('x', { user: big });
    const { report } = await e.enrichInput('x', { user: { text: '12345678901234567890' } });
    assert.equal(report.adapters[0].cache, 'miss');
    // Nothing is below a number.
    const below = enricher({
      adapters: { a: { type: 'scripted', settings: { script: 'echo' } } },
      enrich: [{ paths: [''], adapter: 'a', inputs: { user: 'input.user.text' } }],
    });
    const skipped = await below.enrichInput('x', { user: big });
    assert.deepEqual(skipped.report.adapters.map((r) => [r.outcome, r.reason]), [['skipped', 'input.user.text is absent']]);
  });
});

describe('pip config', () => {
  const bad: [string, unknown, RegExp][] = [
    ['unknown adapter type', { adapters: { a: { type: 'smtp', settings: {} } } }, /pip\.adapters\.a\.type must be equal to one of the allowed values/],
    ['bad duration', { adapters: { a: { type: 'http', settings: { url: 'http://x' }, timeout: '5 minutes' } } }, /pip\.adapters\.a\.timeout/],
    ['enrich names no adapter', { adapters: {}, enrich: [{ paths: [''], adapter: 'ghost' }] }, /no adapter named "ghost"/],
    ['input path outside input', { adapters: { a: { type: 'http', settings: { url: 'http://x' } } }, enrich: [{ paths: [''], adapter: 'a', inputs: { u: 'data.x' } }] }, /inputs\.u must match pattern/],
    [
      'dependency cycle',
      {
        adapters: { a: { type: 'http', settings: { url: 'http://x' } }, b: { type: 'http', settings: { url: 'http://x' } } },
        enrich: [
          { paths: [''], adapter: 'a', inputs: { x: 'input.pip.b.x' } },
          { paths: [''], adapter: 'b', inputs: { x: 'input.pip.a.x' } },
        ],
      },
      /cycle: a → b → a/,
    ],
    ['caller_pip value', { caller_pip: 'merge' }, /pip\.caller_pip must be equal to one of the allowed values/],
    ['an adapter named __proto__', JSON.parse('{"adapters": {"__proto__": {"type": "http", "settings": {"url": "http://x"}}}}'), /property name must be valid/],
  ];
  for (const [what, pip, message] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parsePipConfig(pip), (err: unknown) => err instanceof PipConfigError && message.test(err.message));
    });
  }

  it('refuses an enrich rule that does not supply the params an adapter needs', () => {
    assert.throws(
      () => enricher({ adapters: { a: { type: 'scripted', settings: { script: 'echo', needs: ['user'] } } }, enrich: [{ paths: [''], adapter: 'a' }] }),
      /pip\.enrich\[0\]: adapter "a" needs inputs for user/,
    );
  });

  it('fills defaults: fail closed, 500 ms timeout, 60 s cache', () => {
    const c = parsePipConfig({ adapters: { a: { type: 'http', settings: { url: 'http://x' } } } });
    assert.deepEqual(c.adapters.a.onError, { kind: 'deny' });
    assert.equal(c.adapters.a.timeoutMs, 500);
    assert.deepEqual(c.adapters.a.cache, { ttlMs: 60_000, negativeTtlMs: 5_000, maxEntries: 10_000 });
    assert.equal(c.callerPip, 'reject');
  });
});

describe('file adapter', () => {
  it('looks up by a number the JSON reader kept as text, written as it came', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-pip-file-'));
    const file = join(dir, 'accounts.json');
    writeFileSync(file, '{"users": {"12345678901234567890": {"plan": "gold"}}}');
    const e = new Enricher(
      parsePipConfig({
        adapters: { accounts: { type: 'file', settings: { path: file, pick: ['users', '{user}'] } } },
        enrich: [{ paths: [''], adapter: 'accounts', inputs: { user: 'input.user' } }],
      }),
      adapterKinds,
    );
    try {
      const { input, report } = await e.enrichInput('a', readJson('{"user": 12345678901234567890}'));
      assert.deepEqual(report.adapters.map((r) => [r.outcome, r.reason]), [['ok', undefined]]);
      assert.deepEqual((input as { pip: unknown }).pip, { accounts: { plan: 'gold' } });
    } finally {
      await e.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'verdict-pip-file-'));
  const file = join(dir, 'accounts.yaml');
  writeFileSync(file, 'users:\n  alice: {plan: gold}\n  bob: {plan: free}\n');
  const e = new Enricher(
    parsePipConfig({
      adapters: { accounts: { type: 'file', settings: { path: file, pick: ['users', '{user}'] }, cache: { ttl: 0, negative_ttl: 0 } } },
      enrich: [{ paths: [''], adapter: 'accounts', inputs: { user: 'input.user' } }],
    }),
    adapterKinds,
  );
  after(async () => {
    await e.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('picks from a YAML document and reloads it when the file changes', async () => {
    const pipOf = async (user: string) => ((await e.enrichInput('a', { user })).input as { pip: Record<string, unknown> }).pip;
    assert.deepEqual(await pipOf('alice'), { accounts: { plan: 'gold' } });
    assert.deepEqual(await pipOf('mallory'), { accounts: null });
    await new Promise((r) => setTimeout(r, 300)); // let the watcher settle before the first change
    writeFileSync(file, 'users:\n  alice: {plan: platinum}\n');
    await eventually("alice's plan to read platinum", async () => JSON.stringify(await pipOf('alice')) === '{"accounts":{"plan":"platinum"}}');
    writeFileSync(file, 'users: {alice: {plan: wrong}}\n');
    writeFileSync(file, 'users: [unclosed\n'); // a second write straight after the first must not be missed
    await eventually('a problem reported for accounts', async () => e.status().accounts.problem !== undefined);
    assert.match(e.status().accounts.problem ?? '', /^reload of .*accounts\.yaml failed, keeping the previous document: /);
    assert.deepEqual(await pipOf('alice'), { accounts: { plan: 'platinum' } }, 'a broken file keeps the last good document');
  });

  it('is checked without being watched, and watched once opened', async () => {
    const watchers = () => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;
    const plain = join(dir, 'plain.json');
    writeFileSync(plain, '{"a": 1}');
    const pip = { adapters: { f: { type: 'file', settings: { path: plain } } } };
    const before = watchers();
    checkPipConfig(pip);
    assert.equal(watchers(), before, 'checking the config opens no file watcher');
    const opened = createEnricher(pip);
    try {
      await eventually('another watcher', async () => watchers() > before);
    } finally {
      await opened.close();
    }
  });

  it('refuses to start with a file that does not parse', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"a": ');
    assert.throws(() => new Enricher(parsePipConfig({ adapters: { f: { type: 'file', settings: { path: broken } } } }), adapterKinds), /pip\.adapters\.f\.settings\.path: cannot load/);
  });
});

