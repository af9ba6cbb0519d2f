// `credentials.s3_signing`: each request signed with AWS Signature Version 4 (src/net/aws-sigv4.ts) using the
// credentials the configured providers give (aws-credentials.ts). `service` defaults to s3, as in OPA.
import { signV4 } from '../../net/aws-sigv4.js';
import { awsCredentialChain, firstCredentials, type AwsProvidersConfig } from './aws-credentials.js';
import { CredentialConfigError, type Send, type ServiceCredential } from './types.js';

export interface S3SigningConfig extends AwsProvidersConfig {
  service?: string;
  signature_version?: string;
}

export function s3SigningCredential(config: S3SigningConfig, ctx: { env: NodeJS.ProcessEnv; send: Send; now: () => number; serviceType?: string }): ServiceCredential {
  if (ctx.serviceType === 'oci') throw new CredentialConfigError('s3_signing with an OCI service (AWS ECR authorization tokens) is not supported by Verdict');
  const version = config.signature_version ?? '4';
  if (version !== '4') throw new CredentialConfigError(`s3_signing.signature_version ${JSON.stringify(version)} is not supported by Verdict: only "4" (SigV4A is not implemented)`);
  const service = (config.service ?? 's3').toLowerCase();
  if (service === 'ecr') throw new CredentialConfigError('s3_signing.service "ecr" must be used with service type "oci"');
  const { service: _service, signature_version: _version, ...providers } = config;
  const chain = awsCredentialChain(providers, ctx);
  return {
    async headers(request) {
      const credentials = await firstCredentials(chain);
      return signV4({ method: request.method, url: request.url, headers: request.headers, body: request.body ?? '' }, { service, credentials, time: new Date(ctx.now()) });
    },
  };
}
