// Where a registry's Bearer challenge may send a service's credentials: the scheme rules and the addresses refused
// for a realm on another host than the registry's (the differential case against OPA is in oci.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRealm } from '../../src/bundle/registry-realm.js';
import { HttpRequestError } from '../../src/net/http-client.js';

const https = new URL('https://registry.example');
const refused = async (realm: string, registry: URL, why: RegExp) =>
  assert.rejects(checkRealm(new URL(realm), registry), (err: Error) => err instanceof HttpRequestError && why.test(err.message), realm);

test('https realms anywhere routable; http only when the registry is http; no other scheme', async () => {
  await checkRealm(new URL('https://auth.example/token'), https);
  await checkRealm(new URL('https://10.0.0.1/token'), https);
  await checkRealm(new URL('http://auth.example/token'), new URL('http://registry.example'));
  await refused('http://auth.example/token', https, /^registry Bearer realm "http:\/\/auth.example\/token" uses http but the registry was contacted over https$/);
  await refused('ftp://auth.example/token', https, /uses unsupported scheme "ftp"$/);
});

test('a realm on loopback, link-local, unspecified or metadata addresses is refused unless it is the registry host', async () => {
  for (const realm of ['https://127.0.0.2/t', 'https://[::1]/t', 'https://169.254.169.254/t', 'https://0.0.0.0/t', 'https://100.100.100.200/t', 'https://168.63.129.16/t',
    'https://[fd00:ec2::254]/t', 'https://[fe80::1]/t', 'https://[::ffff:127.0.0.1]/t', 'https://[64:ff9b::a9fe:a9fe]/t', 'https://[2002:a9fe:a9fe::1]/t']) {
    await refused(realm, https, /is on .*, a loopback, link-local or cloud metadata address/);
  }
  await refused('https://localhost/t', https, /"https:\/\/localhost\/t" is on (127\.0\.0\.1|::1)/);
  await checkRealm(new URL('http://127.0.0.1:5001/token'), new URL('http://127.0.0.1:5000'));
  await checkRealm(new URL('https://LOCALHOST/token'), new URL('https://localhost:5000'));
});
