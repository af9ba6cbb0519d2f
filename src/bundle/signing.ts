// Bundle signatures as OPA defines them (docs: management-bundles, "Signing"): `.signatures.json` holds one JWS
// whose payload lists every file of the bundle with its digest. Verification checks the JWS with a configured key,
// the scope, and that the bundle holds exactly the signed files with the signed digests.
import { createPrivateKey, createPublicKey, createSecretKey, X509Certificate, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import { BundleError, type BundleFile } from './files.js';
import { hashBundleFile, isHashAlgorithm, type HashAlgorithm } from './file-hash.js';

export const signingAlgorithms = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA',
] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

export function isSigningAlgorithm(name: string): name is SigningAlgorithm {
  return (signingAlgorithms as readonly string[]).includes(name);
}

/** One entry of OPA's top-level `keys` config: a PEM public key (or certificate), or an HMAC secret. */
export interface KeyConfig {
  key: string;
  /** Default RS256, as OPA. */
  algorithm?: SigningAlgorithm;
  scope?: string;
}

/** A bundle's `signing` config joined with the top-level `keys`; absent means the bundle must not be signed. */
export interface VerificationConfig {
  keys: Record<string, KeyConfig>;
  /** `bundles.<name>.signing.keyid`: wins over the JWS `kid` header and the deprecated `keyid` claim. */
  keyId?: string;
  /** `bundles.<name>.signing.scope`: wins over the key's own scope. */
  scope?: string;
  /** Glob patterns (Go filepath.Match) of files left out of verification. */
  excludeFiles?: string[];
  /** OPA's `allow_unsigned_delta_bundles`: delta bundles cannot carry signatures. */
  allowUnsignedDeltaBundles?: boolean;
}

/** The payload of a bundle signature; `keyid` is OPA's deprecated claim, other claims pass through. */
export interface SignaturePayload {
  files: Array<{ name: string; hash: string; algorithm: string }>;
  keyid?: string;
  scope?: string;
  iat?: number;
  iss?: string;
  [claim: string]: unknown;
}

export interface VerifiedFiles {
  /** The bundle's files without `.signatures.json`: what the bundle loader reads. */
  files: BundleFile[];
  /** Present when the bundle was signed and verified. */
  signature?: { keyId: string; scope: string; payload: SignaturePayload };
}

/** A bundle whose signature is missing, unexpected or does not verify; the message names the reason. */
export class BundleSignatureError extends BundleError {
  override name = 'BundleSignatureError';
}

const signaturesFileName = '.signatures.json';

function isSignaturesFile(path: string): boolean {
  return path === signaturesFileName || path.endsWith('/' + signaturesFileName);
}

function isDeltaBundle(files: BundleFile[]): boolean {
  return files.some((f) => f.path === 'patch.json' || f.path.endsWith('/patch.json'));
}

/**
 * Verifies a bundle's signature, or its absence, against the bundle's signing config.
 * OPA's rules: signed but not configured → refused; configured but unsigned → refused.
 */
export async function verifyBundleSignatures(
  bundleFiles: BundleFile[],
  config: VerificationConfig | undefined,
): Promise<VerifiedFiles> {
  const signatureFiles = bundleFiles.filter((f) => isSignaturesFile(f.path));
  const files = bundleFiles.filter((f) => !isSignaturesFile(f.path));
  if (signatureFiles.length > 1) {
    throw new BundleSignatureError(`bundle contains multiple signatures files: ${signatureFiles.map((f) => JSON.stringify(f.path)).join(' and ')}`);
  }
  if (isDeltaBundle(files)) {
    if (config && !config.allowUnsignedDeltaBundles) {
      throw new BundleSignatureError('delta bundles do not support signature verification, but signing is configured for this bundle');
    }
    return { files };
  }
  const signaturesFile = signatureFiles[0];
  if (!signaturesFile) {
    if (config) throw new BundleSignatureError('bundle missing .signatures.json file, but signing is configured for this bundle');
    return { files };
  }
  if (!config) {
    throw new BundleSignatureError('bundle is signed (.signatures.json) but no verification key is configured for it');
  }
  const token = readSignatureToken(signaturesFile);
  const { keyId, scope, payload } = await verifyToken(token, config);
  checkFileDigests(files, payload, config.excludeFiles ?? []);
  return { files, signature: { keyId, scope, payload } };
}

