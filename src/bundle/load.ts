// The checks every bundle goes through whatever its source (download, upload, persisted copy): read the archive
// within limits, then verify its signature (or its absence) against the bundle's signing config. What comes out
// is a list of trusted files for the bundle parser (bundle.ts).
import { readBundleArchive, defaultBundleLimits, type BundleLimits } from './files.js';
import { verifyBundleSignatures, type VerificationConfig, type VerifiedFiles } from './signing.js';

export interface ReadBundleOptions {
  limits?: Partial<BundleLimits>;
  /** The bundle's signing config with the top-level keys; absent: the bundle must be unsigned. */
  signing?: VerificationConfig;
}

export async function readVerifiedBundle(archive: Uint8Array, options: ReadBundleOptions = {}): Promise<VerifiedFiles> {
  const files = await readBundleArchive(archive, { ...defaultBundleLimits, ...options.limits });
  return verifyBundleSignatures(files, options.signing);
}
