// `s3_signing` against a loopback S3 stand-in that recomputes every SigV4 signature with botocore's signer:
// each credential provider (environment, profile, web identity and assume-role through STS, EC2 and ECS
// metadata), the settings refused at start-up, and the same bundle pulled by the reference OPA and by Verdict.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleDownloader, type DownloadedBundle } from '../../src/bundle/download.js';
import { ServiceClient, type ServiceConfig } from '../../src/bundle/service.js';
import { writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import type { S3SigningConfig } from '../../src/bundle/credentials/s3-signing.js';
import { startFakeAws, type FakeAws } from './peers/fake-aws.js';
import { tempDir } from './temp-dir.js';
import { startOpa, startVerdict } from '../server/harness.js';
import { decideOnceLoaded } from './decide.js';

const file = (path: string, body: string): BundleFile => ({ path, data: Buffer.from(body) });
const root = tempDir('verdict-s3-');
const user = { id: 'AKIAVERDICTTEST00001', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const roleArn = 'arn:aws:iam::123456789012:role/verdict';
let aws: FakeAws;

before(async () => {
  mkdirSync(join(root, 'policies'));
  const bundle = await writeBundleArchive([
    file('.manifest', JSON.stringify({ revision: 's3-r1', roots: ['authz'] })),
    file('authz/policy.rego', 'package authz\n\ndefault allow := false\n\nallow if input.user in data.authz.admins\n'),
    file('authz/data.json', JSON.stringify({ admins: ['alice'] })),
  ]);
  writeFileSync(join(root, 'policies', 'authz.tar.gz'), bundle);
  aws = await startFakeAws({
    root,
    users: { [user.id]: { secret: user.secret } },
    role_arn: roleArn,
    web_identity_token: 'eyJ.web-identity.token',
    imds_token: 'imds-session-token',
    ecs_token: 'ecs-container-token',
  });
});
after(() => aws?.close());

const baseEnv = () => ({ AWS_ACCESS_KEY_ID: user.id, AWS_SECRET_ACCESS_KEY: user.secret, AWS_REGION: 'eu-west-1' });

function client(s3_signing: S3SigningConfig, env: NodeJS.ProcessEnv, extra: Partial<ServiceConfig> = {}): ServiceClient {
  return new ServiceClient({ name: 's3', url: `${aws.url}/policies`, credentials: { s3_signing }, ...extra }, { env });
}

async function pull(c: ServiceClient): Promise<{ received: DownloadedBundle[]; lastError?: string }> {
  const received: DownloadedBundle[] = [];
  const d = new BundleDownloader('authz', { service: 's3', resource: 'authz.tar.gz', trigger: 'manual' }, c, async (b) => void received.push(b));
  const status = await d.trigger();
  return { received, lastError: status.lastError };
}

async function lastS3(): Promise<{ ok: boolean; problem?: string | null; access_key?: string }> {
  return (await aws.log()).filter((e) => e.kind === 's3').at(-1)!;
}

test('environment credentials: the S3 stand-in verifies the signature with botocore and serves the bundle', async () => {
  const ok = await pull(client({ environment_credentials: {} }, baseEnv(), { headers: { 'x-tenant': 'acme' } }));
  assert.equal(ok.lastError, undefined);
  assert.equal(ok.received.length, 1);
  const judged = await lastS3();
  assert.deepEqual([judged.ok, judged.problem, judged.access_key], [true, null, user.id]);

  const wrong = await pull(client({ environment_credentials: {} }, { ...baseEnv(), AWS_SECRET_ACCESS_KEY: 'not-the-secret' }));
  assert.match(wrong.lastError!, /HTTP 403/);
  assert.equal(wrong.received.length, 0);
  assert.equal((await lastS3()).problem, 'signature mismatch');

  const missing = await pull(client({ environment_credentials: {} }, { AWS_REGION: 'eu-west-1' }));
  assert.match(missing.lastError!, /environment_credentials: AWS_ACCESS_KEY_ID is not set/);
});

test('profile credentials: the named profile of a credentials file, AWS_REGION for the region', async () => {
  const dir = tempDir('verdict-aws-profile-');
  const path = join(dir, 'credentials');
  writeFileSync(path, `[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = nope\n\n# the one to use\n[verdict]\naws_access_key_id = ${user.id}\naws_secret_access_key = ${user.secret}\n`, { mode: 0o600 });
  const ok = await pull(client({ profile_credentials: { path, profile: 'verdict' } }, { AWS_REGION: 'us-east-1' }));
  assert.equal(ok.lastError, undefined);
  assert.equal(ok.received.length, 1);
  const viaEnv = await pull(client({ profile_credentials: {} }, { AWS_SHARED_CREDENTIALS_FILE: path, AWS_PROFILE: 'verdict', AWS_REGION: 'us-east-1' }));
  assert.equal(viaEnv.lastError, undefined);
  const absent = await pull(client({ profile_credentials: { path, profile: 'nobody', aws_region: 'us-east-1' } }, {}));
  assert.match(absent.lastError!, /has no profile "nobody"/);
});

test('web identity: STS AssumeRoleWithWebIdentity once, then the temporary credentials sign (with their session token)', async () => {
  const dir = tempDir('verdict-aws-wi-');
  writeFileSync(join(dir, 'token'), 'eyJ.web-identity.token');
  const env = { AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, 'token'), AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_STS: `${aws.url}/sts` };
  const c = client({ web_identity_credentials: { session_name: 'verdict-test' } }, env);
  for (let i = 0; i < 2; i++) assert.equal((await pull(c)).lastError, undefined);
  const log = await aws.log();
  const sts = log.filter((e) => e.kind === 'sts:AssumeRoleWithWebIdentity');
  assert.equal(sts.length, 1, 'temporary credentials are reused until near expiry');
  assert.deepEqual([sts[0]!.ok, sts[0]!.session], [true, 'verdict-test']);
  const s3 = log.filter((e) => e.kind === 's3').slice(-2);
  assert.ok(s3.every((e) => e.ok && e.access_key!.startsWith('ASIASTS')), JSON.stringify(s3));

  writeFileSync(join(dir, 'token'), 'a-token-sts-refuses');
  const refused = await pull(client({ web_identity_credentials: {} }, env));
  assert.match(refused.lastError!, /AssumeRoleWithWebIdentity .* answered HTTP 403/);
});

test('assume role: an AssumeRole call signed with the base credentials, verified by botocore too', async () => {
  const env = { ...baseEnv(), AWS_ENDPOINT_URL_STS: `${aws.url}/sts` };
  const ok = await pull(client({ assume_role_credentials: { iam_role_arn: roleArn, aws_signing: { environment_credentials: {} } } }, env));
  assert.equal(ok.lastError, undefined);
  const sts = (await aws.log()).filter((e) => e.kind === 'sts:AssumeRole').at(-1)!;
  assert.deepEqual([sts.ok, sts.session], [true, 'open-policy-agent']);
  const badBase = await pull(client({ assume_role_credentials: { iam_role_arn: roleArn, aws_signing: { environment_credentials: {} } } }, { ...env, AWS_SECRET_ACCESS_KEY: 'x' }));
  assert.match(badBase.lastError!, /AssumeRole .* answered HTTP 403/);
});

test('metadata credentials: EC2 IMDSv2 (session token first) and the ECS container endpoint with its token', async () => {
  const ec2 = await pull(client({ metadata_credentials: { iam_role: 'verdict-node', aws_region: 'eu-west-1' } }, { AWS_EC2_METADATA_SERVICE_ENDPOINT: aws.url }));
  assert.equal(ec2.lastError, undefined);
  assert.ok((await lastS3()).access_key!.startsWith('ASIAEC2'));
  const ecs = await pull(client({ metadata_credentials: { aws_region: 'eu-west-1' } }, { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${aws.url}/ecs-credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'ecs-container-token' }));
  assert.equal(ecs.lastError, undefined);
  assert.ok((await lastS3()).access_key!.startsWith('ASIAECS'));
  const kinds = (await aws.log()).filter((e) => e.kind === 'imds-token' || e.kind === 'imds' || e.kind === 'ecs').map((e) => `${e.kind}:${e.ok}`);
  assert.deepEqual(kinds, ['imds-token:true', 'imds:true', 'ecs:true']);
  // Neither an iam_role nor an ECS endpoint: checked per request as in OPA, so the service still starts and
  // the rest of the chain signs; alone, the provider fails the download with the reason.
  const chained = await pull(client({ metadata_credentials: { aws_region: 'eu-west-1' }, environment_credentials: {} }, baseEnv()));
  assert.equal(chained.lastError, undefined);
  const none = await pull(client({ metadata_credentials: { aws_region: 'eu-west-1' } }, {}));
  assert.match(none.lastError!, /metadata_credentials: the metadata endpoint cannot be determined/);
});

test('settings OPA refuses stop the service from being set up, naming the service and the setting', () => {
  const refuse = (s3: S3SigningConfig, env: NodeJS.ProcessEnv, pattern: RegExp) => assert.throws(() => client(s3, env), pattern);
  refuse({}, {}, /service s3: credentials.s3_signing: s3_signing needs one of environment_credentials/);
  refuse({ web_identity_credentials: {} }, { AWS_REGION: 'x' }, /service s3: credentials.s3_signing: web_identity_credentials: AWS_ROLE_ARN is not set/);
  refuse({ metadata_credentials: { iam_role: 'r' } }, {}, /metadata_credentials: aws_region is required/);
  refuse({ environment_credentials: {}, signature_version: '4a' }, {}, /signature_version "4a" is not supported/);
  refuse({ environment_credentials: {}, service: 'ecr' }, {}, /"ecr" must be used with service type "oci"/);
  assert.throws(() => new ServiceClient({ name: 's3', url: aws.url, credentials: { s3_signing: { environment_credentials: {} }, bearer: { token: 't' } } }), /service s3: at most one credential method/);
});

test('the reference OPA and Verdict pull the same signed bundle and answer the same decisions', async () => {
  Object.assign(process.env, baseEnv());
  const config = `services:\n  s3:\n    url: ${aws.url}/policies\n    credentials:\n      s3_signing:\n        environment_credentials: {}\nbundles:\n  authz:\n    service: s3\n    resource: authz.tar.gz\n`;
  const configFile = join(tempDir('verdict-s3-config-'), 'config.yaml');
  writeFileSync(configFile, config);
  const before = (await aws.log()).length;
  const opa = await startOpa(configFile, []);
  const verdict = await startVerdict(config, []);
  try {
    for (const who of ['alice', 'mallory']) assert.deepEqual(await decideOnceLoaded(verdict.url, who), await decideOnceLoaded(opa.url, who));
    assert.deepEqual(await decideOnceLoaded(verdict.url, 'alice'), { result: true });
    const s3 = (await aws.log()).slice(before).filter((e) => e.kind === 's3');
    assert.ok(s3.length >= 2 && s3.every((e) => e.ok), JSON.stringify(s3));
  } finally {
    await opa.stop();
    await verdict.close(1000);
  }
});