function readSignatureToken(file: BundleFile): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(file.data.toString('utf8'));
  } catch (err) {
    throw new BundleSignatureError(`.signatures.json is not valid JSON: ${(err as Error).message}`);
  }
  const signatures = (parsed as { signatures?: unknown } | null)?.signatures;
  if (signatures !== undefined && !Array.isArray(signatures)) {
    throw new BundleSignatureError('.signatures.json: "signatures" must be an array of JWTs');
  }
  if (!signatures || signatures.length === 0) throw new BundleSignatureError('.signatures.json: missing JWT (expected exactly one)');
  if (signatures.length > 1) throw new BundleSignatureError('.signatures.json: multiple JWTs not supported (expected exactly one)');
  if (typeof signatures[0] !== 'string') throw new BundleSignatureError('.signatures.json: the JWT must be a string');
  return signatures[0];
}

function decodePayload(token: string): SignaturePayload {
  const part = token.split('.')[1];
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
  } catch {
    throw new BundleSignatureError('.signatures.json: the JWT payload is not valid base64url JSON');
  }
  const files = (payload as { files?: unknown } | null)?.files;
  if (typeof payload !== 'object' || payload === null || (files !== undefined && !Array.isArray(files))) {
    throw new BundleSignatureError('.signatures.json: the JWT payload must be an object with a "files" array');
  }
  return { ...(payload as SignaturePayload), files: (files ?? []) as SignaturePayload['files'] };
}

async function verifyToken(token: string, config: VerificationConfig) {
  let header: { kid?: unknown };
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new BundleSignatureError('.signatures.json: the JWT is malformed');
  }
  const unverified = decodePayload(token);
  const keyId = config.keyId || (typeof header.kid === 'string' ? header.kid : '') || unverified.keyid || '';
  if (!keyId) throw new BundleSignatureError('bundle signature names no key (no keyid configured, no kid header) and the verification key ID is empty');
  const keyConfig = Object.hasOwn(config.keys, keyId) ? config.keys[keyId] : undefined;
  if (!keyConfig) throw new BundleSignatureError(`verification key corresponding to ID ${keyId} not found`);
  const algorithm = keyConfig.algorithm ?? 'RS256';
  const key = verificationKey(keyId, keyConfig.key, algorithm);
  try {
    // The configured algorithm is the only one accepted, so a token cannot pick a weaker one (e.g. HS with a public key).
    await compactVerify(token, key, { algorithms: [algorithm] });
  } catch {
    throw new BundleSignatureError(`failed to verify the bundle signature with key ${JSON.stringify(keyId)} (${algorithm})`);
  }
  const scope = config.scope || keyConfig.scope || '';
  if ((unverified.scope ?? '') !== scope) throw new BundleSignatureError('bundle signature scope mismatch');
  return { keyId, scope, payload: unverified };
}

