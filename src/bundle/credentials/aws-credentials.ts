// Where `s3_signing` finds AWS credentials (docs: configuration, "AWS Signature"), with OPA's settings and
// environment variables: environment_credentials, profile_credentials (an ~/.aws/credentials-style file),
// web_identity_credentials and assume_role_credentials (AWS STS), metadata_credentials (EC2 instance metadata,
// IMDSv2, or the ECS container endpoint). Credentials from STS and metadata are kept until five minutes
// before they expire. Two endpoints can be moved with the AWS SDKs' own variables, which OPA does not read:
// AWS_ENDPOINT_URL_STS and AWS_EC2_METADATA_SERVICE_ENDPOINT.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AwsCredentials } from '../../net/aws-sigv4.js';
import { signV4 } from '../../net/aws-sigv4.js';
import { CredentialConfigError, type Send } from './types.js';
import { answerJson } from '../../net/http-client.js';

export interface AwsProvidersConfig {
  environment_credentials?: Record<string, never>;
  profile_credentials?: { path?: string; profile?: string; aws_region?: string };
  metadata_credentials?: { iam_role?: string; aws_region?: string };
  web_identity_credentials?: { aws_region?: string; session_name?: string; aws_domain?: string };
  assume_role_credentials?: {
    aws_region?: string;
    iam_role_arn?: string;
    session_name?: string;
    aws_domain?: string;
    aws_signing?: Pick<AwsProvidersConfig, 'environment_credentials' | 'profile_credentials' | 'metadata_credentials'>;
  };
}

export interface AwsCredentialProvider {
  readonly kind: string;
  credentials(): Promise<AwsCredentials>;
}

interface Env {
  env: NodeJS.ProcessEnv;
  send: Send;
  now: () => number;
}

const refreshMarginMs = 5 * 60_000;
const timeoutMs = 10_000;

/** The configured providers in the order OPA (and the AWS SDKs) try them; at least one is required. */
export function awsCredentialChain(config: AwsProvidersConfig, ctx: Env): AwsCredentialProvider[] {
  const chain: AwsCredentialProvider[] = [];
  if (config.environment_credentials) chain.push(environmentProvider(ctx.env));
  if (config.assume_role_credentials) chain.push(assumeRoleProvider(config.assume_role_credentials, ctx));
  if (config.web_identity_credentials) chain.push(webIdentityProvider(config.web_identity_credentials, ctx));
  if (config.profile_credentials) chain.push(profileProvider(config.profile_credentials, ctx.env));
  if (config.metadata_credentials) chain.push(metadataProvider(config.metadata_credentials, ctx));
  if (chain.length === 0) throw new CredentialConfigError('s3_signing needs one of environment_credentials, profile_credentials, metadata_credentials, web_identity_credentials or assume_role_credentials');
  return chain;
}

