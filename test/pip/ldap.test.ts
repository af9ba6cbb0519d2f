import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { escapeDnValue, escapeFilterValue } from '../../src/pip/adapters/ldap.js';
import { createEnricher, PipDenyError, type Enricher } from '../../src/pip/index.js';
import { BASE, DIRECTORY_LDIF, READER_DN, READER_PASSWORD } from './fixtures/directory.js';
import { startSlapd, type RunningSlapd } from './fixtures/services.js';
import { freePort } from '../free-port.js';

/** Inputs that would widen a naively built filter: match everyone, add alternatives, or close the filter early. */
const INJECTIONS = ['*', '*)(uid=*', 'alice)(|(uid=*', '*)(|(objectClass=*)', 'alice*', 'al*ce', '\\2a', 'alice)(objectClass=*', 'alice\u0000', '*))%00'];

describe('escaping', () => {
  it('escapes filter metacharacters per RFC 4515 and DN specials per RFC 4514', () => {
    assert.equal(escapeFilterValue('*)(uid=*\\\0'), '\\2a\\29\\28uid=\\2a\\5c\\00');
    assert.equal(escapeDnValue(' #a,b+c"d<e>f;g=h\\ '), '\\ #a\\,b\\+c\\"d\\<e\\>f\\;g\\=h\\\\\\ ');
    assert.equal(escapeDnValue('#lead'), '\\#lead');
  });
});