function verificationKey(keyId: string, material: string, algorithm: SigningAlgorithm): KeyObject {
  try {
    if (algorithm.startsWith('HS')) return createSecretKey(Buffer.from(material, 'utf8'));
    if (material.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(material).publicKey;
    // A private key is accepted too, as OPA does; its public half is used.
    return createPublicKey(material);
  } catch (err) {
    throw new BundleSignatureError(`verification key ${JSON.stringify(keyId)} is not a usable PEM key: ${(err as Error).message}`);
  }
}

function checkFileDigests(files: BundleFile[], payload: SignaturePayload, exclude: string[]): void {
  const signed = new Map(payload.files.map((f) => [String(f.name).replace(/^\//, ''), f]));
  const excluded = exclude.map(globToRegExp);
  for (const file of files) {
    if (excluded.some((re) => re.test(file.path))) {
      signed.delete(file.path);
      continue;
    }
    const entry = signed.get(file.path);
    if (!entry) throw new BundleSignatureError(`file ${file.path} not included in bundle signature`);
    if (!entry.algorithm) throw new BundleSignatureError(`no hashing algorithm provided for file ${file.path}`);
    if (!isHashAlgorithm(entry.algorithm)) throw new BundleSignatureError(`unsupported hashing algorithm ${JSON.stringify(entry.algorithm)} for file ${file.path}`);
    const actual = hashBundleFile(file.path, file.data, entry.algorithm);
    if (actual !== String(entry.hash).toLowerCase()) {
      throw new BundleSignatureError(`${file.path}: digest mismatch (the file differs from the signed one)`);
    }
    signed.delete(file.path);
  }
  if (signed.size > 0) {
    throw new BundleSignatureError(`file(s) ${[...signed.keys()].join(', ')} specified in bundle signatures but not found in the target bundle`);
  }
}

/** Go's filepath.Match patterns: `*` and `?` never cross a "/", `[...]` classes, `\` escapes. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRegExp(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return /$^/; // a malformed pattern matches nothing, as filepath.Match reports ErrBadPattern
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^/' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`;
      i = end;
    } else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export interface SigningOptions {
  /** Default RS256, as `opa build --signing-alg`. */
  algorithm?: SigningAlgorithm;
  /** Written as the JWS `kid` header and OPA's deprecated `keyid` claim. */
  keyId?: string;
  scope?: string;
  /** Extra claims, like `opa build --claims-file`. */
  claims?: Record<string, unknown>;
  /** Digest for each file; default SHA-256 as OPA. */
  hashAlgorithm?: HashAlgorithm;
  /** Glob patterns of files left out of the signed list (they must then be excluded when verifying too). */
  excludeFiles?: string[];
}

/**
 * Signs a bundle's files: returns the files with a fresh `.signatures.json` (any old one replaced).
 * `privateKey` is a PEM private key (RSA, EC, Ed25519) or, for HS algorithms, the shared secret.
 */
export async function signBundleFiles(files: BundleFile[], privateKey: string, opts: SigningOptions = {}): Promise<BundleFile[]> {
  const algorithm = opts.algorithm ?? 'RS256';
  const hashAlgorithm = opts.hashAlgorithm ?? 'SHA-256';
  const excluded = (opts.excludeFiles ?? []).map(globToRegExp);
  const content = files.filter((f) => !isSignaturesFile(f.path));
  const payload: SignaturePayload = {
    files: content
      .filter((f) => !excluded.some((re) => re.test(f.path)))
      .map((f) => ({ name: f.path, hash: hashBundleFile(f.path, f.data, hashAlgorithm), algorithm: hashAlgorithm })),
    ...(opts.keyId ? { keyid: opts.keyId } : {}),
    ...(opts.scope ? { scope: opts.scope } : {}),
    ...opts.claims,
  };
  let key: KeyObject;
  try {
    key = algorithm.startsWith('HS') ? createSecretKey(Buffer.from(privateKey, 'utf8')) : createPrivateKey(privateKey);
  } catch (err) {
    throw new BundleSignatureError(`signing key is not a usable PEM private key: ${(err as Error).message}`);
  }
  const token = await new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ alg: algorithm, typ: 'JWT', ...(opts.keyId ? { kid: opts.keyId } : {}) })
    .sign(key);
  const signatures = Buffer.from(JSON.stringify({ signatures: [token] }, null, 1));
  return [...content, { path: signaturesFileName, data: signatures }];
}

/** OPA's `bundles.<name>.signing` block. */
export interface BundleSigningConfig {
  keyid?: string;
  scope?: string;
  exclude_files?: string[];
  allow_unsigned_delta_bundles?: boolean;
}

/**
 * Joins a bundle's `signing` block with the top-level `keys` as OPA does at start-up: no block means the bundle
 * must be unsigned; a block with no keys at all, or naming a missing key, is a configuration error.
 */
export function verificationConfigFor(
  bundleName: string,
  signing: BundleSigningConfig | undefined,
  keys: Record<string, { key: string; algorithm?: string; scope?: string }> = {},
): VerificationConfig | undefined {
  if (!signing) return undefined;
  if (Object.keys(keys).length === 0 && !signing.keyid) throw new Error(`bundle ${bundleName}: signing is configured but no verification keys are`);
  if (signing.keyid && !Object.hasOwn(keys, signing.keyid)) throw new Error(`bundle ${bundleName}: signing key id ${signing.keyid} not found in keys`);
  const checked: Record<string, KeyConfig> = {};
  for (const [id, k] of Object.entries(keys)) {
    const algorithm = k.algorithm ?? 'RS256';
    if (!isSigningAlgorithm(algorithm)) throw new Error(`keys.${id}: unsupported algorithm ${JSON.stringify(algorithm)} (one of ${signingAlgorithms.join(', ')})`);
    checked[id] = { key: k.key, algorithm, scope: k.scope };
  }
  return {
    keys: checked,
    keyId: signing.keyid,
    scope: signing.scope,
    excludeFiles: signing.exclude_files,
    allowUnsignedDeltaBundles: signing.allow_unsigned_delta_bundles,
  };
}