/** The first provider that answers; the error lists why each one failed. */
export async function firstCredentials(chain: AwsCredentialProvider[]): Promise<AwsCredentials> {
  const errors: string[] = [];
  for (const provider of chain) {
    try {
      return await provider.credentials();
    } catch (err) {
      errors.push(`${provider.kind}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no AWS credentials: ${errors.join('; ')}`);
}

function environmentProvider(env: NodeJS.ProcessEnv): AwsCredentialProvider {
  return {
    kind: 'environment_credentials',
    async credentials() {
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) if (!env[name]) throw new Error(`${name} is not set`);
      return {
        accessKeyId: env.AWS_ACCESS_KEY_ID!,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
        region: env.AWS_REGION!,
        sessionToken: env.AWS_SESSION_TOKEN || env.AWS_SECURITY_TOKEN || undefined,
      };
    },
  };
}

function profileProvider(config: NonNullable<AwsProvidersConfig['profile_credentials']>, env: NodeJS.ProcessEnv): AwsCredentialProvider {
  const path = config.path || env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials');
  const profile = config.profile || env.AWS_PROFILE || 'default';
  return {
    kind: 'profile_credentials',
    async credentials() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        throw new Error(`cannot read credentials file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const section = parseIni(text)[profile];
      if (!section) throw new Error(`credentials file ${path} has no profile "${profile}"`);
      for (const key of ['aws_access_key_id', 'aws_secret_access_key']) if (!section[key]) throw new Error(`profile "${profile}" in credentials file ${path} does not contain "${key}"`);
      const region = config.aws_region || env.AWS_REGION;
      if (!region) throw new Error('no aws_region configured and AWS_REGION is not set');
      return { accessKeyId: section.aws_access_key_id!, secretAccessKey: section.aws_secret_access_key!, sessionToken: section.aws_session_token || undefined, region };
    },
  };
}

/** The INI dialect of AWS credentials files: [section], key = value, # and ; comments. */
function parseIni(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]!.trim()] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (current && eq > 0) current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return sections;
}

/** Credentials that expire, fetched again five minutes before they do. */
function cached(kind: string, fetch: () => Promise<AwsCredentials & { expiresAt: number }>, now: () => number): AwsCredentialProvider {
  let held: (AwsCredentials & { expiresAt: number }) | undefined;
  return {
    kind,
    async credentials() {
      if (!held || now() + refreshMarginMs >= held.expiresAt) held = await fetch();
      const { expiresAt: _expiresAt, ...credentials } = held;
      return credentials;
    },
  };
}

function stsUrl(ctx: Env, region: string, domain: string | undefined): string {
  return ctx.env.AWS_ENDPOINT_URL_STS || `https://sts.${region.toLowerCase()}.${(domain || ctx.env.AWS_DOMAIN || 'amazonaws.com').toLowerCase()}`;
}

function regionOf(configured: string | undefined, env: NodeJS.ProcessEnv, where: string): string {
  const region = configured || env.AWS_REGION;
  if (!region) throw new CredentialConfigError(`${where}: no aws_region configured and AWS_REGION is not set`);
  return region;
}

/** Reads the <Credentials> of an STS answer (AssumeRole or AssumeRoleWithWebIdentity). */
function stsCredentials(xml: string, action: string, region: string): AwsCredentials & { expiresAt: number } {
  const result = new RegExp(`<${action}Result>([\\s\\S]*)</${action}Result>`).exec(xml)?.[1];
  const field = (name: string) => result && new RegExp(`<${name}>([^<]*)</${name}>`).exec(result)?.[1];
  const accessKeyId = field('AccessKeyId');
  const secretAccessKey = field('SecretAccessKey');
  if (!accessKeyId || !secretAccessKey) throw new Error(`STS ${action} answer has no credentials`);
  const expiresAt = Date.parse(field('Expiration') ?? '');
  return { accessKeyId, secretAccessKey, sessionToken: field('SessionToken') || undefined, region, expiresAt: Number.isNaN(expiresAt) ? 0 : expiresAt };
}

async function callSts(ctx: Env, url: string, form: URLSearchParams, sign?: (headers: Record<string, string>, body: Buffer) => Record<string, string>): Promise<string> {
  const body = Buffer.from(form.toString());
  let headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (sign) headers = { ...headers, ...sign(headers, body) };
  const res = await ctx.send(url, { method: 'POST', headers, body, timeoutMs });
  if (res.status !== 200) throw new Error(`STS ${form.get('Action')} at ${url} answered HTTP ${res.status}`);
  return res.body.toString('utf8');
}

function webIdentityProvider(config: NonNullable<AwsProvidersConfig['web_identity_credentials']>, ctx: Env): AwsCredentialProvider {
  const where = 'web_identity_credentials';
  const roleArn = ctx.env.AWS_ROLE_ARN;
  if (!roleArn) throw new CredentialConfigError(`${where}: AWS_ROLE_ARN is not set`);
  const tokenFile = ctx.env.AWS_WEB_IDENTITY_TOKEN_FILE;
  if (!tokenFile) throw new CredentialConfigError(`${where}: AWS_WEB_IDENTITY_TOKEN_FILE is not set`);
  const region = regionOf(config.aws_region, ctx.env, where);
  const url = stsUrl(ctx, region, config.aws_domain);
  return cached(where, async () => {
    let token: string;
    try {
      token = await readFile(tokenFile, 'utf8');
    } catch (err) {
      throw new Error(`cannot read web identity token file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const form = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      RoleArn: roleArn,
      RoleSessionName: config.session_name || 'open-policy-agent',
      Version: '2011-06-15',
      WebIdentityToken: token,
    });
    return stsCredentials(await callSts(ctx, url, form), 'AssumeRoleWithWebIdentity', region);
  }, ctx.now);
}

function assumeRoleProvider(config: NonNullable<AwsProvidersConfig['assume_role_credentials']>, ctx: Env): AwsCredentialProvider {
  const where = 'assume_role_credentials';
  const signing = config.aws_signing;
  if (!signing) throw new CredentialConfigError(`${where}: aws_signing (environment_credentials, profile_credentials or metadata_credentials) is required`);
  const extra = Object.keys(signing).filter((k) => !['environment_credentials', 'profile_credentials', 'metadata_credentials'].includes(k));
  if (extra.length > 0) throw new CredentialConfigError(`${where}.aws_signing: ${extra.join(', ')} cannot sign AssumeRole`);
  // OPA signs with the first of these that is configured, without falling back to the others.
  const signer = signing.environment_credentials
    ? environmentProvider(ctx.env)
    : signing.profile_credentials
      ? profileProvider(signing.profile_credentials, ctx.env)
      : signing.metadata_credentials
        ? metadataProvider({ ...signing.metadata_credentials, aws_region: regionOf(signing.metadata_credentials.aws_region, ctx.env, `${where}.aws_signing.metadata_credentials`) }, ctx)
        : undefined;
  if (!signer) throw new CredentialConfigError(`${where}.aws_signing needs environment_credentials, profile_credentials or metadata_credentials`);
  const region = regionOf(config.aws_region, ctx.env, where);
  const roleArn = config.iam_role_arn || ctx.env.AWS_ROLE_ARN;
  if (!roleArn) throw new CredentialConfigError(`${where}: no iam_role_arn configured and AWS_ROLE_ARN is not set`);
  const url = stsUrl(ctx, region, config.aws_domain);
  return cached(where, async () => {
    const credentials = await signer.credentials();
    const form = new URLSearchParams({ Action: 'AssumeRole', RoleArn: roleArn, RoleSessionName: config.session_name || 'open-policy-agent', Version: '2011-06-15' });
    const sign = (headers: Record<string, string>, body: Buffer) => signV4({ method: 'POST', url, headers, body }, { service: 'sts', credentials, time: new Date(ctx.now()) });
    return stsCredentials(await callSts(ctx, url, form, sign), 'AssumeRole', region);
  }, ctx.now);
}

function metadataProvider(config: NonNullable<AwsProvidersConfig['metadata_credentials']>, ctx: Env): AwsCredentialProvider {
  const where = 'metadata_credentials';
  if (!config.aws_region) throw new CredentialConfigError(`${where}: aws_region is required`);
  const region = config.aws_region;
  const { env } = ctx;
  const ecs = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI !== undefined || env.AWS_CONTAINER_CREDENTIALS_FULL_URI !== undefined;
  const ec2Base = (env.AWS_EC2_METADATA_SERVICE_ENDPOINT || 'http://169.254.169.254').replace(/\/+$/, '');
  return cached(where, async () => {
    const headers: Record<string, string> = {};
    let url: string;
    // Checked per request, as OPA does, so that another provider of the chain can still answer.
    if (!config.iam_role && !ecs) throw new Error('the metadata endpoint cannot be determined: set iam_role (EC2) or run where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI is set (ECS)');
    if (config.iam_role) {
      url = `${ec2Base}/latest/meta-data/iam/security-credentials/${config.iam_role}`;
    } else if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI !== undefined) {
      url = `http://169.254.170.2${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}`;
    } else {
      url = env.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
    }
    if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI !== undefined) {
      const tokenFile = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
      const token = tokenFile ? await readFile(tokenFile, 'utf8') : env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
      if (token === undefined) throw new Error('AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) is not set');
      headers.authorization = token;
    }
    if (!ecs) {
      // IMDSv2: a session token from a PUT first, which a server-side request forgery cannot obtain.
      const tokenUrl = `${ec2Base}/latest/api/token`;
      const res = await ctx.send(tokenUrl, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' }, timeoutMs });
      if (res.status !== 200) throw new Error(`metadata token request to ${tokenUrl} answered HTTP ${res.status}`);
      headers['x-aws-ec2-metadata-token'] = res.body.toString('utf8');
    }
    const res = await ctx.send(url, { method: 'GET', headers, timeoutMs });
    if (res.status !== 200) throw new Error(`metadata request to ${url} answered HTTP ${res.status}`);
    const payload = answerJson<{ Code?: string; AccessKeyId?: string; SecretAccessKey?: string; Token?: string; Expiration?: string }>(res, () => new Error(`metadata answer from ${url} is not JSON`));
    // Only the EC2 endpoint sends Code.
    if (config.iam_role && payload.Code !== 'Success') throw new Error(`metadata service query did not succeed: ${payload.Code}`);
    if (!payload.AccessKeyId || !payload.SecretAccessKey) throw new Error(`metadata answer from ${url} has no credentials`);
    const expiresAt = Date.parse(payload.Expiration ?? '');
    return { accessKeyId: payload.AccessKeyId, secretAccessKey: payload.SecretAccessKey, sessionToken: payload.Token || undefined, region, expiresAt: Number.isNaN(expiresAt) ? 0 : expiresAt };
  }, ctx.now);
}
