// `verdict sign`: read a bundle (directory or .tar.gz), sign it, write a .tar.gz that OPA and Verdict accept.
// The CLI parses flags (named like `opa build`'s) and calls signBundle; this module does the file work.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { ownerOnlyFileMode } from '../fs/owner-only.js';
import { readBundleArchive, readBundleDirectory, writeBundleArchive } from './files.js';
import { signBundleFiles, isSigningAlgorithm, signingAlgorithms, type SigningOptions } from './signing.js';

export interface SignBundleOptions {
  /** A bundle directory or .tar.gz. */
  input: string;
  /** Where the signed .tar.gz goes. */
  output: string;
  /** `--signing-key`: path of a PEM private key, or for HS algorithms the secret itself (as `opa build`). */
  signingKey: string;
  /** `--signing-alg`, default RS256. */
  algorithm?: string;
  /** `--key-id`: the `kid` OPA's verification picks the key by (OPA's own default is "default"). */
  keyId?: string;
  /** `--scope`. */
  scope?: string;
  /** `--claims-file`: JSON object of extra claims. */
  claimsFile?: string;
  /** `--exclude-files`: globs left unsigned. */
  excludeFiles?: string[];
}

/** Signs a bundle; returns the signed file names. */
export async function signBundle(options: SignBundleOptions): Promise<string[]> {
  const algorithm = options.algorithm ?? 'RS256';
  if (!isSigningAlgorithm(algorithm)) throw new Error(`unsupported signing algorithm ${algorithm} (one of ${signingAlgorithms.join(', ')})`);
  const files = (await stat(options.input)).isDirectory()
    ? await readBundleDirectory(options.input)
    : await readBundleArchive(await readFile(options.input));
  const key = algorithm.startsWith('HS') ? await secretOrFile(options.signingKey) : await readFile(options.signingKey, 'utf8');
  let claims: Record<string, unknown> | undefined;
  if (options.claimsFile) {
    const parsed: unknown = JSON.parse(await readFile(options.claimsFile, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${options.claimsFile} must hold a JSON object of claims`);
    claims = parsed as Record<string, unknown>;
  }
  const signingOptions: SigningOptions = { algorithm, keyId: options.keyId ?? 'default', scope: options.scope, claims, excludeFiles: options.excludeFiles };
  const signed = await signBundleFiles(files, key, signingOptions);
  // As `verdict build`: a new file is owner-only, an existing one keeps its mode.
  await writeFile(options.output, await writeBundleArchive(signed), { mode: ownerOnlyFileMode });
  return signed.filter((f) => f.path !== '.signatures.json').map((f) => f.path);
}

// Like `opa build --signing-key` for HMAC: a path to an existing file is read, anything else is the secret.
async function secretOrFile(value: string): Promise<string> {
  try {
    return await readFile(value, 'utf8');
  } catch {
    return value;
  }
}
