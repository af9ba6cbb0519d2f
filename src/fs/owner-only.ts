// Files and directories Verdict creates hold decisions, bundles and compiled policies: readable by their owner
// only (files 0600, directories 0700), whatever the umask allows. A directory that already exists is left as
// it is (it may be shared, such as /var/lib or the working directory); files Verdict owns are tightened.
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';

export const ownerOnlyFileMode = 0o600;
export const ownerOnlyDirMode = 0o700;

/** mkdir -p where every directory created is 0700. */
export function makeOwnerOnlyDirSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: ownerOnlyDirMode });
}

export async function makeOwnerOnlyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: ownerOnlyDirMode });
}

/** Creates `file` empty with mode 0600 if it does not exist; an existing file is neither truncated nor changed. */
export function createOwnerOnlyFileSync(file: string): void {
  closeSync(openSync(file, 'a', ownerOnlyFileMode));
}

/**
 * Takes group and other permissions away from an existing file (one written by an older version, or by hand).
 * Missing files are fine. Throws when the file stays readable by others, naming the file and its mode.
 */
export function tightenFileSync(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(file, mode & 0o700);
  } catch (err) {
    throw new Error(`${file} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}) and cannot be made owner-only: ${(err as Error).message}`);
  }
}

/** Writes a whole file; a new file is created 0600, an existing one is made owner-only before it is filled. */
export async function writeOwnerOnlyFile(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(file, 'w', ownerOnlyFileMode);
  try {
    await handle.chmod(ownerOnlyFileMode);
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}
