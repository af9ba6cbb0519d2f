import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, redactConfig, substituteEnv } from '../../src/config/config.js';

test('reads OPA keys from YAML and substitutes ${ENV} references', () => {
  const config = parseConfig(
    `services:
  acme:
    url: \${BUNDLE_URL}
    credentials:
      bearer:
        token: \${TOKEN}
bundles:
  authz:
    service: acme
    resource: bundles/authz.tar.gz
default_decision: /gateway/authz/allow
verdict:
  workers: 2
`,
    'c.yaml',
    { BUNDLE_URL: 'https://bundles.example.com', TOKEN: 's3cret' },
  );
  assert.equal((config.services as Record<string, { url: string }>).acme.url, 'https://bundles.example.com');
  assert.equal(config.default_decision, '/gateway/authz/allow');
  assert.equal(config.verdict?.workers, 2);
});

test('an unset variable becomes the empty string, as in OPA', () => {
  assert.equal(substituteEnv('a: "${NOPE}"', {}), 'a: ""');
});

test('JSON config files are read too', () => {
  assert.deepEqual(parseConfig('{"labels":{"region":"eu"}}', 'c.json').labels, { region: 'eu' });
});

test('an invalid file names the JSON path and what was expected', () => {
  assert.throws(() => parseConfig('services:\n  acme:\n    url: 5\n', 'c.yaml'), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /c\.yaml: invalid configuration/);
    assert.match(err.message, /at \/services\/acme\/url: must be string/);
    return true;
  });
  assert.throws(() => parseConfig('bundels: {}\n', 'c.yaml'), /at \/: unknown key "bundels"/);
  assert.throws(() => parseConfig('keys:\n  k:\n    algorithm: RS999\n', 'c.yaml'), /at \/keys\/k\/algorithm: expected one of "RS256"/);
  assert.throws(() => parseConfig('verdict:\n  workers: 0\n', 'c.yaml'), /at \/verdict\/workers: must be >= 1/);
  assert.throws(() => parseConfig('a: [\n', 'c.yaml'), /c\.yaml: not valid YAML or JSON/);
});

test('GET /v1/config view drops credentials and key material', () => {
  const config = parseConfig(
    'services:\n  acme:\n    url: https://x\n    credentials:\n      bearer:\n        token: t\nkeys:\n  k:\n    key: secret\n    algorithm: HS256\n',
    'c.yaml',
  );
  const shown = redactConfig(config, { id: 'i', version: 'v' });
  assert.deepEqual(shown.services, { acme: { url: 'https://x' } });
  assert.deepEqual(shown.keys, { k: { algorithm: 'HS256' } });
  assert.equal(shown.default_decision, '/system/main');
  assert.doesNotMatch(JSON.stringify(shown), /secret|"t"/);
});

test('the pip section is validated with the rest of the file, against schemas/pip.schema.json', () => {
  const pip = 'pip:\n  adapters:\n    groups:\n      type: http\n      settings: { url: "http://pip.test/{user}" }\n  enrich:\n    - { paths: [gateway], adapter: groups, inputs: { user: input.user } }\n';
  assert.equal((parseConfig(pip, 'c.yaml').pip as { adapters: Record<string, unknown> }).adapters.groups !== undefined, true);
  assert.throws(() => parseConfig('pip:\n  adapters:\n    groups:\n      type: nis\n', 'c.yaml'), /at \/pip\/adapters\/groups\/type: expected one of "http"/);
  assert.throws(() => parseConfig('pip:\n  caller_pip: keep\n', 'c.yaml'), /at \/pip\/caller_pip: expected one of "reject", "strip"/);
  assert.throws(() => parseConfig('pip:\n  adaptors: {}\n', 'c.yaml'), /at \/pip: unknown key "adaptors"/);
});

test('GET /v1/config view drops PIP adapter settings (passwords, secrets, connection strings)', () => {
  const config = parseConfig(
    'pip:\n  adapters:\n    dir:\n      type: ldap\n      timeout: 200ms\n      settings:\n        url: ldap://x\n        base: dc=x\n        filter: (uid={user})\n        bind_password: hunter2\n',
    'c.yaml',
  );
  const shown = redactConfig(config, { id: 'i', version: 'v' });
  assert.deepEqual(shown.pip, { adapters: { dir: { type: 'ldap', timeout: '200ms' } } });
  assert.equal((config.pip as { adapters: { dir: { settings: object } } }).adapters.dir.settings !== undefined, true, 'the running config keeps them');
});

test('services: unknown keys at any depth of a service, its tls and each credential kind are refused with their path', () => {
  const service = (body: string) => `services:\n  acme:\n    url: https://x\n${body}`;
  assert.throws(() => parseConfig(service('    tls:\n      ca_certs: x\n'), 'c.yaml'), /at \/services\/acme\/tls: unknown key "ca_certs"/);
  assert.throws(() => parseConfig(service('    credentail: {}\n'), 'c.yaml'), /at \/services\/acme: unknown key "credentail"/);
  assert.throws(() => parseConfig(service('    credentials:\n      kerberos: {}\n'), 'c.yaml'), /at \/services\/acme\/credentials: unknown key "kerberos"/);
  assert.throws(
    () => parseConfig(service('    credentials:\n      oauth2:\n        token_url: https://idp\n        client_secret_path: /x\n'), 'c.yaml'),
    /at \/services\/acme\/credentials\/oauth2: unknown key "client_secret_path"/,
  );
  assert.throws(
    () => parseConfig(service('    credentials:\n      s3_signing:\n        web_identity_credentials:\n          role_arn: x\n'), 'c.yaml'),
    /at \/services\/acme\/credentials\/s3_signing\/web_identity_credentials: unknown key "role_arn"/,
  );
  assert.throws(
    () => parseConfig(service('    credentials:\n      s3_signing:\n        assume_role_credentials:\n          aws_signing:\n            web_identity_credentials: {}\n'), 'c.yaml'),
    /at \/services\/acme\/credentials\/s3_signing\/assume_role_credentials\/aws_signing: unknown key "web_identity_credentials"/,
  );
  assert.throws(() => parseConfig(service('    credentials:\n      gcp_metadata:\n        scope: [x]\n'), 'c.yaml'), /at \/services\/acme\/credentials\/gcp_metadata: unknown key "scope"/);
  assert.throws(() => parseConfig(service('    credentials:\n      azure_managed_identity:\n        tenant: x\n'), 'c.yaml'), /at \/services\/acme\/credentials\/azure_managed_identity: unknown key "tenant"/);
  assert.throws(() => parseConfig(service('    type: s3\n'), 'c.yaml'), /at \/services\/acme\/type: expected one of "", "oci"/);
  assert.throws(() => parseConfig('services:\n  - name: acme\n    url: https://x\n    header: {}\n', 'c.yaml'), /at \/services\/0: unknown key "header"/);
  const full = parseConfig(
    service('    type: ""\n    tls: { ca_cert: /ca.pem, system_ca_required: true }\n    credentials:\n      s3_signing:\n        environment_credentials: {}\n        service: s3\n'),
    'c.yaml',
  );
  assert.ok(full.services);
});
