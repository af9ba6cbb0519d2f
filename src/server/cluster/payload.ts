// The large parts of the workers' messages (a committed change, a snapshot of the running state) travel as
// files in the primary's private directory, and the message through the primary names the file. node:cluster's
// channel deserialises every message in the primary: relaying a bundle of 100 MB of data left the primary
// holding a copy of it as JS objects, and its heap did not shrink afterwards. The file holds the value in
// structured-clone form (v8.serialize, as the channel would), encoded by wire.ts for NumberText and deep data.
// A bundle activation's data goes as JSON text instead: structured clone of 100 MB of data held the sending
// and the receiving worker's event loop for many seconds (walking, serialising, deserialising millions of
// objects), where the text is written in one pass and read back in pieces, answering decisions in between.
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { Bundle } from '../../bundle/bundle.js';
import { readJsonYielding } from '../../json/reader.js';
import { writeJson } from '../../json/writer.js';
import type { Change } from './protocol.js';
import { fromWire, toWire } from './wire.js';

/** Writes `value` to a new file in `dir` (the primary's, owner-only) and returns its path. */
export function writePayload(dir: string, value: unknown): string {
  const path = join(dir, `payload-${randomUUID()}`);
  writeFileSync(path, serialize(toWire(value)), { mode: 0o600 });
  return path;
}

/** The value a payload file holds. */
export function readPayload<T>(path: string): T {
  return fromWire(deserialize(readFileSync(path)) as T);
}

/** Removes a payload file once nobody will read it. */
export function removePayload(path: string): void {
  rmSync(path, { force: true });
}

/** A bundle with its data as JSON text, as a change carries it. */
type TextBundle = Omit<Bundle, 'data'> & { data: string };

/** Writes a committed change; a bundle activation's data as JSON text (see above). */
export function writeChange(dir: string, change: Change): string {
  if (change.kind !== 'bundles') return writePayload(dir, change);
  const bundles: TextBundle[] = change.bundles.map((b) => ({ ...b, data: writeJson(b.data) }));
  return writePayload(dir, { kind: 'bundles', bundles });
}

/** The change a file written by writeChange holds, its bundles' data read back yielding between pieces. */
export async function readChange(path: string): Promise<Change> {
  const change = readPayload<Change | { kind: 'bundles'; bundles: TextBundle[] }>(path);
  if (change.kind !== 'bundles') return change;
  const bundles: Bundle[] = [];
  for (const b of change.bundles as TextBundle[]) bundles.push({ ...b, data: (await readJsonYielding(b.data)) as Record<string, unknown> });
  return { kind: 'bundles', bundles };
}
