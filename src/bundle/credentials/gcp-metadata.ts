// `credentials.gcp_metadata`: a token from the GCP metadata server, fetched for each request as OPA does
// (the metadata server caches it). `scopes` asks for an OAuth2 access token, `audience` for an identity
// token (a JWT); `endpoint` moves the server, which is http://metadata.google.internal by default.
import { CredentialConfigError, type Send, type ServiceCredential } from './types.js';
import { answerJson } from '../../net/http-client.js';

export interface GcpMetadataConfig {
  endpoint?: string;
  access_token_path?: string;
  identity_token_path?: string;
  audience?: string;
  scopes?: string[];
}

const timeoutMs = 5_000;

export function gcpMetadataCredential(config: GcpMetadataConfig, ctx: { send: Send }): ServiceCredential {
  const scopes = config.scopes ?? [];
  if (!config.audience && scopes.length === 0) throw new CredentialConfigError('gcp_metadata needs audience or scopes');
  if (config.audience && scopes.length > 0) throw new CredentialConfigError('gcp_metadata takes audience or scopes, not both');
  const endpoint = config.endpoint || 'http://metadata.google.internal';
  const url = config.audience
    ? `${endpoint}${config.identity_token_path || '/computeMetadata/v1/instance/service-accounts/default/identity'}?audience=${config.audience}`
    : `${endpoint}${config.access_token_path || '/computeMetadata/v1/instance/service-accounts/default/token'}?scopes=${scopes.join(',')}`;
  return {
    async headers() {
      const res = await ctx.send(url, { method: 'GET', headers: { 'metadata-flavor': 'Google' }, timeoutMs });
      if (res.status !== 200) throw new Error(`GCP metadata request to ${url} answered HTTP ${res.status}`);
      if (config.audience) return { authorization: `Bearer ${res.body.toString('utf8')}` };
      const notJson = () => new Error(`GCP metadata answer from ${url} is not JSON`);
      const answer = answerJson<{ access_token?: unknown } | null>(res, notJson);
      if (answer === null) throw notJson();
      const token = answer.access_token;
      if (typeof token !== 'string' || !token) throw new Error(`GCP metadata answer from ${url} has no access_token`);
      return { authorization: `Bearer ${token}` };
    },
  };
}
