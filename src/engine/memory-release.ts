// Giving back the memory a large data load leaves behind. Activating a large bundle allocates several times
// its size for a while (the bundle's text, the parsed document, the pieces loaded into wasm) and drops the
// previous set's instances; V8 keeps the pages that garbage occupied committed, half empty, until its memory
// reducer finds the process idle, which a server answering decisions or polling bundles may never be (measured:
// a worker still held 40 MiB of old space beyond its live objects minutes after activating 20 MB of data).
// One full collection shortly after such a load returns them; it pauses decisions once, for tens of
// milliseconds, against an activation that took seconds.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Loads of at least this much JSON text are followed by a full collection. */
export const LARGE_LOAD_BYTES = 8 << 20;

/** Long enough for the load's caller to drop what it held for it (the bundle's files and text). */
const DELAY_MS = 1000;

let collect: (() => void) | undefined;
let scheduled = false;

/** After a data load of `jsonBytes` of JSON text: a full collection soon, when the load was large. */
export function releaseMemoryAfterLoad(jsonBytes: number): void {
  if (jsonBytes < LARGE_LOAD_BYTES || scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    collector()();
  }, DELAY_MS).unref();
}

function collector(): () => void {
  if (!collect) {
    // V8 gives gc() to the contexts created after the flag is set: a new one, so the server's own global scope
    // does not gain a `gc`.
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

/**
 * The young generation a server thread is given (worker_threads' resourceLimits.maxYoungGenerationSizeMb): V8
 * makes it three semi-spaces, two of them committed (8 MiB here). Left to itself V8 grows them to 16 MiB each
 * while a large activation runs and keeps the 32 MiB resident, nearly empty, afterwards: the largest part of a
 * server's V8 heap with data loaded. A decision's garbage is a few KiB, so scavenges of this size stay cheap:
 * CPU per decision at a fixed rate, side by side, measured within noise of V8's own size at 8 MiB, and about 15 %
 * more at 4 MiB.
 */
export const SERVER_THREAD_YOUNG_GENERATION_MB = 12;
