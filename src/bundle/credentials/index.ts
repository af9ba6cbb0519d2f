// Picks a service's credential from `services[_].credentials` (docs: configuration, "Services"): at most one
// kind, as OPA. Every setting is checked here, when the service is set up, so a bad one stops start-up.
import { OAuth2ClientCredentials, type OAuth2Config } from '../oauth2.js';
import { azureManagedIdentityCredential, type AzureManagedIdentityConfig } from './azure-managed-identity.js';
import { bearerCredential, type BearerConfig } from './bearer.js';
import { gcpMetadataCredential, type GcpMetadataConfig } from './gcp-metadata.js';
import { s3SigningCredential, type S3SigningConfig } from './s3-signing.js';
import type { PrivateKeyConfig } from './signing-key.js';
import { CredentialConfigError, type Send, type ServiceCredential } from './types.js';

export interface CredentialsConfig {
  bearer?: BearerConfig;
  oauth2?: OAuth2Config;
  client_tls?: { cert: string; private_key: string; private_key_passphrase?: string; ca_cert?: string; system_ca_required?: boolean };
  s3_signing?: S3SigningConfig;
  gcp_metadata?: GcpMetadataConfig;
  azure_managed_identity?: AzureManagedIdentityConfig;
  plugin?: string;
}

export interface CredentialContext {
  serviceType?: string;
  keys?: Record<string, PrivateKeyConfig>;
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** Requests to the service's own token endpoint, with the service's TLS settings. */
  sendWithServiceTls: Send;
  /** Requests to cloud metadata and STS endpoints, trusting the system's CAs. */
  send: Send;
}

const noHeaders: ServiceCredential = { headers: async () => ({}) };

/** The credential for one service; client_tls works at the TLS layer and adds no header. */
export function credentialFor(config: CredentialsConfig | undefined, ctx: CredentialContext): ServiceCredential {
  const kinds = Object.keys(config ?? {}) as (keyof CredentialsConfig)[];
  if (kinds.length > 1) throw new CredentialConfigError(`at most one credential method may be set, not ${kinds.join(' and ')}`);
  if (!config || kinds.length === 0) return noHeaders;
  const kind = kinds[0]!;
  const within = (fn: () => ServiceCredential) => {
    try {
      return fn();
    } catch (err) {
      throw new CredentialConfigError(`credentials.${kind}: ${(err as Error).message}`);
    }
  };
  switch (kind) {
    case 'bearer':
      return within(() => bearerCredential(config.bearer!, ctx.serviceType));
    case 'oauth2':
      return within(() => {
        const client = new OAuth2ClientCredentials(config.oauth2!, (url, init) => ctx.sendWithServiceTls(url, { ...init, timeoutMs: 10_000 }), { keys: ctx.keys, now: ctx.now });
        return { headers: async () => ({ authorization: `Bearer ${await client.token()}` }), forget: () => client.forget() };
      });
    case 'client_tls':
      return noHeaders;
    case 's3_signing':
      return within(() => s3SigningCredential(config.s3_signing!, ctx));
    case 'gcp_metadata':
      return within(() => gcpMetadataCredential(config.gcp_metadata!, ctx));
    case 'azure_managed_identity':
      return within(() => azureManagedIdentityCredential(config.azure_managed_identity!, ctx));
    case 'plugin':
      throw new CredentialConfigError('credentials.plugin names a Go authentication plugin compiled into OPA; Verdict cannot load one');
    default:
      throw new CredentialConfigError(`credentials.${String(kind)} is not a credential method`);
  }
}