describe('ldap adapter against a private slapd', () => {
  let slapd: RunningSlapd;
  const enrichers: Enricher[] = [];
  const settings = (extra: Record<string, unknown>) => ({ url: slapd.url, bind_dn: READER_DN, bind_password: READER_PASSWORD, base: BASE, ...extra });
  const make = (s: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const e = createEnricher({
      adapters: { dir: { type: 'ldap', settings: settings(s), cache: { ttl: 0, negative_ttl: 0 }, timeout: '5s', ...extra } },
      enrich: [{ paths: ['gateway'], adapter: 'dir', inputs: { user: 'input.user' } }],
    });
    enrichers.push(e);
    return e;
  };
  const lookup = async (e: Enricher, user: string) =>
    ((await e.enrichInput('gateway/allow', { user })).input as { pip: { dir: unknown } }).pip.dir;

  const groupsOf = () =>
    make({ base: `ou=groups,${BASE}`, filter: `(&(objectClass=groupOfNames)(member=uid={user:dn},ou=people,${BASE}))`, result: 'values', value_attribute: 'cn' });
  const person = () => make({ base: `ou=people,${BASE}`, filter: '(&(objectClass=inetOrgPerson)(uid={user}))', attributes: ['cn', 'mail'], result: 'entry' });
  const people = () => make({ base: `ou=people,${BASE}`, filter: '(&(objectClass=inetOrgPerson)(uid={user}))', attributes: ['uid'] });

  before(async () => {
    slapd = await startSlapd(DIRECTORY_LDIF, { tls: true });
  });

  after(async () => {
    await Promise.all(enrichers.map((e) => e.close()));
    await slapd?.stop();
  });

  it('the directory is what the tests think it is (checked with ldapsearch)', () => {
    const out = execFileSync('ldapsearch', ['-x', '-LLL', '-H', slapd.url, '-D', READER_DN, '-w', READER_PASSWORD, '-b', `ou=people,${BASE}`, '(objectClass=inetOrgPerson)', 'uid']).toString();
    assert.equal(out.match(/^uid: /gm)?.length, 4);
  });

  it('finds the groups of a user by membership, and a user entry with selected attributes', async () => {
    assert.deepEqual(((await lookup(groupsOf(), 'alice')) as string[]).sort(), ['admins', 'staff']);
    assert.deepEqual(await lookup(groupsOf(), 'carol'), ['ops']);
    assert.deepEqual(await lookup(groupsOf(), 'nobody'), []);
    assert.deepEqual(await lookup(person(), 'bob'), { dn: `uid=bob,ou=people,${BASE}`, cn: ['Bob Builder'], mail: ['bob@example.org'] });
    assert.equal(await lookup(person(), 'nobody'), null);
  });

  it('filter-injection attempts match only a user literally named so, never more', async () => {
    const list = people();
    const groups = groupsOf();
    for (const attempt of INJECTIONS) {
      const found = (await lookup(list, attempt)) as { uid: string[] }[];
      const expected = attempt === '*)(uid=*' ? [['*)(uid=*']] : [];
      assert.deepEqual(found.map((e) => e.uid), expected, `uid filter with ${JSON.stringify(attempt)}`);
      assert.deepEqual(await lookup(groups, attempt), [], `member filter with ${JSON.stringify(attempt)}`);
    }
    const dnInjection = `alice,ou=people,${BASE})(member=*`;
    assert.deepEqual(await lookup(groups, dnInjection), []);
  });

  it('an ambiguous single-entry search is an error, not an arbitrary pick', async () => {
    const loose = make({ base: `ou=people,${BASE}`, filter: '(|(uid={user})(uid=bob))', result: 'entry' }, { on_error: 'skip' });
    const { report } = await loose.enrichInput('gateway/allow', { user: 'alice' });
    assert.equal(report.adapters[0].reason, 'bad_response: the search matched more than one entry');
  });

  it('serves concurrent lookups over one bound connection', async () => {
    const e = groupsOf();
    const users = ['alice', 'bob', 'carol', 'alice', 'bob', 'nobody'];
    const results = await Promise.all(users.map((u) => lookup(e, u)));
    assert.deepEqual(results.map((r) => (r as string[]).sort()), [['admins', 'staff'], ['staff'], ['ops'], ['admins', 'staff'], ['staff'], []]);
  });

  it('wrong bind credentials and a directory that is down fail closed with the reason', async () => {
    const wrong = make({ bind_password: 'wrong', filter: '(uid={user})' });
    const err = await wrong.enrichInput('gateway/allow', { user: 'alice' }).catch((x: unknown) => x);
    assert.ok(err instanceof PipDenyError);
    assert.match(err.reason, /^failed: LDAP .*Invalid credentials.* \(result code 49\)$/i);
    const down = make({ url: `ldap://127.0.0.1:${await freePort()}`, filter: '(uid={user})' });
    const downErr = await down.enrichInput('gateway/allow', { user: 'alice' }).catch((x: unknown) => x);
    assert.ok(downErr instanceof PipDenyError);
    assert.match(downErr.reason, /^unavailable: LDAP ldap:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/);
  });

  it('connects over ldaps:// and StartTLS, verifying the server against the configured CA', async () => {
    const filter = `(&(objectClass=groupOfNames)(member=uid={user:dn},ou=people,${BASE}))`;
    const common = { base: `ou=groups,${BASE}`, filter, result: 'values', value_attribute: 'cn' };
    const ldaps = make({ ...common, url: slapd.ldapsUrl, tls: { ca_file: slapd.caFile } });
    assert.deepEqual(await lookup(ldaps, 'carol'), ['ops']);
    const starttls = make({ ...common, tls: { starttls: true, ca_file: slapd.caFile } });
    assert.deepEqual(await lookup(starttls, 'carol'), ['ops']);
    const untrusted = make({ ...common, url: slapd.ldapsUrl });
    const err = await untrusted.enrichInput('gateway/allow', { user: 'carol' }).catch((x: unknown) => x);
    assert.ok(err instanceof PipDenyError, 'a server certificate from an unknown CA is refused');
    assert.match(err.reason, /^unavailable: LDAP ldaps:\/\/127\.0\.0\.1:\d+: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
  });

  it('rebinds after the directory restarts instead of searching unauthenticated', async () => {
    const plain = groupsOf();
    const secure = make({ base: `ou=groups,${BASE}`, filter: `(member=uid={user:dn},ou=people,${BASE})`, result: 'values', value_attribute: 'cn', tls: { starttls: true, ca_file: slapd.caFile } });
    assert.deepEqual(((await lookup(plain, 'alice')) as string[]).sort(), ['admins', 'staff']);
    assert.deepEqual(((await lookup(secure, 'alice')) as string[]).sort(), ['admins', 'staff']);
    await slapd.restart();
    assert.deepEqual(((await lookup(plain, 'alice')) as string[]).sort(), ['admins', 'staff']);
    assert.deepEqual(((await lookup(secure, 'alice')) as string[]).sort(), ['admins', 'staff']);
  });

  it('refuses a filter template that is not a filter at start-up', () => {
    assert.throws(() => make({ filter: '(uid={user}' }), /settings\.filter: "\(uid=\{user\}" is not an LDAP filter/);
  });
});
