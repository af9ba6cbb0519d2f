// A file an adapter's setting names (a CA certificate), read when the settings are checked, so a missing or
// unreadable one stops start-up naming the key rather than failing the first lookup.
import { readFileSync } from 'node:fs';
import { PipConfigError } from './errors.js';

/** The file's bytes; throws PipConfigError naming `where` (the setting's key) when it cannot be read. */
export function readSettingFile(path: string, where: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new PipConfigError(`${where}: cannot read ${path}: ${(err as Error).message}`);
  }
}
