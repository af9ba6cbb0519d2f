// The large parts of the workers' messages (a committed change, a snapshot of the running state) travel as
// files in the primary's private directory, and the message through the primary names the file. node:cluster's
// channel deserialises every message in the primary: relaying a bundle of 100 MB of data left the primary
// holding a copy of it as JS objects, and its heap did not shrink afterwards. The file holds the value in
// structured-clone form (v8.serialize, as the channel would), encoded by wire.ts for NumberText and deep data.
// Large bundle data is packed (src/json/packed.ts: held as JSON text), and its packed parts travel as that
// text: structured clone of 100 MB of data as objects held the sending and the receiving worker's event loop
// for many seconds (walking, serialising, deserialising millions of objects).
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
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
