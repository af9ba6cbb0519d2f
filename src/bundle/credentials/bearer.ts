// `credentials.bearer`: a fixed token, or one read from token_path on every request so a rotated file is
// picked up without a restart.
import { readFile } from 'node:fs/promises';
import { CredentialConfigError, type ServiceCredential } from './types.js';

export interface BearerConfig {
  token?: string;
  token_path?: string;
  scheme?: string;
}

/** For an OCI registry (`serviceType` "oci") the token is sent base64-encoded, as OPA does. */
export function bearerCredential(config: BearerConfig, serviceType?: string): ServiceCredential {
  if (config.token && config.token_path) throw new CredentialConfigError('specify either "token" or "token_path", not both');
  const { token, token_path, scheme = 'Bearer' } = config;
  return {
    async headers() {
      const value = token_path ? (await readFile(token_path, 'utf8')).trim() : token ?? '';
      return { authorization: `${scheme} ${serviceType === 'oci' ? Buffer.from(value).toString('base64') : value}` };
    },
  };
}
