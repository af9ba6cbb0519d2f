// The large parts of the server threads' messages (a committed change, a snapshot of the running state) travel
// as a SharedArrayBuffer holding the value in structured-clone form (v8.serialize, encoded by wire.ts for
// NumberText and deep data). The primary relays the buffer to every replica without reading it, so it never
// holds the data as JS objects, and the bytes exist once however many replicas read them; they are freed when
// the last thread drops the message. Large bundle data is packed (src/json/packed.ts: held as JSON text
// deflated), and its packed parts travel as that text: structured clone of 100 MB of data as objects held the
// sending and the receiving thread's event loop for many seconds (walking, serialising, deserialising millions
// of objects). The deflated text itself lies in shared memory (packed.ts's slabs): the payload names the slabs
// and where in them each part lies, and the message carries the slabs themselves, which every thread then
// reads in place, so the process holds a document's deflated text once, not once more per message.
import { deserialize, serialize } from 'node:v8';
import { fromWire, toWire } from './wire.js';

/** A value as it crosses between threads: its serialised form, and the shared slabs it refers to. */
export interface Payload {
  bytes: SharedArrayBuffer;
  slabs: SharedArrayBuffer[];
}

/** `value` serialised into a buffer every thread can read. */
export function toPayload(value: unknown): Payload {
  const slabs: SharedArrayBuffer[] = [];
  const bytes = serialize(toWire(value, slabs));
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  return { bytes: shared, slabs };
}

/** The value a payload holds. */
export function fromPayload<T>(payload: Payload): T {
  return fromWire(deserialize(new Uint8Array(payload.bytes)) as T, payload.slabs);
}
