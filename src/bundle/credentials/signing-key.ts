// A private key from the configuration's `keys` section (OPA's keys.Config: `private_key` holds the PEM, or
// the secret for HS* algorithms; `algorithm` defaults to RS256), ready for jose to sign JWTs with.
import { createPrivateKey, createSecretKey, type KeyObject } from 'node:crypto';
import { OAuth2ConfigError } from '../oauth2.js';

export interface PrivateKeyConfig {
  private_key?: string;
  algorithm?: string;
}

export interface SigningKey {
  algorithm: string;
  key: KeyObject;
}

const algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'];

export function signingKeyFor(id: string, keys: Record<string, PrivateKeyConfig> | undefined): SigningKey {
  const entry = keys?.[id];
  if (!entry) throw new OAuth2ConfigError(`signing_key ${JSON.stringify(id)} refers to no entry of keys`);
  if (!entry.private_key) throw new OAuth2ConfigError(`signing_key ${JSON.stringify(id)}: keys.${id} has no private_key`);
  const algorithm = entry.algorithm ?? 'RS256';
  if (!algorithms.includes(algorithm)) throw new OAuth2ConfigError(`signing_key ${JSON.stringify(id)}: algorithm ${JSON.stringify(algorithm)} is not supported`);
  if (algorithm.startsWith('HS')) return { algorithm, key: createSecretKey(Buffer.from(entry.private_key)) };
  try {
    // createPrivateKey reads PKCS#8, PKCS#1 and SEC1 PEM alike, as OPA does.
    return { algorithm, key: createPrivateKey(entry.private_key) };
  } catch (err) {
    throw new OAuth2ConfigError(`signing_key ${JSON.stringify(id)}: keys.${id}.private_key is not a PEM private key (${(err as Error).message})`);
  }
}
