// The large parts of the server threads' messages (a committed change, a snapshot of the running state) travel
// as a SharedArrayBuffer holding the value in structured-clone form (v8.serialize, encoded by wire.ts for
// NumberText and deep data). The primary relays the buffer to every replica without reading it, so it never
// holds the data as JS objects, and the bytes exist once however many replicas read them; they are freed when
// the last thread drops the message. Large bundle data is packed (src/json/packed.ts: held as JSON text
// deflated), and its packed parts travel as that text: structured clone of 100 MB of data as objects held the
// sending and the receiving thread's event loop for many seconds (walking, serialising, deserialising millions
// of objects).
import { deserialize, serialize } from 'node:v8';
import { fromWire, toWire } from './wire.js';

/** `value` serialised into a buffer every thread can read. */
export function toPayload(value: unknown): SharedArrayBuffer {
  const bytes = serialize(toWire(value));
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  return shared;
}

/** The value a payload holds. */
export function fromPayload<T>(payload: SharedArrayBuffer): T {
  return fromWire(deserialize(new Uint8Array(payload)) as T);
}
